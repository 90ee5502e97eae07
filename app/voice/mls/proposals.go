package mls

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

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
