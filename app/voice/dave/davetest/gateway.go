// Package davetest simulates the voice gateway's side of DAVE for tests: the
// external sender that signs Add and Remove proposals, and the delivery
// service that picks the winning commit, forwards welcomes and runs
// transitions. Members are anything that handles gateway messages: a
// dave.Session in process, or another implementation behind a subprocess.
//
// It follows the whitepaper's gateway rules closely enough to drive real
// clients; it is not a gateway for production.
package davetest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/mls"
)

// Delivery is one message for one member.
type Delivery struct {
	To  uint64
	Msg dave.Message
}

// proposal is a broadcast proposal not yet committed.
type proposal struct {
	ref    []byte
	msg    []byte
	add    uint64 // user added, 0 for a remove
	remove uint32 // leaf removed
	// removed is the user at the removed leaf when proposed.
	removed uint64
}

// Gateway is the simulated voice gateway of one channel.
type Gateway struct {
	ChannelID uint64
	// HoldCommits makes the gateway keep commits instead of announcing them,
	// as when it waits before deciding (see Revoke).
	HoldCommits bool
	// Held collects the commits kept while HoldCommits is set.
	Held [][]byte

	key         *mls.SignatureKey
	connected   []uint64
	keyPackages map[uint64][]byte
	established bool
	epoch       uint64
	leaves      []uint64 // leaf index to user; 0 is blank
	proposals   []proposal
	transition  uint16
	waiting     map[uint64]bool // members not yet ready for the transition
	// Accept, when set, decides whose commits may win; others are dropped
	// as if they had arrived late.
	Accept func(committer uint64) bool
	// Received and Announced count commits, for tests to assert on.
	Received, Announced int
}

// NewGateway makes a gateway with a fresh external sender key.
func NewGateway(channelID uint64) (*Gateway, error) {
	key, err := mls.GenerateSignatureKey()
	if err != nil {
		return nil, err
	}
	return &Gateway{ChannelID: channelID, key: key, keyPackages: map[uint64][]byte{}}, nil
}

// ExternalSender is the gateway's external sender entry.
func (g *Gateway) ExternalSender() mls.ExternalSender {
	return mls.ExternalSender{SignatureKey: g.key.PublicKey(), Credential: mls.Credential{Type: 1, Identity: []byte("voice gateway")}}
}

// Epoch is the group's epoch as the gateway knows it.
func (g *Gateway) Epoch() uint64 { return g.epoch }

// Members lists the users in the group, by leaf.
func (g *Gateway) Members() []uint64 {
	return slices.DeleteFunc(slices.Clone(g.leaves), func(u uint64) bool { return u == 0 })
}

// LeafOf is the user's leaf index.
func (g *Gateway) LeafOf(user uint64) (uint32, bool) {
	i := slices.Index(g.leaves, user)
	return uint32(i), i >= 0
}

func text(op int, d any) dave.Message {
	raw, err := json.Marshal(d)
	if err != nil {
		panic(err) // only maps and slices of plain values are marshalled
	}
	return dave.Message{Op: op, JSON: raw}
}

func userIDs(users []uint64) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = strconv.FormatUint(u, 10)
	}
	return out
}

// Connect announces a new user to the others and starts its DAVE session.
func (g *Gateway) Connect(user uint64) []Delivery {
	var out []Delivery
	for _, u := range g.connected {
		out = append(out, Delivery{u, text(dave.OpClientsConnect, map[string][]string{"user_ids": userIDs([]uint64{user})})})
	}
	if len(g.connected) > 0 {
		out = append(out, Delivery{user, text(dave.OpClientsConnect, map[string][]string{"user_ids": userIDs(g.connected)})})
	}
	g.connected = append(g.connected, user)
	es := g.ExternalSender()
	out = append(out,
		Delivery{user, text(dave.OpSessionDescription, map[string]int{"dave_protocol_version": dave.ProtocolVersion})},
		Delivery{user, dave.Message{Op: dave.OpExternalSender, Binary: es.Bytes()}},
	)
	return out
}

// Disconnect announces that a user left and proposes its removal, or resets
// the sole remaining member.
func (g *Gateway) Disconnect(user uint64) ([]Delivery, error) {
	g.connected = slices.DeleteFunc(g.connected, func(u uint64) bool { return u == user })
	delete(g.keyPackages, user)
	var out []Delivery
	for _, u := range g.connected {
		out = append(out, Delivery{u, text(dave.OpClientDisconnect, map[string]string{"user_id": strconv.FormatUint(user, 10)})})
	}
	leaf, inGroup := g.LeafOf(user)
	if !inGroup {
		return out, nil
	}
	remaining := slices.DeleteFunc(g.Members(), func(u uint64) bool { return u == user })
	if len(remaining) == 1 {
		return append(out, g.soleMemberReset(remaining[0])...), nil
	}
	more, err := g.propose(mls.RemoveProposal(leaf), 0, leaf, remaining)
	return append(out, more...), err
}

// soleMemberReset drops the group and tells the last member to start over.
func (g *Gateway) soleMemberReset(user uint64) []Delivery {
	g.established = false
	g.epoch = 0
	g.leaves = nil
	g.proposals = nil
	g.waiting = nil
	return []Delivery{
		{user, text(dave.OpPrepareEpoch, map[string]uint64{"protocol_version": dave.ProtocolVersion, "epoch": 1})},
		{user, text(dave.OpPrepareTransition, map[string]uint64{"protocol_version": dave.ProtocolVersion, "transition_id": 0})},
	}
}

// propose signs a proposal for the current epoch and broadcasts it.
func (g *Gateway) propose(p *mls.Proposal, add uint64, remove uint32, to []uint64) ([]Delivery, error) {
	msg, ref, err := mls.NewExternalProposal(binary.BigEndian.AppendUint64(nil, g.ChannelID), g.epoch, 0, p, g.key)
	if err != nil {
		return nil, err
	}
	pr := proposal{ref: ref, msg: msg, add: add, remove: remove}
	if add == 0 && int(remove) < len(g.leaves) {
		pr.removed = g.leaves[remove]
	}
	g.proposals = append(g.proposals, pr)
	var out []Delivery
	for _, u := range to {
		out = append(out, Delivery{u, appendProposals(msg)})
	}
	return out, nil
}

func appendProposals(msgs ...[]byte) dave.Message {
	return dave.Message{Op: dave.OpProposals, Binary: append([]byte{0}, mls.AppendVector(nil, bytes.Join(msgs, nil))...)}
}

// Handle takes one message from a member and returns what to deliver.
func (g *Gateway) Handle(from uint64, m dave.Message) ([]Delivery, error) {
	switch m.Op {
	case dave.OpKeyPackage:
		return g.keyPackage(from, m.Binary)
	case dave.OpCommitWelcome:
		return g.commitWelcome(from, m.Binary)
	case dave.OpReadyForTransition:
		var d struct {
			TransitionID uint16 `json:"transition_id"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, err
		}
		return g.ready(from, d.TransitionID), nil
	case dave.OpInvalidCommitWelcome:
		leaf, ok := g.LeafOf(from)
		if !ok {
			return nil, nil
		}
		// The flagging member left the group state behind; the others
		// remove it, and its new key package adds it back afterwards.
		others := slices.DeleteFunc(g.Members(), func(u uint64) bool { return u == from })
		return g.propose(mls.RemoveProposal(leaf), 0, leaf, others)
	}
	return nil, fmt.Errorf("davetest: unexpected opcode %d from %d", m.Op, from)
}

// keyPackage validates a key package and proposes adding its owner.
func (g *Gateway) keyPackage(from uint64, b []byte) ([]Delivery, error) {
	kp, err := mls.ParseKeyPackage(b)
	if err != nil {
		return nil, err
	}
	if err := kp.Validate(); err != nil {
		return nil, err
	}
	if id := kp.LeafNode.Credential.Identity; len(id) != 8 || binary.BigEndian.Uint64(id) != from {
		return nil, fmt.Errorf("davetest: key package of %d names another user", from)
	}
	g.keyPackages[from] = b
	if g.established {
		if _, in := g.LeafOf(from); in {
			return nil, nil // added once its removal is committed
		}
		return g.propose(mls.AddProposal(kp), from, 0, g.Members())
	}
	// No group yet: every pending member gets the others' adds.
	var out []Delivery
	var old [][]byte
	g.proposals = slices.DeleteFunc(g.proposals, func(p proposal) bool {
		if p.add == from {
			old = append(old, p.ref)
			return true
		}
		return false
	})
	others := slices.DeleteFunc(slices.Clone(g.connected), func(u uint64) bool { return u == from })
	if len(old) > 0 {
		for _, u := range others {
			out = append(out, Delivery{u, revokeProposals(old...)})
		}
	}
	var inFlight [][]byte
	for _, p := range g.proposals {
		inFlight = append(inFlight, p.msg)
	}
	more, err := g.propose(mls.AddProposal(kp), from, 0, others)
	if err != nil {
		return nil, err
	}
	out = append(out, more...)
	if len(inFlight) > 0 {
		out = append(out, Delivery{from, appendProposals(inFlight...)})
	}
	return out, nil
}

func revokeProposals(refs ...[]byte) dave.Message {
	var body []byte
	for _, r := range refs {
		body = mls.AppendVector(body, r)
	}
	return dave.Message{Op: dave.OpProposals, Binary: append([]byte{1}, mls.AppendVector(nil, body)...)}
}

// Revoke withdraws every proposal not yet committed.
func (g *Gateway) Revoke() []Delivery {
	var refs [][]byte
	for _, p := range g.proposals {
		refs = append(refs, p.ref)
	}
	g.proposals = nil
	g.Held = nil
	var out []Delivery
	to := g.Members()
	if !g.established {
		to = g.connected
	}
	for _, u := range to {
		out = append(out, Delivery{u, revokeProposals(refs...)})
	}
	return out
}

// Reappend proposes adding a user again from its last key package.
func (g *Gateway) Reappend(user uint64) ([]Delivery, error) {
	b, ok := g.keyPackages[user]
	if !ok {
		return nil, fmt.Errorf("davetest: no key package for %d", user)
	}
	return g.keyPackage(user, b)
}

// commitWelcome announces the first valid commit of the epoch and forwards
// its welcome.
func (g *Gateway) commitWelcome(from uint64, b []byte) ([]Delivery, error) {
	g.Received++
	commit, welcome, err := mls.NextMessage(b)
	if err != nil {
		return nil, err
	}
	if g.Accept != nil && !g.Accept(from) {
		return nil, nil
	}
	sum, err := mls.InspectCommit(commit)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(sum.GroupID, binary.BigEndian.AppendUint64(nil, g.ChannelID)) {
		return nil, errors.New("davetest: commit for another group")
	}
	if sum.Epoch != g.epoch {
		return nil, nil // a losing commit from an earlier epoch
	}
	if leaf, ok := g.LeafOf(from); g.established && (!ok || leaf != sum.Committer) {
		return nil, fmt.Errorf("davetest: commit from %d claims leaf %d", from, sum.Committer)
	}
	if sum.InlineProposals > 0 {
		return nil, errors.New("davetest: commit carries inline proposals")
	}
	var covered []proposal
	for _, ref := range sum.ProposalRefs {
		i := slices.IndexFunc(g.proposals, func(p proposal) bool { return bytes.Equal(p.ref, ref) })
		if i < 0 {
			return nil, nil // references a revoked or unknown proposal: not broadcast
		}
		covered = append(covered, g.proposals[i])
	}
	if g.HoldCommits {
		g.Held = append(g.Held, b)
		return nil, nil
	}
	before := g.Members()
	if !g.established {
		g.leaves = []uint64{from}
		before = []uint64{from}
	}
	var added []uint64
	for _, p := range covered {
		if p.add == 0 {
			g.leaves[p.remove] = 0
		}
	}
	for _, p := range covered {
		if p.add != 0 {
			added = append(added, p.add)
			if i := slices.Index(g.leaves, 0); i >= 0 {
				g.leaves[i] = p.add
			} else {
				g.leaves = append(g.leaves, p.add)
			}
		}
	}
	for len(g.leaves) > 0 && g.leaves[len(g.leaves)-1] == 0 {
		g.leaves = g.leaves[:len(g.leaves)-1]
	}
	// Removals broadcast after the winning commit was made are proposed
	// again in the new epoch, for the users they still concern.
	var removals []uint64
	for _, p := range g.proposals {
		if p.add == 0 && !slices.ContainsFunc(covered, func(c proposal) bool { return bytes.Equal(c.ref, p.ref) }) {
			if _, in := g.LeafOf(p.removed); in && p.removed != 0 {
				removals = append(removals, p.removed)
			}
		}
	}
	g.established = true
	g.epoch++
	g.transition++
	g.Announced++
	g.proposals = nil
	g.waiting = map[uint64]bool{}
	for _, u := range g.Members() {
		g.waiting[u] = true
	}
	tid := binary.BigEndian.AppendUint16(nil, g.transition)
	var out []Delivery
	for _, u := range before {
		if slices.Contains(g.leaves, u) {
			out = append(out, Delivery{u, dave.Message{Op: dave.OpAnnounceCommitTransition, Binary: append(bytes.Clone(tid), commit...)}})
		}
	}
	if len(added) > 0 && len(welcome) == 0 {
		return nil, errors.New("davetest: commit adds members but has no welcome")
	}
	for _, u := range added {
		out = append(out, Delivery{u, dave.Message{Op: dave.OpWelcome, Binary: append(bytes.Clone(tid), welcome...)}})
	}
	for _, u := range removals {
		leaf, ok := g.LeafOf(u)
		if !ok {
			continue
		}
		others := slices.DeleteFunc(g.Members(), func(m uint64) bool { return m == u })
		more, err := g.propose(mls.RemoveProposal(leaf), 0, leaf, others)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	// Connected members still outside the group are proposed again.
	for _, u := range g.connected {
		if _, in := g.LeafOf(u); in || g.keyPackages[u] == nil {
			continue
		}
		kp, err := mls.ParseKeyPackage(g.keyPackages[u])
		if err != nil {
			return nil, err
		}
		more, err := g.propose(mls.AddProposal(kp), u, 0, g.Members())
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// ready records a member's readiness and executes the transition once all
// members are ready.
func (g *Gateway) ready(from uint64, id uint16) []Delivery {
	if id != g.transition || g.waiting == nil {
		return nil
	}
	delete(g.waiting, from)
	if len(g.waiting) > 0 {
		return nil
	}
	g.waiting = nil
	var out []Delivery
	for _, u := range g.Members() {
		out = append(out, Delivery{u, text(dave.OpExecuteTransition, map[string]uint16{"transition_id": id})})
	}
	return out
}

// Downgrade announces a transition to protocol version 0 (a member without
// DAVE joined); it executes once every member is ready.
func (g *Gateway) Downgrade() []Delivery {
	g.transition++
	g.waiting = map[uint64]bool{}
	var out []Delivery
	for _, u := range g.Members() {
		g.waiting[u] = true
		out = append(out, Delivery{u, text(dave.OpPrepareTransition, map[string]uint16{"protocol_version": 0, "transition_id": g.transition})})
	}
	return out
}
