package mls

import (
	"bytes"
	"errors"
	"fmt"
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
