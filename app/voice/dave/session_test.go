package dave_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
	"github.com/iddv/timmybot/app/voice/dave/frame"
	"github.com/iddv/timmybot/app/voice/mls"
)

const channelID = 1234567890123

type harness struct {
	t   *testing.T
	net *davetest.Network
	s   map[uint64]*dave.Session
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	gw, err := davetest.NewGateway(channelID)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, net: davetest.NewNetwork(gw), s: map[uint64]*dave.Session{}}
}

func (h *harness) connect(user uint64) *dave.Session {
	h.t.Helper()
	s, err := dave.NewSession(dave.Config{UserID: user, ChannelID: channelID})
	if err != nil {
		h.t.Fatal(err)
	}
	h.s[user] = s
	if err := h.net.Connect(davetest.Local{ID: user, Session: s}); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// deliver has the network deliver ds and all that follows from them.
func (h *harness) deliver(ds ...davetest.Delivery) {
	h.t.Helper()
	h.net.Enqueue(ds...)
	if err := h.net.Run(); err != nil {
		h.t.Fatal(err)
	}
}

// corruptFirst makes the network flip the last byte of the first op message
// it delivers to user; the returned func reports whether that has happened.
func (h *harness) corruptFirst(user uint64, op int) (corrupted func() bool) {
	done := false
	h.net.Filter = func(d *davetest.Delivery) bool {
		if d.To == user && d.Msg.Op == op && !done {
			done = true
			d.Msg.Binary = bytes.Clone(d.Msg.Binary)
			d.Msg.Binary[len(d.Msg.Binary)-1] ^= 0xff
		}
		return true
	}
	return func() bool { return done }
}

func (h *harness) disconnect(user uint64) {
	h.t.Helper()
	delete(h.s, user)
	if err := h.net.Disconnect(user); err != nil {
		h.t.Fatal(err)
	}
}

// assertAgree checks that every session is at the gateway's epoch with the
// same authenticator, privacy code and sender secrets, and that a frame from
// each decrypts at every other.
func (h *harness) assertAgree() {
	h.t.Helper()
	var first *dave.Epoch
	for user, s := range h.s {
		ep := s.LatestEpoch()
		if ep == nil {
			h.t.Fatalf("user %d has no epoch", user)
		}
		if ep.Number != h.net.GW.Epoch() {
			h.t.Fatalf("user %d at epoch %d, gateway at %d", user, ep.Number, h.net.GW.Epoch())
		}
		if len(ep.SenderSecrets) != len(h.s) {
			h.t.Errorf("user %d knows %d senders, want %d", user, len(ep.SenderSecrets), len(h.s))
		}
		if first == nil {
			first = ep
			continue
		}
		if !bytes.Equal(ep.Authenticator, first.Authenticator) {
			h.t.Errorf("user %d epoch authenticator differs", user)
		}
		for id, secret := range first.SenderSecrets {
			if !bytes.Equal(ep.SenderSecrets[id], secret) {
				h.t.Errorf("user %d disagrees on %d's sender secret", user, id)
			}
		}
		if !s.Ready() {
			h.t.Errorf("user %d not ready", user)
		}
	}
	code := ""
	for user, s := range h.s {
		if code == "" {
			code = s.PrivacyCode()
		} else if s.PrivacyCode() != code {
			h.t.Errorf("user %d privacy code %q, want %q", user, s.PrivacyCode(), code)
		}
	}
	if len(code) != 30 {
		h.t.Errorf("privacy code %q is not 30 digits", code)
	}
	h.exchangeFrames()
}

func (h *harness) exchangeFrames() {
	h.t.Helper()
	opus := []byte("\x78 an opus frame of some length ........")
	for from, s := range h.s {
		wire, err := s.EncryptOpus(nil, opus)
		if err != nil {
			h.t.Fatalf("user %d encrypt: %v", from, err)
		}
		if bytes.Contains(wire, opus) {
			h.t.Fatalf("user %d sent the frame in the clear", from)
		}
		for to, r := range h.s {
			if to == from {
				continue
			}
			got, err := r.Decrypt(from, nil, wire)
			if err != nil {
				h.t.Fatalf("user %d decrypting %d: %v", to, from, err)
			}
			if !bytes.Equal(got, opus) {
				h.t.Fatalf("user %d decrypted %q from %d", to, got, from)
			}
		}
	}
}

func TestSessionJoinLeaveAndReset(t *testing.T) {
	h := newHarness(t)
	a := h.connect(1)
	if a.Ready() {
		t.Error("a DAVE session alone without a key is ready")
	}
	h.connect(2)
	h.assertAgree()
	if got := h.net.GW.Announced; got != 1 {
		t.Errorf("%d commits announced, want 1 (the losing one dropped)", got)
	}
	h.connect(3)
	h.assertAgree()
	h.disconnect(2)
	h.assertAgree()
	h.connect(4)
	h.assertAgree()
	h.disconnect(4)
	h.disconnect(3)
	// a is alone: the gateway reset it to a new local group it sends with.
	if !a.Ready() {
		t.Fatal("sole member not ready after the reset")
	}
	if _, err := a.EncryptOpus(nil, []byte("alone")); err != nil {
		t.Fatal(err)
	}
	h.connect(5)
	h.assertAgree()
	for user, errs := range h.net.MemberErrors {
		t.Errorf("user %d reported %v", user, errs)
	}
}

// TestSessionResetSendsInPassthrough: a reset session (a new voice session
// is identifying) is ready to send unencrypted until the gateway says
// otherwise, even if it was waiting for a key before.
func TestSessionResetSendsInPassthrough(t *testing.T) {
	a := newHarness(t).connect(1)
	if a.Ready() {
		t.Fatal("a DAVE session alone without a key is ready")
	}
	a.Reset()
	if !a.Ready() {
		t.Error("not ready after Reset")
	}
	if got, err := a.EncryptOpus(nil, []byte("plain")); err != nil || string(got) != "plain" {
		t.Errorf("EncryptOpus after Reset = %q, %v; want the frame unchanged", got, err)
	}
}

func TestSessionInvalidCommitRecovers(t *testing.T) {
	h := newHarness(t)
	h.connect(1)
	h.connect(2)
	corrupted := h.corruptFirst(2, dave.OpAnnounceCommitTransition)
	h.connect(3)
	if !corrupted() {
		t.Fatal("no commit reached user 2")
	}
	h.assertAgree()
	errs := h.net.MemberErrors[2]
	if len(errs) == 0 {
		t.Fatal("user 2 did not report the invalid commit")
	}
	if got := h.s[2].LatestEpoch().Number; got < 3 {
		t.Errorf("user 2 at epoch %d; want it removed and re-added", got)
	}
}

func TestSessionInvalidWelcomeRecovers(t *testing.T) {
	h := newHarness(t)
	h.connect(1)
	h.connect(2)
	corrupted := h.corruptFirst(3, dave.OpWelcome)
	h.connect(3)
	if !corrupted() {
		t.Fatal("no welcome reached user 3")
	}
	h.assertAgree()
	if len(h.net.MemberErrors[3]) == 0 {
		t.Fatal("user 3 did not report the invalid welcome")
	}
}

func TestSessionRevokeAndReappend(t *testing.T) {
	h := newHarness(t)
	h.connect(1)
	h.connect(2)
	h.net.GW.HoldCommits = true
	h.connect(3)
	if len(h.net.GW.Held) == 0 {
		t.Fatal("no commit for the add")
	}
	h.deliver(h.net.GW.Revoke()...)
	if h.s[3].LatestEpoch() != nil {
		t.Fatal("revoked member joined")
	}
	h.net.GW.HoldCommits = false
	ds, err := h.net.GW.Reappend(3)
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(ds...)
	h.assertAgree()
}

func TestSessionDowngradeToPassthrough(t *testing.T) {
	h := newHarness(t)
	a, b := h.connect(1), h.connect(2)
	h.assertAgree()
	prepare, _ := json.Marshal(map[string]int{"protocol_version": 0, "transition_id": 77})
	execute, _ := json.Marshal(map[string]int{"transition_id": 77})
	for _, s := range []*dave.Session{a, b} {
		replies, err := s.HandleMessage(dave.Message{Op: dave.OpPrepareTransition, JSON: prepare})
		if err != nil || len(replies) != 1 || replies[0].Op != dave.OpReadyForTransition {
			t.Fatalf("prepare: %v %v", replies, err)
		}
		// Before execution frames are still encrypted; plain ones are accepted.
		if got, err := s.Decrypt(3, nil, []byte("plain")); err != nil || string(got) != "plain" {
			t.Fatalf("passthrough receive: %q %v", got, err)
		}
		if _, err := s.HandleMessage(dave.Message{Op: dave.OpExecuteTransition, JSON: execute}); err != nil {
			t.Fatal(err)
		}
		out, err := s.EncryptOpus(nil, []byte("opus"))
		if err != nil || string(out) != "opus" {
			t.Fatalf("after downgrade EncryptOpus = %q, %v", out, err)
		}
		if s.ProtocolVersion() != 0 {
			t.Errorf("protocol version %d after downgrade", s.ProtocolVersion())
		}
	}
}

func TestSessionRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	a := h.connect(1)
	h.connect(2)
	epoch := a.LatestEpoch().Number
	tests := []struct {
		name string
		msg  dave.Message
	}{
		{"truncated proposals", dave.Message{Op: dave.OpProposals, Binary: []byte{0, 0x40}}},
		{"unknown proposals operation", dave.Message{Op: dave.OpProposals, Binary: []byte{7, 0}}},
		{"garbage proposal", dave.Message{Op: dave.OpProposals, Binary: []byte{0, 3, 0, 1, 9}}},
		{"short commit", dave.Message{Op: dave.OpAnnounceCommitTransition, Binary: []byte{1}}},
		{"bad external sender", dave.Message{Op: dave.OpExternalSender, Binary: []byte{1, 2, 3}}},
		{"bad json", dave.Message{Op: dave.OpPrepareEpoch, JSON: []byte("{")}},
		{"bad user id", dave.Message{Op: dave.OpClientsConnect, JSON: []byte(`{"user_ids":["x"]}`)}},
		{"unsupported version", dave.Message{Op: dave.OpSessionDescription, JSON: []byte(`{"dave_protocol_version":9}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.HandleMessage(tt.msg); err == nil {
				t.Error("accepted")
			}
			if got := a.LatestEpoch().Number; got != epoch {
				t.Errorf("epoch moved to %d", got)
			}
		})
	}
	t.Run("revoke of an unknown ref is a no-op", func(t *testing.T) {
		replies, err := a.HandleMessage(dave.Message{Op: dave.OpProposals, Binary: []byte{1, 2, 1, 0xaa}})
		if err != nil || len(replies) != 0 {
			t.Errorf("HandleMessage = %v, %v; want nothing", replies, err)
		}
	})
	t.Run("a batch with one bad proposal is refused whole", func(t *testing.T) {
		gw := h.net.GW
		// A genuine add for a connected user, then garbage.
		joiner, err := dave.NewSession(dave.Config{UserID: 3, ChannelID: channelID})
		if err != nil {
			t.Fatal(err)
		}
		announce, _ := json.Marshal(map[string][]string{"user_ids": {"3"}})
		if _, err := a.HandleMessage(dave.Message{Op: dave.OpClientsConnect, JSON: announce}); err != nil {
			t.Fatal(err)
		}
		kp := keyPackageOf(t, joiner)
		ds, err := gw.Handle(3, dave.Message{Op: dave.OpKeyPackage, Binary: kp})
		if err != nil || len(ds) == 0 {
			t.Fatalf("gateway: %v %v", ds, err)
		}
		good := ds[0].Msg.Binary // op 27 append with one proposal
		body, _, err := mls.ReadVector(good[1:])
		if err != nil {
			t.Fatal(err)
		}
		batch := append([]byte{0}, mls.AppendVector(nil, append(bytes.Clone(body), 0, 1, 0, 1))...)
		if replies, err := a.HandleMessage(dave.Message{Op: dave.OpProposals, Binary: batch}); err == nil || len(replies) != 0 {
			t.Fatalf("batch with garbage: %v, %v", replies, err)
		}
		// The good proposal alone is then committed: it was not left stored
		// twice, which would make the commit add the user twice.
		replies, err := a.HandleMessage(dave.Message{Op: dave.OpProposals, Binary: good})
		if err != nil || len(replies) != 1 || replies[0].Op != dave.OpCommitWelcome {
			t.Fatalf("good batch: %v, %v", opsOf(replies), err)
		}
	})
	t.Run("garbage commit is flagged", func(t *testing.T) {
		replies, err := a.HandleMessage(dave.Message{Op: dave.OpAnnounceCommitTransition, Binary: []byte{0, 9, 0, 1, 0, 1}})
		if err == nil {
			t.Fatal("accepted")
		}
		ops := fmt.Sprint(opsOf(replies))
		if ops != "[31 26]" {
			t.Errorf("replies %s, want [31 26]", ops)
		}
	})
	t.Run("frame from an unknown sender", func(t *testing.T) {
		if _, err := a.Decrypt(99, nil, []byte("not a protocol frame")); !errors.Is(err, frame.ErrPassthrough) && !errors.Is(err, frame.ErrNoKey) {
			t.Errorf("Decrypt = %v", err)
		}
	})
}

// keyPackageOf returns the key package a session sends after its session
// description.
func keyPackageOf(t *testing.T, s *dave.Session) []byte {
	t.Helper()
	replies, err := s.HandleMessage(dave.Message{Op: dave.OpSessionDescription, JSON: []byte(`{"dave_protocol_version":1}`)})
	if err != nil || len(replies) != 1 || replies[0].Op != dave.OpKeyPackage {
		t.Fatalf("session description: %v, %v", opsOf(replies), err)
	}
	return replies[0].Binary
}

func opsOf(ms []dave.Message) []int {
	var out []int
	for _, m := range ms {
		out = append(out, m.Op)
	}
	return out
}

func TestDisplayableCode(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		length    int
		group     int
		want      string
		wantError bool
	}{
		{"zeros", make([]byte, 32), 30, 5, "000000000000000000000000000000", false},
		{"one group", []byte{0, 0, 0, 0x30, 0x39}, 5, 5, "12345", false},
		{"modulo", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, 5, 5, fmt.Sprintf("%05d", uint64(0xffffffffff)%100000), false},
		{"short input", []byte{1, 2}, 5, 5, "", true},
		{"length not a multiple", make([]byte, 32), 31, 5, "", true},
		{"group too large", make([]byte, 32), 16, 8, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dave.DisplayableCode(tt.data, tt.length, tt.group)
			if (err != nil) != tt.wantError || got != tt.want {
				t.Errorf("DisplayableCode = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantError)
			}
		})
	}
}
