package mls

import (
	"errors"
	"fmt"
)

// Extension types (RFC 9420 section 17.3).
const (
	extApplicationID        uint16 = 1
	extRatchetTree          uint16 = 2
	extRequiredCapabilities uint16 = 3
	extExternalPub          uint16 = 4
	extExternalSenders      uint16 = 5
)

// Proposal types (RFC 9420 section 17.4).
const (
	proposalAdd                    uint16 = 1
	proposalUpdate                 uint16 = 2
	proposalRemove                 uint16 = 3
	proposalPSK                    uint16 = 4
	proposalReInit                 uint16 = 5
	proposalExternalInit           uint16 = 6
	proposalGroupContextExtensions uint16 = 7
)

// Wire formats, content types and sender types (RFC 9420 section 6).
const (
	wireFormatPublicMessage  uint16 = 1
	wireFormatPrivateMessage uint16 = 2
	wireFormatWelcome        uint16 = 3
	wireFormatGroupInfo      uint16 = 4
	wireFormatKeyPackage     uint16 = 5

	contentApplication uint8 = 1
	contentProposal    uint8 = 2
	contentCommit      uint8 = 3

	senderMember            uint8 = 1
	senderExternal          uint8 = 2
	senderNewMemberProposal uint8 = 3
	senderNewMemberCommit   uint8 = 4
)

// maxMessageSize bounds every MLS structure this package parses.
const maxMessageSize = 1 << 20

var errTooLarge = errors.New("message too large")

// checkVersion reads a ProtocolVersion and fails r unless it is MLS 1.0.
func (r *reader) checkVersion() {
	if v := r.u16(); v != protocolVersionMLS10 && r.err == nil {
		r.fail(fmt.Errorf("unsupported protocol version %d", v))
	}
}

// checkSuite reads a CipherSuite and fails r unless it is the one this
// package implements.
func (r *reader) checkSuite() {
	if cs := r.u16(); cs != CipherSuite && r.err == nil {
		r.fail(fmt.Errorf("unsupported cipher suite %d", cs))
	}
}

// pskID is PreSharedKeyID; DAVE never uses pre-shared keys, but Welcome and
// proposals carry the structure.
type pskID struct {
	typ     uint8
	id      []byte // external
	usage   uint8  // resumption
	groupID []byte // resumption
	epoch   uint64 // resumption
	nonce   []byte
}

func (p *pskID) marshal(w *writer) {
	w.u8(p.typ)
	if p.typ == 1 {
		w.opaque(p.id)
	} else {
		w.u8(p.usage)
		w.opaque(p.groupID)
		w.u64(p.epoch)
	}
	w.opaque(p.nonce)
}

func (p *pskID) unmarshal(r *reader) {
	p.typ = r.u8()
	switch p.typ {
	case 1:
		p.id = r.opaque()
	case 2:
		p.usage = r.u8()
		p.groupID = r.opaque()
		p.epoch = r.u64()
	default:
		r.fail(fmt.Errorf("invalid psk type %d", p.typ))
	}
	p.nonce = r.opaque()
}

// Proposal is an MLS proposal. Add and Remove are what DAVE uses; Update,
// PreSharedKey and GroupContextExtensions are applied too. The other types are parsed so messages decode,
// and refused when a commit would apply them.
type Proposal struct {
	Type       uint16
	KeyPackage *KeyPackage // add
	LeafNode   *LeafNode   // update
	Removed    uint32      // remove
	psk        *pskID      // psk
	extensions []Extension // group_context_extensions
	body       []byte      // types other than add, update and remove, as encoded
}

func (p *Proposal) marshal(w *writer) {
	w.u16(p.Type)
	switch p.Type {
	case proposalAdd:
		p.KeyPackage.marshal(w)
	case proposalUpdate:
		p.LeafNode.marshal(w)
	case proposalRemove:
		w.u32(p.Removed)
	default:
		w.raw(p.body)
	}
}

func (p *Proposal) unmarshal(r *reader) {
	p.Type = r.u16()
	start := r.b
	switch p.Type {
	case proposalAdd:
		p.KeyPackage = new(KeyPackage)
		p.KeyPackage.unmarshal(r)
	case proposalUpdate:
		p.LeafNode = new(LeafNode)
		p.LeafNode.unmarshal(r)
	case proposalRemove:
		p.Removed = r.u32()
	case proposalPSK:
		p.psk = new(pskID)
		p.psk.unmarshal(r)
	case proposalReInit:
		r.opaque()
		r.u16()
		r.u16()
		unmarshalExtensions(r)
	case proposalExternalInit:
		r.opaque()
	case proposalGroupContextExtensions:
		p.extensions = unmarshalExtensions(r)
	default:
		r.fail(fmt.Errorf("unknown proposal type %d", p.Type))
	}
	if r.err == nil && p.Type > proposalRemove {
		p.body = start[:len(start)-len(r.b)]
	}
}

const (
	proposalOrRefProposal uint8 = 1
	proposalOrRefRef      uint8 = 2
)

// proposalOrRef is a commit's proposal: inline, or by reference to one sent
// before in the same epoch.
type proposalOrRef struct {
	proposal *Proposal
	ref      []byte
}

// commit is Commit (RFC 9420 section 12.4).
type commit struct {
	proposals []proposalOrRef
	path      *updatePath
}

func (c *commit) marshal(w *writer) {
	w.vector(func(w *writer) {
		for _, p := range c.proposals {
			if p.proposal != nil {
				w.u8(proposalOrRefProposal)
				p.proposal.marshal(w)
			} else {
				w.u8(proposalOrRefRef)
				w.opaque(p.ref)
			}
		}
	})
	w.optional(c.path != nil, func(w *writer) { c.path.marshal(w) })
}

func (c *commit) unmarshal(r *reader) {
	r.vector(func(r *reader) {
		switch typ := r.u8(); typ {
		case proposalOrRefProposal:
			p := new(Proposal)
			p.unmarshal(r)
			c.proposals = append(c.proposals, proposalOrRef{proposal: p})
		case proposalOrRefRef:
			c.proposals = append(c.proposals, proposalOrRef{ref: r.opaque()})
		default:
			r.fail(fmt.Errorf("invalid proposal-or-ref type %d", typ))
		}
	})
	r.optional(func(r *reader) {
		c.path = new(updatePath)
		c.path.unmarshal(r)
	})
}

// updatePathNode is UpdatePathNode.
type updatePathNode struct {
	encryptionKey []byte
	secrets       []hpkeCiphertext
}

// updatePath is UpdatePath (RFC 9420 section 7.6).
type updatePath struct {
	leaf  LeafNode
	nodes []updatePathNode
}

func (u *updatePath) marshal(w *writer) {
	u.leaf.marshal(w)
	w.vector(func(w *writer) {
		for _, n := range u.nodes {
			w.opaque(n.encryptionKey)
			w.vector(func(w *writer) {
				for _, s := range n.secrets {
					s.marshal(w)
				}
			})
		}
	})
}

func (u *updatePath) unmarshal(r *reader) {
	u.leaf.unmarshal(r)
	r.vector(func(r *reader) {
		var n updatePathNode
		n.encryptionKey = r.opaque()
		r.vector(func(r *reader) {
			var c hpkeCiphertext
			c.unmarshal(r)
			n.secrets = append(n.secrets, c)
		})
		u.nodes = append(u.nodes, n)
	})
}

// sender is Sender.
type sender struct {
	typ   uint8
	index uint32 // leaf index for members, sender index for external senders
}

func (s *sender) marshal(w *writer) {
	w.u8(s.typ)
	if s.typ == senderMember || s.typ == senderExternal {
		w.u32(s.index)
	}
}

func (s *sender) unmarshal(r *reader) {
	s.typ = r.u8()
	switch s.typ {
	case senderMember, senderExternal:
		s.index = r.u32()
	case senderNewMemberProposal, senderNewMemberCommit:
	default:
		r.fail(fmt.Errorf("invalid sender type %d", s.typ))
	}
}

// framedContent is FramedContent (RFC 9420 section 6).
type framedContent struct {
	groupID           []byte
	epoch             uint64
	sender            sender
	authenticatedData []byte
	contentType       uint8
	application       []byte
	proposal          *Proposal
	commit            *commit
}

func (c *framedContent) marshalBody(w *writer) {
	switch c.contentType {
	case contentApplication:
		w.opaque(c.application)
	case contentProposal:
		c.proposal.marshal(w)
	case contentCommit:
		c.commit.marshal(w)
	}
}

func (c *framedContent) unmarshalBody(r *reader) {
	switch c.contentType {
	case contentApplication:
		c.application = r.opaque()
	case contentProposal:
		c.proposal = new(Proposal)
		c.proposal.unmarshal(r)
	case contentCommit:
		c.commit = new(commit)
		c.commit.unmarshal(r)
	default:
		r.fail(fmt.Errorf("invalid content type %d", c.contentType))
	}
}

func (c *framedContent) marshal(w *writer) {
	w.opaque(c.groupID)
	w.u64(c.epoch)
	c.sender.marshal(w)
	w.opaque(c.authenticatedData)
	w.u8(c.contentType)
	c.marshalBody(w)
}

func (c *framedContent) unmarshal(r *reader) {
	c.groupID = r.opaque()
	c.epoch = r.u64()
	c.sender.unmarshal(r)
	c.authenticatedData = r.opaque()
	c.contentType = r.u8()
	c.unmarshalBody(r)
}

// authData is FramedContentAuthData.
type authData struct {
	signature       []byte
	confirmationTag []byte // commits only
}

func (a *authData) marshal(w *writer, contentType uint8) {
	w.opaque(a.signature)
	if contentType == contentCommit {
		w.opaque(a.confirmationTag)
	}
}

func (a *authData) unmarshal(r *reader, contentType uint8) {
	a.signature = r.opaque()
	if contentType == contentCommit {
		a.confirmationTag = r.opaque()
	}
}

// authenticatedContent is AuthenticatedContent: what signatures, transcript
// hashes and proposal references cover.
type authenticatedContent struct {
	wireFormat uint16
	content    framedContent
	auth       authData
}

func (a *authenticatedContent) marshal(w *writer) {
	w.u16(a.wireFormat)
	a.content.marshal(w)
	a.auth.marshal(w, a.content.contentType)
}

func (a *authenticatedContent) unmarshal(r *reader) {
	a.wireFormat = r.u16()
	a.content.unmarshal(r)
	a.auth.unmarshal(r, a.content.contentType)
}

// tbs is FramedContentTBS; ctx is the serialized GroupContext, included for
// member and new-member-commit senders.
func (a *authenticatedContent) tbs(ctx []byte) []byte {
	return encode(func(w *writer) {
		w.u16(protocolVersionMLS10)
		w.u16(a.wireFormat)
		a.content.marshal(w)
		if t := a.content.sender.typ; t == senderMember || t == senderNewMemberCommit {
			w.raw(ctx)
		}
	})
}

func (a *authenticatedContent) sign(key *SignatureKey, ctx []byte) error {
	sig, err := key.SignWithLabel("FramedContentTBS", a.tbs(ctx))
	if err != nil {
		return err
	}
	a.auth.signature = sig
	return nil
}

func (a *authenticatedContent) verify(pub, ctx []byte) error {
	return VerifyWithLabel(pub, "FramedContentTBS", a.tbs(ctx), a.auth.signature)
}

// proposalRef is the reference by which commits name a proposal message.
func (a *authenticatedContent) proposalRef() []byte {
	return RefHash("MLS 1.0 Proposal Reference", encode(a.marshal))
}

// publicMessage is PublicMessage.
type publicMessage struct {
	content       framedContent
	auth          authData
	membershipTag []byte // member senders only
}

func (m *publicMessage) marshal(w *writer) {
	m.content.marshal(w)
	m.auth.marshal(w, m.content.contentType)
	if m.content.sender.typ == senderMember {
		w.opaque(m.membershipTag)
	}
}

func (m *publicMessage) unmarshal(r *reader) {
	m.content.unmarshal(r)
	m.auth.unmarshal(r, m.content.contentType)
	if m.content.sender.typ == senderMember {
		m.membershipTag = r.opaque()
	}
}

func (m *publicMessage) authenticated() *authenticatedContent {
	return &authenticatedContent{wireFormat: wireFormatPublicMessage, content: m.content, auth: m.auth}
}

// membershipMAC computes the membership tag over AuthenticatedContentTBM.
func membershipMAC(membershipKey []byte, ac *authenticatedContent, ctx []byte) []byte {
	return mac(membershipKey, encode(func(w *writer) {
		w.raw(ac.tbs(ctx))
		ac.auth.marshal(w, ac.content.contentType)
	}))
}

// privateMessage is PrivateMessage.
type privateMessage struct {
	groupID             []byte
	epoch               uint64
	contentType         uint8
	authenticatedData   []byte
	encryptedSenderData []byte
	ciphertext          []byte
}

func (m *privateMessage) marshal(w *writer) {
	w.opaque(m.groupID)
	w.u64(m.epoch)
	w.u8(m.contentType)
	w.opaque(m.authenticatedData)
	w.opaque(m.encryptedSenderData)
	w.opaque(m.ciphertext)
}

func (m *privateMessage) unmarshal(r *reader) {
	m.groupID = r.opaque()
	m.epoch = r.u64()
	m.contentType = r.u8()
	m.authenticatedData = r.opaque()
	m.encryptedSenderData = r.opaque()
	m.ciphertext = r.opaque()
}

// mlsMessage is MLSMessage; exactly one field is set.
type mlsMessage struct {
	public     *publicMessage
	private    *privateMessage
	welcome    *welcome
	groupInfo  *groupInfo
	keyPackage *KeyPackage
}

func (m *mlsMessage) marshal(w *writer) {
	w.u16(protocolVersionMLS10)
	switch {
	case m.public != nil:
		w.u16(wireFormatPublicMessage)
		m.public.marshal(w)
	case m.private != nil:
		w.u16(wireFormatPrivateMessage)
		m.private.marshal(w)
	case m.welcome != nil:
		w.u16(wireFormatWelcome)
		m.welcome.marshal(w)
	case m.groupInfo != nil:
		w.u16(wireFormatGroupInfo)
		m.groupInfo.marshal(w)
	case m.keyPackage != nil:
		w.u16(wireFormatKeyPackage)
		m.keyPackage.marshal(w)
	}
}

func (m *mlsMessage) unmarshal(r *reader) {
	r.checkVersion()
	if r.err != nil {
		return
	}
	switch wf := r.u16(); wf {
	case wireFormatPublicMessage:
		m.public = new(publicMessage)
		m.public.unmarshal(r)
	case wireFormatPrivateMessage:
		m.private = new(privateMessage)
		m.private.unmarshal(r)
	case wireFormatWelcome:
		m.welcome = new(welcome)
		m.welcome.unmarshal(r)
	case wireFormatGroupInfo:
		m.groupInfo = new(groupInfo)
		m.groupInfo.unmarshal(r)
	case wireFormatKeyPackage:
		m.keyPackage = new(KeyPackage)
		m.keyPackage.unmarshal(r)
	default:
		r.fail(fmt.Errorf("unknown wire format %d", wf))
	}
}

// parseMLSMessage decodes one MLSMessage that fills b exactly.
func parseMLSMessage(b []byte) (*mlsMessage, error) {
	if len(b) > maxMessageSize {
		return nil, errTooLarge
	}
	m := new(mlsMessage)
	if err := decode(b, "mls message", m.unmarshal); err != nil {
		return nil, err
	}
	return m, nil
}
