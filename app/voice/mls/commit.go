package mls

import "errors"

// CommitResult is what Commit produces for the delivery service.
type CommitResult struct {
	// Commit is the commit as an MLSMessage (PublicMessage).
	Commit []byte
	// Welcome is the bare Welcome for the added members, nil when none.
	Welcome []byte
}

// Commit commits every stored proposal by reference. The group stays in its
// epoch until the commit comes back through ProcessCommit; a path is included
// only when the proposals require one (adds alone do not).
func (g *Group) Commit() (*CommitResult, error) {
	next := g.clone()
	props := g.proposals
	ap, err := g.applyProposals(props, g.me)
	if err != nil {
		return nil, err
	}
	if ap.removedMe {
		return nil, errors.New("cannot commit a proposal that removes this member")
	}
	next.tree = ap.tree
	psk, err := pskSecret(ap.psks, g.lookupPSK)
	if err != nil {
		return nil, err
	}
	newCtx := g.ctx
	newCtx.epoch++
	newCtx.extensions = ap.extensions
	commitSecret := make([]byte, hashSize)
	var cp *createdPath
	c := &commit{}
	for _, p := range props {
		c.proposals = append(c.proposals, proposalOrRef{ref: p.ref})
	}
	if ap.needPath {
		tmpl := g.tree.leaf(g.me)
		cp, err = next.tree.createUpdatePath(g.me, leafTemplate{
			signatureKey: g.sigKey,
			credential:   tmpl.Credential,
			capabilities: tmpl.Capabilities,
			extensions:   tmpl.Extensions,
		}, &newCtx, ap.added)
		if err != nil {
			return nil, err
		}
		c.path = cp.path
		commitSecret = cp.commitSecret
		for x, k := range cp.keys {
			next.keys[x] = k
		}
	} else {
		newCtx.treeHash = next.tree.rootHash()
	}
	next.keys.prune(next.tree)

	ac := &authenticatedContent{
		wireFormat: wireFormatPublicMessage,
		content: framedContent{
			groupID:     g.ctx.groupID,
			epoch:       g.ctx.epoch,
			sender:      sender{typ: senderMember, index: g.me},
			contentType: contentCommit,
			commit:      c,
		},
	}
	oldCtx := g.ctx.bytes()
	if err := ac.sign(g.sigKey, oldCtx); err != nil {
		return nil, err
	}
	next.enterEpoch(ac, newCtx, g.secrets.initSecret, commitSecret, psk)
	ac.auth.confirmationTag = mac(next.secrets.confirmationKey, next.ctx.confirmedTranscriptHash)
	next.interim = interimTranscriptHash(next.ctx.confirmedTranscriptHash, ac.auth.confirmationTag)
	pm, err := protectPublic(ac, g.secrets.membershipKey, oldCtx)
	if err != nil {
		return nil, err
	}
	res := &CommitResult{Commit: encode((&mlsMessage{public: pm}).marshal)}
	if len(ap.added) > 0 {
		w, err := next.welcome(ac.auth.confirmationTag, ap, cp, psk)
		if err != nil {
			return nil, err
		}
		res.Welcome = encode(w.marshal)
	}
	g.pending = append(g.pending, pendingCommit{message: res.Commit, next: next})
	return res, nil
}

// welcome builds the Welcome for the members a commit added.
func (g *Group) welcome(confirmationTag []byte, ap *applied, cp *createdPath, pskSecret []byte) (*welcome, error) {
	gi := &groupInfo{
		context:         g.ctx,
		extensions:      []Extension{{Type: extRatchetTree, Data: g.tree.bytes()}},
		confirmationTag: confirmationTag,
		signer:          g.me,
	}
	if err := gi.sign(g.sigKey); err != nil {
		return nil, err
	}
	members := make([]welcomeMember, len(ap.added))
	for i, leaf := range ap.added {
		members[i].keyPackage = ap.addedKPs[i]
		if cp != nil {
			members[i].pathSecret = cp.pathSecrets[commonAncestor(leafNode(leaf), leafNode(g.me))]
		}
	}
	return sealWelcome(gi, g.secrets.joinerSecret, pskSecret, ap.psks, members)
}
