package mls

import (
	"bytes"
	"crypto/hmac"
	"crypto/hpke"
	"errors"
	"fmt"
	"math"
	"slices"
)

var (
	// ErrWrongEpoch reports a message for an epoch other than the group's.
	ErrWrongEpoch = errors.New("message is for another epoch")
	// ErrWrongGroup reports a message for another group.
	ErrWrongGroup = errors.New("message is for another group")
	// ErrUnknownSender reports a sender the group does not know.
	ErrUnknownSender = errors.New("unknown sender")
	// ErrUnknownProposal reports a commit that references a proposal the group
	// has not received.
	ErrUnknownProposal = errors.New("commit references an unknown proposal")
	// ErrRemoved reports a commit that removed this member from the group.
	ErrRemoved = errors.New("this member was removed from the group")
	// ErrUnsupported reports a valid MLS feature this package leaves out
	// because DAVE never uses it (pre-shared keys, re-initialisation, ...).
	ErrUnsupported = errors.New("unsupported MLS feature")
	// ErrNotInWelcome reports a Welcome that is not for this key package.
	ErrNotInWelcome = errNotInWelcome

	errConfirmationTag = errors.New("confirmation tag does not match")
	errTreeHash        = errors.New("ratchet tree does not match the group's tree hash")
	errNoTree          = errors.New("welcome carries no ratchet tree and none was given")
)

// Config holds what a group accepts beyond or short of RFC 9420's defaults.
// DAVE sets the three restrictions and no pre-shared keys.
type Config struct {
	// ExternalProposalsOnly refuses proposals from members and proposals a
	// commit carries inline rather than by reference.
	ExternalProposalsOnly bool
	// UniqueIdentities refuses any epoch in which two leaves share a basic
	// credential identity.
	UniqueIdentities bool
	// AcceptAdd, when set, vets the credential identity of each proposed member.
	AcceptAdd func(identity []byte) error
	// ExternalPSKs are the pre-shared keys the member holds, by PSK ID.
	ExternalPSKs map[string][]byte
}

// ExternalSender is an entry of the external_senders group extension.
type ExternalSender struct {
	SignatureKey []byte
	Credential   Credential
}

func (e *ExternalSender) marshal(w *writer) {
	w.opaque(e.SignatureKey)
	e.Credential.marshal(w)
}

func (e *ExternalSender) unmarshal(r *reader) {
	e.SignatureKey = r.opaque()
	e.Credential.unmarshal(r)
}

// Bytes encodes one ExternalSender.
func (e *ExternalSender) Bytes() []byte { return encode(e.marshal) }

// ParseExternalSender decodes one ExternalSender.
func ParseExternalSender(b []byte) (*ExternalSender, error) {
	e := new(ExternalSender)
	if err := decode(b, "external sender", e.unmarshal); err != nil {
		return nil, err
	}
	return e, nil
}

// ExternalSendersExtension builds the external_senders group extension.
func ExternalSendersExtension(senders ...ExternalSender) Extension {
	return Extension{Type: extExternalSenders, Data: encode(func(w *writer) {
		w.vector(func(w *writer) {
			for _, s := range senders {
				s.marshal(w)
			}
		})
	})}
}

// ExternalSenders lists the group's external senders.
func (g *Group) ExternalSenders() ([]ExternalSender, error) {
	return externalSenders(g.ctx.extensions)
}

func externalSenders(exts []Extension) ([]ExternalSender, error) {
	e, ok := findExtension(exts, extExternalSenders)
	if !ok {
		return nil, nil
	}
	var out []ExternalSender
	err := decode(e.Data, "external senders", func(r *reader) {
		r.vector(func(r *reader) {
			var s ExternalSender
			s.unmarshal(r)
			out = append(out, s)
		})
	})
	return out, err
}

// KeyPackageBundle is a key package with the private keys behind it.
type KeyPackageBundle struct {
	KeyPackage *KeyPackage
	initKey    hpke.PrivateKey
	leafKey    hpke.PrivateKey
	sigKey     *SignatureKey
}

// NewKeyPackageBundle makes a key package with a basic credential for identity,
// the capabilities DAVE expects and the widest lifetime.
func NewKeyPackageBundle(sigKey *SignatureKey, identity []byte) (*KeyPackageBundle, error) {
	initKey, err := generateHPKEKey()
	if err != nil {
		return nil, err
	}
	leafKey, err := generateHPKEKey()
	if err != nil {
		return nil, err
	}
	kp := &KeyPackage{
		InitKey: initKey.PublicKey().Bytes(),
		LeafNode: LeafNode{
			EncryptionKey: leafKey.PublicKey().Bytes(),
			SignatureKey:  sigKey.PublicKey(),
			Credential:    Credential{Type: credentialBasic, Identity: identity},
			Capabilities: Capabilities{
				Versions:     []uint16{protocolVersionMLS10},
				CipherSuites: []uint16{CipherSuite},
				Credentials:  []uint16{credentialBasic},
			},
			Source:   leafSourceKeyPackage,
			NotAfter: math.MaxUint64,
		},
	}
	if err := kp.LeafNode.sign(sigKey, nil, 0); err != nil {
		return nil, err
	}
	sig, err := sigKey.SignWithLabel("KeyPackageTBS", encode(kp.marshalTBS))
	if err != nil {
		return nil, err
	}
	kp.Signature = sig
	return &KeyPackageBundle{KeyPackage: kp, initKey: initKey, leafKey: leafKey, sigKey: sigKey}, nil
}

// keyPackageBundleFromKeys rebuilds a bundle from its serialized private
// keys, for a key package made elsewhere (the passive-client vectors).
func keyPackageBundleFromKeys(kp *KeyPackage, initPriv, leafPriv []byte, sigKey *SignatureKey) (*KeyPackageBundle, error) {
	initKey, err := parseHPKEPrivateKey(initPriv)
	if err != nil {
		return nil, err
	}
	leafKey, err := parseHPKEPrivateKey(leafPriv)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(initKey.PublicKey().Bytes(), kp.InitKey) || !bytes.Equal(leafKey.PublicKey().Bytes(), kp.LeafNode.EncryptionKey) {
		return nil, errors.New("private keys do not match the key package")
	}
	return &KeyPackageBundle{KeyPackage: kp, initKey: initKey, leafKey: leafKey, sigKey: sigKey}, nil
}

// cachedProposal is a proposal received in the current epoch, kept for commits
// that reference it.
type cachedProposal struct {
	ref      []byte
	proposal *Proposal
	sender   sender
}

// pendingCommit is a commit this member made but the group has not confirmed.
type pendingCommit struct {
	message []byte
	next    *Group
}

// Group is one member's state of an MLS group. It is not safe for concurrent use.
type Group struct {
	cfg       Config
	ctx       groupContext
	tree      *ratchetTree
	me        uint32
	sigKey    *SignatureKey
	keys      nodeKeys
	secrets   epochSecrets
	interim   []byte
	proposals []cachedProposal
	// pending holds this member's commits for the current epoch; the
	// delivery service may confirm any of them, not only the last.
	pending []pendingCommit
	// resumption holds recent epochs' resumption PSKs by epoch.
	resumption map[uint64][]byte
}

// CreateGroup starts a group with the bundle's owner as its only member, at
// epoch 0 (RFC 9420 section 11).
func CreateGroup(groupID []byte, b *KeyPackageBundle, extensions []Extension, cfg Config) (*Group, error) {
	leaf := b.KeyPackage.LeafNode
	tree := &ratchetTree{nodes: []node{{leaf: &leaf}}}
	g := &Group{
		cfg:    cfg,
		ctx:    groupContext{groupID: groupID, extensions: extensions, confirmedTranscriptHash: []byte{}},
		tree:   tree,
		sigKey: b.sigKey,
		keys:   nodeKeys{0: b.leafKey},
	}
	if _, err := externalSenders(extensions); err != nil {
		return nil, err
	}
	g.ctx.treeHash = tree.rootHash()
	g.secrets = fromEpochSecret(randomBytes(hashSize))
	g.rememberResumption()
	g.interim = interimTranscriptHash(g.ctx.confirmedTranscriptHash, mac(g.secrets.confirmationKey, g.ctx.confirmedTranscriptHash))
	return g, nil
}

// GroupID returns the group's ID.
func (g *Group) GroupID() []byte { return slices.Clone(g.ctx.groupID) }

// Epoch returns the current epoch.
func (g *Group) Epoch() uint64 { return g.ctx.epoch }

// LeafIndex returns this member's leaf index.
func (g *Group) LeafIndex() uint32 { return g.me }

// EpochAuthenticator returns the current epoch's authenticator.
func (g *Group) EpochAuthenticator() []byte { return slices.Clone(g.secrets.epochAuthenticator) }

// Export runs the MLS exporter for the current epoch.
func (g *Group) Export(label string, context []byte, length int) ([]byte, error) {
	return exportSecret(g.secrets.exporterSecret, label, context, length)
}

// Member is one leaf of the group.
type Member struct {
	LeafIndex uint32
	Identity  []byte
}

// Members lists the group's members in leaf order.
func (g *Group) Members() []Member {
	var out []Member
	for i := range g.tree.leafCount() {
		if l := g.tree.leaf(i); l != nil {
			out = append(out, Member{LeafIndex: i, Identity: l.Credential.Identity})
		}
	}
	return out
}

// clone copies the state that processing a message may change.
func (g *Group) clone() *Group {
	c := *g
	c.tree = g.tree.clone()
	c.keys = g.keys.clone()
	c.proposals = slices.Clone(g.proposals)
	return &c
}

// StoreProposal verifies a proposal MLSMessage (from the external sender or a
// member) for the current epoch and keeps it for the next commit. It returns
// the proposal's reference.
func (g *Group) StoreProposal(msg []byte) ([]byte, error) {
	m, err := parseMLSMessage(msg)
	if err != nil {
		return nil, err
	}
	ac, err := g.authenticate(m)
	if err != nil {
		return nil, err
	}
	if ac.content.contentType != contentProposal {
		return nil, errors.New("message is not a proposal")
	}
	p := ac.content.proposal
	if err := g.checkProposal(p, ac.content.sender); err != nil {
		return nil, err
	}
	ref := ac.proposalRef()
	g.proposals = append(g.proposals, cachedProposal{ref: ref, proposal: p, sender: ac.content.sender})
	return ref, nil
}

// RevokeProposal forgets a stored proposal.
func (g *Group) RevokeProposal(ref []byte) error {
	i := slices.IndexFunc(g.proposals, func(c cachedProposal) bool { return bytes.Equal(c.ref, ref) })
	if i < 0 {
		return ErrUnknownProposal
	}
	g.proposals = slices.Delete(g.proposals, i, i+1)
	return nil
}

// PendingProposals reports how many proposals await a commit.
func (g *Group) PendingProposals() int { return len(g.proposals) }

// authenticate checks a handshake message's group, epoch, sender, membership
// tag and signature, and returns its content.
func (g *Group) authenticate(m *mlsMessage) (*authenticatedContent, error) {
	var ac *authenticatedContent
	switch {
	case m.public != nil:
		ac = m.public.authenticated()
	case m.private != nil:
		if !bytes.Equal(m.private.groupID, g.ctx.groupID) {
			return nil, ErrWrongGroup
		}
		if m.private.epoch != g.ctx.epoch {
			return nil, fmt.Errorf("%w: got %d, group at %d", ErrWrongEpoch, m.private.epoch, g.ctx.epoch)
		}
		var err error
		if ac, err = unprotectPrivate(m.private, g.secretTree(), g.secrets.senderDataSecret); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("not a handshake message")
	}
	c := &ac.content
	if !bytes.Equal(c.groupID, g.ctx.groupID) {
		return nil, ErrWrongGroup
	}
	if c.epoch != g.ctx.epoch {
		return nil, fmt.Errorf("%w: got %d, group at %d", ErrWrongEpoch, c.epoch, g.ctx.epoch)
	}
	if c.contentType == contentApplication {
		return nil, errors.New("application message where a handshake was expected")
	}
	ctx := g.ctx.bytes()
	var pub []byte
	switch c.sender.typ {
	case senderMember:
		leaf := g.tree.leaf(c.sender.index)
		if leaf == nil {
			return nil, fmt.Errorf("%w: leaf %d", ErrUnknownSender, c.sender.index)
		}
		if m.public != nil {
			if err := m.public.checkMembershipTag(g.secrets.membershipKey, ctx); err != nil {
				return nil, err
			}
		}
		pub = leaf.SignatureKey
	case senderExternal:
		if m.public == nil {
			return nil, errors.New("external sender used a PrivateMessage")
		}
		senders, err := g.ExternalSenders()
		if err != nil {
			return nil, err
		}
		if int(c.sender.index) >= len(senders) {
			return nil, fmt.Errorf("%w: external sender %d", ErrUnknownSender, c.sender.index)
		}
		if c.contentType != contentProposal {
			return nil, errors.New("external sender may only send proposals")
		}
		pub = senders[c.sender.index].SignatureKey
	default:
		return nil, fmt.Errorf("%w: sender type %d", ErrUnsupported, c.sender.typ)
	}
	if err := ac.verify(pub, ctx); err != nil {
		return nil, err
	}
	return ac, nil
}

func (g *Group) secretTree() secretTree {
	return secretTree{encryptionSecret: g.secrets.encryptionSecret, leaves: g.tree.leafCount()}
}

// checkProposal validates one proposal from sender against the current epoch.
func (g *Group) checkProposal(p *Proposal, s sender) error {
	if g.cfg.ExternalProposalsOnly && s.typ != senderExternal {
		return errors.New("policy admits only external proposals")
	}
	switch p.Type {
	case proposalAdd:
		if err := p.KeyPackage.Validate(); err != nil {
			return err
		}
		if err := p.KeyPackage.LeafNode.checkAgainst(g.ctx.extensions); err != nil {
			return err
		}
		if g.cfg.AcceptAdd != nil {
			if err := g.cfg.AcceptAdd(p.KeyPackage.LeafNode.Credential.Identity); err != nil {
				return fmt.Errorf("add refused: %w", err)
			}
		}
	case proposalRemove:
		if g.tree.leaf(p.Removed) == nil {
			return fmt.Errorf("remove of leaf %d, which is not a member", p.Removed)
		}
	case proposalPSK:
		if len(p.psk.nonce) != hashSize {
			return errors.New("psk nonce has the wrong length")
		}
	case proposalGroupContextExtensions:
		if _, err := externalSenders(p.extensions); err != nil {
			return err
		}
	case proposalUpdate:
		if s.typ != senderMember {
			return errors.New("update from a non-member")
		}
		if p.LeafNode.Source != leafSourceUpdate {
			return errors.New("update leaf node does not come from an update")
		}
		if err := p.LeafNode.validate(g.ctx.groupID, s.index, g.ctx.extensions); err != nil {
			return err
		}
		if !bytes.Equal(p.LeafNode.SignatureKey, g.tree.leaf(s.index).SignatureKey) {
			return errors.New("update changes the signature key")
		}
	default:
		return fmt.Errorf("%w: proposal type %d", ErrUnsupported, p.Type)
	}
	return nil
}

// checkAgainst checks a joining leaf against the group's required capabilities.
func (l *LeafNode) checkAgainst(ctxExtensions []Extension) error {
	if rc, ok := findExtension(ctxExtensions, extRequiredCapabilities); ok {
		return l.checkRequired(rc.Data)
	}
	return nil
}

// applied is the result of applying a commit's proposals to a tree.
type applied struct {
	tree      *ratchetTree
	added     []uint32
	addedKPs  []*KeyPackage
	removedMe bool
	needPath  bool
	psks      []pskID
	// extensions replace the group context's when a proposal says so.
	extensions []Extension
}

// applyProposals applies proposals in RFC 9420 order (updates, removes, adds)
// to a copy of the tree.
func (g *Group) applyProposals(props []cachedProposal, committer uint32) (*applied, error) {
	out := &applied{tree: g.tree.clone(), needPath: len(props) == 0, extensions: g.ctx.extensions}
	byType := func(typ uint16) []cachedProposal {
		return slices.DeleteFunc(slices.Clone(props), func(c cachedProposal) bool { return c.proposal.Type != typ })
	}
	for _, c := range props {
		switch c.proposal.Type {
		case proposalAdd, proposalUpdate, proposalRemove:
		case proposalPSK:
			out.psks = append(out.psks, *c.proposal.psk)
		case proposalGroupContextExtensions:
			out.needPath = true
			out.extensions = c.proposal.extensions
		default:
			return nil, fmt.Errorf("%w: proposal type %d in commit", ErrUnsupported, c.proposal.Type)
		}
	}
	updated := map[uint32]bool{}
	for _, c := range byType(proposalUpdate) {
		out.needPath = true
		if c.sender.index == committer {
			return nil, errors.New("commit covers the committer's own update")
		}
		if updated[c.sender.index] {
			return nil, fmt.Errorf("two updates for leaf %d", c.sender.index)
		}
		updated[c.sender.index] = true
		x := leafNode(c.sender.index)
		l := *c.proposal.LeafNode
		out.tree.nodes[x] = node{leaf: &l}
		for _, p := range directPath(x, out.tree.leafCount()) {
			out.tree.nodes[p] = node{}
		}
	}
	removed := map[uint32]bool{}
	for _, c := range byType(proposalRemove) {
		out.needPath = true
		r := c.proposal.Removed
		if r == committer {
			return nil, errors.New("commit removes its committer")
		}
		if removed[r] || updated[r] {
			return nil, fmt.Errorf("leaf %d both removed and updated, or removed twice", r)
		}
		removed[r] = true
		if r == g.me {
			out.removedMe = true
		}
		if err := out.tree.removeLeaf(r); err != nil {
			return nil, err
		}
	}
	for _, c := range byType(proposalAdd) {
		l := c.proposal.KeyPackage.LeafNode
		i, err := out.tree.addLeaf(&l)
		if err != nil {
			return nil, err
		}
		out.added = append(out.added, i)
		out.addedKPs = append(out.addedKPs, c.proposal.KeyPackage)
	}
	if err := g.checkLeaves(out.tree); err != nil {
		return nil, err
	}
	for i := range out.tree.leafCount() {
		if l := out.tree.leaf(i); l != nil {
			if err := l.checkAgainst(out.extensions); err != nil {
				return nil, fmt.Errorf("leaf %d: %w", i, err)
			}
		}
	}
	return out, nil
}

// checkLeaves enforces key uniqueness and, by policy, identity uniqueness.
func (g *Group) checkLeaves(t *ratchetTree) error {
	sigKeys := map[string]bool{}
	encKeys := map[string]bool{}
	ids := map[string]bool{}
	for i := range t.leafCount() {
		l := t.leaf(i)
		if l == nil {
			continue
		}
		if sigKeys[string(l.SignatureKey)] || encKeys[string(l.EncryptionKey)] {
			return fmt.Errorf("leaf %d repeats a key of another member", i)
		}
		sigKeys[string(l.SignatureKey)] = true
		encKeys[string(l.EncryptionKey)] = true
		if g.cfg.UniqueIdentities {
			if ids[string(l.Credential.Identity)] {
				return fmt.Errorf("leaf %d repeats another member's identity", i)
			}
			ids[string(l.Credential.Identity)] = true
		}
	}
	return nil
}

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

// enterEpoch moves a cloned state into the epoch that ac commits to.
func (g *Group) enterEpoch(ac *authenticatedContent, newCtx groupContext, initSecret, commitSecret, pskSecret []byte) {
	newCtx.confirmedTranscriptHash = confirmedTranscriptHash(g.interim, ac)
	ctxBytes := newCtx.bytes()
	g.ctx = newCtx
	g.secrets = fromJoiner(joinerSecret(initSecret, commitSecret, ctxBytes), pskSecret, ctxBytes)
	g.proposals = nil
	g.pending = nil
	g.rememberResumption()
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

// commonAncestor is the lowest parent whose subtree holds the leaf nodes x
// and y (RFC 9420 appendix C, for two leaves).
func commonAncestor(x, y uint32) uint32 {
	k := uint32(0)
	for x != y {
		x, y = x>>1, y>>1
		k++
	}
	if k == 0 {
		return x
	}
	return x<<k + 1<<(k-1) - 1
}

// ProcessCommit applies a commit MLSMessage: another member's, or this
// member's own once the delivery service confirms it. On error the group is
// unchanged. ErrRemoved means the commit took this member out.
func (g *Group) ProcessCommit(msg []byte) error {
	for _, p := range g.pending {
		if bytes.Equal(msg, p.message) {
			*g = *p.next
			return nil
		}
	}
	m, err := parseMLSMessage(msg)
	if err != nil {
		return err
	}
	ac, err := g.authenticate(m)
	if err != nil {
		return err
	}
	if ac.content.contentType != contentCommit {
		return errors.New("message is not a commit")
	}
	if ac.content.sender.typ != senderMember {
		return fmt.Errorf("%w: commit from sender type %d", ErrUnsupported, ac.content.sender.typ)
	}
	committer := ac.content.sender.index
	if committer == g.me {
		return errors.New("commit claims to come from this member but is none of its pending commits")
	}
	props, err := g.resolveProposals(ac.content.commit, committer)
	if err != nil {
		return err
	}
	ap, err := g.applyProposals(props, committer)
	if err != nil {
		return err
	}
	if ap.removedMe {
		return ErrRemoved
	}
	path := ac.content.commit.path
	if ap.needPath && path == nil {
		return errors.New("commit lacks a required update path")
	}
	psk, err := pskSecret(ap.psks, g.lookupPSK)
	if err != nil {
		return err
	}
	next := g.clone()
	next.tree = ap.tree
	newCtx := g.ctx
	newCtx.epoch++
	newCtx.extensions = ap.extensions
	commitSecret := make([]byte, hashSize)
	if path != nil {
		res, err := next.tree.applyUpdatePath(committer, g.me, next.keys, path, &newCtx, ap.added)
		if err != nil {
			return err
		}
		commitSecret = res.commitSecret
		next.keys = res.keys
	} else {
		newCtx.treeHash = next.tree.rootHash()
	}
	next.keys.prune(next.tree)
	next.enterEpoch(ac, newCtx, g.secrets.initSecret, commitSecret, psk)
	want := mac(next.secrets.confirmationKey, next.ctx.confirmedTranscriptHash)
	if !hmac.Equal(want, ac.auth.confirmationTag) {
		return fmt.Errorf("commit: %w", errConfirmationTag)
	}
	next.interim = interimTranscriptHash(next.ctx.confirmedTranscriptHash, ac.auth.confirmationTag)
	*g = *next
	return nil
}

// resolveProposals turns a commit's proposal list into proposals with senders.
func (g *Group) resolveProposals(c *commit, committer uint32) ([]cachedProposal, error) {
	var out []cachedProposal
	for _, p := range c.proposals {
		if p.proposal != nil {
			if g.cfg.ExternalProposalsOnly {
				return nil, errors.New("commit carries an inline proposal")
			}
			s := sender{typ: senderMember, index: committer}
			if p.proposal.Type == proposalUpdate {
				return nil, errors.New("commit carries an inline update")
			}
			if err := g.checkProposal(p.proposal, s); err != nil {
				return nil, err
			}
			out = append(out, cachedProposal{proposal: p.proposal, sender: s})
			continue
		}
		i := slices.IndexFunc(g.proposals, func(c cachedProposal) bool { return bytes.Equal(c.ref, p.ref) })
		if i < 0 {
			return nil, ErrUnknownProposal
		}
		out = append(out, g.proposals[i])
	}
	return out, nil
}

// JoinGroup joins from a bare Welcome for the bundle's key package. tree is the
// ratchet tree when the Welcome does not carry it, else nil.
func JoinGroup(welcomeMsg []byte, b *KeyPackageBundle, tree []byte, cfg Config) (*Group, error) {
	if len(welcomeMsg) > maxMessageSize {
		return nil, errTooLarge
	}
	w := new(welcome)
	if err := decode(welcomeMsg, "welcome", w.unmarshal); err != nil {
		return nil, err
	}
	return joinFromWelcome(w, b, tree, cfg)
}

func joinFromWelcome(w *welcome, b *KeyPackageBundle, treeBytes []byte, cfg Config) (*Group, error) {
	gs, err := openGroupSecrets(w, b.KeyPackage.Ref(), b.initKey)
	if err != nil {
		return nil, err
	}
	// A joiner holds no resumption secrets of the group, only external PSKs.
	psk, err := pskSecret(gs.psks, (&Group{cfg: cfg}).lookupPSK)
	if err != nil {
		return nil, err
	}
	gi, err := openGroupInfo(w, gs.joinerSecret, psk)
	if err != nil {
		return nil, err
	}
	if ext, ok := findExtension(gi.extensions, extRatchetTree); ok {
		treeBytes = ext.Data
	}
	if treeBytes == nil {
		return nil, errNoTree
	}
	tree, err := parseRatchetTree(treeBytes)
	if err != nil {
		return nil, err
	}
	signer := tree.leaf(gi.signer)
	if signer == nil {
		return nil, fmt.Errorf("%w: group info signer %d", ErrUnknownSender, gi.signer)
	}
	if err := gi.verify(signer.SignatureKey); err != nil {
		return nil, err
	}
	if !bytes.Equal(tree.rootHash(), gi.context.treeHash) {
		return nil, errTreeHash
	}
	if err := tree.validate(gi.context.groupID, gi.context.extensions); err != nil {
		return nil, err
	}
	if _, err := externalSenders(gi.context.extensions); err != nil {
		return nil, err
	}
	me, ok := tree.findLeaf(func(l *LeafNode) bool { return l.equal(&b.KeyPackage.LeafNode) })
	if !ok {
		return nil, errors.New("welcome's tree does not hold this key package's leaf")
	}
	ctxBytes := gi.context.bytes()
	g := &Group{
		cfg:     cfg,
		ctx:     gi.context,
		tree:    tree,
		me:      me,
		sigKey:  b.sigKey,
		keys:    nodeKeys{leafNode(me): b.leafKey},
		secrets: fromJoiner(gs.joinerSecret, psk, ctxBytes),
	}
	g.rememberResumption()
	if err := g.checkLeaves(tree); err != nil {
		return nil, err
	}
	if !hmac.Equal(mac(g.secrets.confirmationKey, gi.context.confirmedTranscriptHash), gi.confirmationTag) {
		return nil, fmt.Errorf("welcome: %w", errConfirmationTag)
	}
	if gs.pathSecret != nil {
		if err := g.installPathSecret(gi.signer, gs.pathSecret); err != nil {
			return nil, err
		}
	}
	g.interim = interimTranscriptHash(gi.context.confirmedTranscriptHash, gi.confirmationTag)
	return g, nil
}

// installPathSecret derives the keys from the common ancestor with the
// committer up its filtered direct path and checks them against the tree.
func (g *Group) installPathSecret(committer uint32, secret []byte) error {
	lca := commonAncestor(leafNode(g.me), leafNode(committer))
	fdp := g.tree.filteredDirectPath(committer)
	k := slices.Index(fdp, lca)
	if k < 0 {
		return errors.New("path secret for a node off the committer's path")
	}
	chain := pathSecretChain(secret, len(fdp)-k)
	for i, p := range fdp[k:] {
		priv, err := nodeKeyFromPathSecret(chain[i])
		if err != nil {
			return err
		}
		if !bytes.Equal(priv.PublicKey().Bytes(), g.tree.nodes[p].encryptionKey()) {
			return fmt.Errorf("path secret does not match node %d", p)
		}
		g.keys[p] = priv
	}
	return nil
}

// NewExternalProposal signs an Add or Remove proposal as external sender
// senderIndex for the given group and epoch, as a delivery service does; it
// returns the MLSMessage and the proposal's reference.
func NewExternalProposal(groupID []byte, epoch uint64, senderIndex uint32, p *Proposal, key *SignatureKey) (msg, ref []byte, err error) {
	if p.Type != proposalAdd && p.Type != proposalRemove {
		return nil, nil, fmt.Errorf("%w: external proposal type %d", ErrUnsupported, p.Type)
	}
	ac := &authenticatedContent{
		wireFormat: wireFormatPublicMessage,
		content: framedContent{
			groupID:     groupID,
			epoch:       epoch,
			sender:      sender{typ: senderExternal, index: senderIndex},
			contentType: contentProposal,
			proposal:    p,
		},
	}
	if err := ac.sign(key, nil); err != nil {
		return nil, nil, err
	}
	pm, err := protectPublic(ac, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	return encode((&mlsMessage{public: pm}).marshal), ac.proposalRef(), nil
}

// AddProposal proposes adding the key package's owner.
func AddProposal(kp *KeyPackage) *Proposal { return &Proposal{Type: proposalAdd, KeyPackage: kp} }

// RemoveProposal proposes removing the member at leaf.
func RemoveProposal(leaf uint32) *Proposal { return &Proposal{Type: proposalRemove, Removed: leaf} }
