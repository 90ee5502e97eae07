package mls

import "errors"

// Helpers for protocols that embed MLS structures in their own framing, as
// DAVE's voice gateway opcodes do.

// NextMessage splits the first MLSMessage off b, for payloads that
// concatenate MLS messages without lengths between them.
func NextMessage(b []byte) (msg, rest []byte, err error) {
	r := newReader(b)
	var m mlsMessage
	m.unmarshal(r)
	if r.err != nil {
		return nil, nil, r.finish("mls message")
	}
	n := len(b) - len(r.b)
	return b[:n:n], r.b, nil
}

// SplitMessages splits concatenated MLSMessages.
func SplitMessages(b []byte) ([][]byte, error) { return splitAll(b, NextMessage) }

// ReadVector reads one variable-length vector: its body and what follows it.
func ReadVector(b []byte) (body, rest []byte, err error) {
	r := newReader(b)
	body = r.opaque()
	if r.err != nil {
		return nil, nil, r.finish("vector")
	}
	return body, r.b, nil
}

// AppendVector appends body as a variable-length vector.
func AppendVector(dst, body []byte) []byte {
	w := writer{b: dst}
	w.opaque(body)
	return w.b
}

// SplitVectors splits a body of concatenated variable-length vectors, such
// as a list of proposal references.
func SplitVectors(b []byte) ([][]byte, error) { return splitAll(b, ReadVector) }

// splitAll applies next until b is used up and collects what it splits off.
func splitAll(b []byte, next func([]byte) (item, rest []byte, err error)) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		item, rest, err := next(b)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
		b = rest
	}
	return out, nil
}

// CommitSummary is what a delivery service can read from a public commit
// without being a member.
type CommitSummary struct {
	GroupID   []byte
	Epoch     uint64
	Committer uint32 // leaf index
	// ProposalRefs lists the proposals the commit references, in order.
	ProposalRefs [][]byte
	// InlineProposals counts proposals carried inline.
	InlineProposals int
}

// InspectCommit reads the public parts of a commit MLSMessage. It verifies
// nothing: a delivery service uses it to route and track, members verify.
func InspectCommit(msg []byte) (*CommitSummary, error) {
	m, err := parseMLSMessage(msg)
	if err != nil {
		return nil, err
	}
	if m.public == nil || m.public.content.contentType != contentCommit || m.public.content.sender.typ != senderMember {
		return nil, errors.New("not a public commit from a member")
	}
	c := m.public.content
	s := &CommitSummary{GroupID: c.groupID, Epoch: c.epoch, Committer: c.sender.index}
	for _, p := range c.commit.proposals {
		if p.proposal != nil {
			s.InlineProposals++
			continue
		}
		s.ProposalRefs = append(s.ProposalRefs, p.ref)
	}
	return s, nil
}
