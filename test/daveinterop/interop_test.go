package daveinterop

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"testing"

	"github.com/iddv/timmybot/app/servertest"
	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
	"github.com/iddv/timmybot/app/voice/mls"
)

const channelID = 1090123456789012345

// startDriver runs the davey driver. Without node or davey the test is
// skipped locally and fails in CI.
func startDriver(t *testing.T) *Driver {
	t.Helper()
	missing := func(what string, err error) {
		t.Helper()
		servertest.Unavailable(t, what, fmt.Sprintf("%v; run npm ci", err))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node", err)
	}
	if out, err := exec.Command(node, "-e", "require.resolve('@snazzah/davey')").CombinedOutput(); err != nil {
		missing("@snazzah/davey", fmt.Errorf("node cannot resolve it (%v):\n%s", err, out))
	}
	d, err := StartDriver(t.Context(), node, ".")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	var v struct {
		Version string `json:"version"`
	}
	if err := d.Call(map[string]any{"cmd": "version"}, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "0.1.12" {
		t.Fatalf("davey %s, want 0.1.12", v.Version)
	}
	return d
}

// world is a channel with bot sessions and davey sessions.
type world struct {
	t      *testing.T
	net    *davetest.Network
	drv    *Driver
	bots   map[uint64]*dave.Session
	daveys map[uint64]*Davey
}

func newWorld(t *testing.T) *world {
	gw, err := davetest.NewGateway(channelID)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, net: davetest.NewNetwork(gw), drv: startDriver(t), bots: map[uint64]*dave.Session{}, daveys: map[uint64]*Davey{}}
}

func (w *world) bot(id uint64) *dave.Session {
	w.t.Helper()
	s, err := dave.NewSession(dave.Config{UserID: id, ChannelID: channelID})
	if err != nil {
		w.t.Fatal(err)
	}
	w.bots[id] = s
	if err := w.net.Connect(davetest.Local{ID: id, Session: s}); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) davey(id uint64) *Davey {
	w.t.Helper()
	m := NewDavey(w.drv, id, channelID)
	w.daveys[id] = m
	if err := w.net.Connect(m); err != nil {
		w.t.Fatal(err)
	}
	return m
}

func (w *world) leave(id uint64) {
	w.t.Helper()
	delete(w.bots, id)
	delete(w.daveys, id)
	if err := w.net.Disconnect(id); err != nil {
		w.t.Fatal(err)
	}
}

// deliver has the network deliver ds and all that follows from them.
func (w *world) deliver(ds ...davetest.Delivery) {
	w.t.Helper()
	w.net.Enqueue(ds...)
	if err := w.net.Run(); err != nil {
		w.t.Fatal(err)
	}
}

// acceptOnly lets only committer's commits win.
func (w *world) acceptOnly(committer uint64) {
	w.net.GW.Accept = func(c uint64) bool { return c == committer }
}

func (w *world) noMemberErrors() {
	w.t.Helper()
	for user, errs := range w.net.MemberErrors {
		w.t.Errorf("user %d reported %v", user, errs)
	}
	clear(w.net.MemberErrors)
}

// agree checks that everyone is in the gateway's epoch with the same members,
// epoch authenticator and privacy code, and that Opus frames from each member
// decrypt to the same bytes at every other member.
func (w *world) agree() {
	w.t.Helper()
	w.noMemberErrors()
	epoch := w.net.GW.Epoch()
	var auth []byte
	code := ""
	check := func(who string, gotEpoch uint64, gotAuth []byte, gotCode string) {
		w.t.Helper()
		if gotEpoch != epoch {
			w.t.Fatalf("%s at epoch %d, gateway at %d", who, gotEpoch, epoch)
		}
		if auth == nil {
			auth, code = gotAuth, gotCode
		}
		if !bytes.Equal(gotAuth, auth) {
			w.t.Errorf("%s epoch authenticator %x, others %x", who, gotAuth, auth)
		}
		if gotCode != code || len(gotCode) != 30 {
			w.t.Errorf("%s privacy code %q, others %q", who, gotCode, code)
		}
	}
	for id, s := range w.bots {
		ep := s.LatestEpoch()
		if ep == nil {
			w.t.Fatalf("bot %d has no epoch", id)
		}
		check(fmt.Sprintf("bot %d", id), ep.Number, ep.Authenticator, s.PrivacyCode())
	}
	for id, d := range w.daveys {
		st, err := d.State()
		if err != nil {
			w.t.Fatal(err)
		}
		if st.Epoch == nil || !st.Ready {
			w.t.Fatalf("davey %d not in a group: %+v", id, st)
		}
		a, err := hex.DecodeString(st.EpochAuthenticator)
		if err != nil {
			w.t.Fatal(err)
		}
		check(fmt.Sprintf("davey %d", id), *st.Epoch, a, st.PrivacyCode)
		var ids []uint64
		for _, s := range st.UserIDs {
			var u uint64
			fmt.Sscan(s, &u)
			ids = append(ids, u)
		}
		slices.Sort(ids)
		want := w.net.GW.Members()
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			w.t.Errorf("davey %d sees members %v, gateway %v", id, ids, want)
		}
	}
	w.frames()
}

func (w *world) frames() {
	w.t.Helper()
	for n := range 3 {
		opus := fmt.Appendf(nil, "\xfc opus frame %d from the sender .....", n)
		for from := range w.all() {
			var wire []byte
			var err error
			if s, ok := w.bots[from]; ok {
				wire, err = s.EncryptOpus(nil, opus)
			} else {
				wire, err = w.daveys[from].EncryptOpus(opus)
			}
			if err != nil {
				w.t.Fatalf("%d encrypting: %v", from, err)
			}
			if bytes.Contains(wire, opus) {
				w.t.Fatalf("%d sent the frame unencrypted", from)
			}
			for to := range w.all() {
				if to == from {
					continue
				}
				var got []byte
				if s, ok := w.bots[to]; ok {
					got, err = s.Decrypt(from, nil, wire)
				} else {
					got, err = w.daveys[to].Decrypt(from, wire)
				}
				if err != nil {
					w.t.Fatalf("%d decrypting %d's frame: %v", to, from, err)
				}
				if !bytes.Equal(got, opus) {
					w.t.Fatalf("%d decrypted %q from %d, want %q", to, got, from, opus)
				}
			}
		}
	}
}

func (w *world) all() map[uint64]bool {
	out := map[uint64]bool{}
	for id := range w.bots {
		out[id] = true
	}
	for id := range w.daveys {
		out[id] = true
	}
	return out
}

func TestBotCommitsDaveyJoinsByWelcome(t *testing.T) {
	w := newWorld(t)
	w.acceptOnly(1)
	w.bot(1)
	w.davey(2)
	w.agree()
	if w.net.GW.Announced != 1 {
		t.Errorf("%d commits announced, want 1", w.net.GW.Announced)
	}
}

func TestDaveyCommitsBotJoinsByWelcome(t *testing.T) {
	w := newWorld(t)
	w.acceptOnly(2)
	w.bot(1)
	w.davey(2)
	w.agree()
}

func TestBothCommitOneLoses(t *testing.T) {
	w := newWorld(t)
	w.bot(1)
	w.davey(2)
	w.agree()
	received, announced := w.net.GW.Received, w.net.GW.Announced
	w.davey(3)
	w.agree()
	if got := w.net.GW.Received - received; got != 2 {
		t.Errorf("%d commits for the add, want one from each member", got)
	}
	if got := w.net.GW.Announced - announced; got != 1 {
		t.Errorf("%d commits announced, want 1", got)
	}
}

func TestThirdMemberJoinsAndLeavesEachSideCommitting(t *testing.T) {
	w := newWorld(t)
	w.bot(1)
	w.davey(2)
	w.agree()
	steps := []struct {
		name      string
		committer uint64
		do        func()
	}{
		{"davey joins, bot commits", 1, func() { w.davey(3) }},
		{"davey leaves, davey commits", 2, func() { w.leave(3) }},
		{"bot joins, davey commits", 2, func() { w.bot(4) }},
		{"bot leaves, bot commits", 1, func() { w.leave(4) }},
		{"davey joins, davey commits", 2, func() { w.davey(5) }},
		{"davey leaves, bot commits", 1, func() { w.leave(5) }},
	}
	for _, st := range steps {
		before := w.net.GW.Epoch()
		w.acceptOnly(st.committer)
		st.do()
		if w.net.GW.Epoch() != before+1 {
			t.Fatalf("%s: epoch %d, want %d", st.name, w.net.GW.Epoch(), before+1)
		}
		w.agree()
	}
}

func TestRevokeAndReappend(t *testing.T) {
	w := newWorld(t)
	w.bot(1)
	w.davey(2)
	w.agree()
	w.net.GW.HoldCommits = true
	w.davey(3)
	if len(w.net.GW.Held) == 0 {
		t.Fatal("nobody committed the add")
	}
	epoch := w.net.GW.Epoch()
	w.deliver(w.net.GW.Revoke()...)
	w.noMemberErrors()
	if w.net.GW.Epoch() != epoch {
		t.Fatal("a revoked proposal was committed")
	}
	w.net.GW.HoldCommits = false
	ds, err := w.net.GW.Reappend(3)
	if err != nil {
		t.Fatal(err)
	}
	w.deliver(ds...)
	w.agree()
}

func TestSoleMemberReset(t *testing.T) {
	w := newWorld(t)
	bot := w.bot(1)
	w.davey(2)
	w.agree()
	w.leave(2)
	if !bot.Ready() {
		t.Fatal("sole bot not ready after the reset")
	}
	if _, err := bot.EncryptOpus(nil, []byte("alone in the channel")); err != nil {
		t.Fatal(err)
	}
	w.davey(3)
	w.agree()
	// Now the bot leaves and davey is the sole member.
	w.leave(1)
	w.noMemberErrors()
	w.bot(4)
	w.agree()
}

func TestForeignProposalRejected(t *testing.T) {
	w := newWorld(t)
	bot := w.bot(1)
	d := w.davey(2)
	w.agree()
	foreign, err := mls.GenerateSignatureKey()
	if err != nil {
		t.Fatal(err)
	}
	intruder, err := mls.GenerateSignatureKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := mls.NewKeyPackageBundle(intruder, binary.BigEndian.AppendUint64(nil, 9))
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := mls.NewExternalProposal(binary.BigEndian.AppendUint64(nil, channelID), w.net.GW.Epoch(), 0, mls.AddProposal(b.KeyPackage), foreign)
	if err != nil {
		t.Fatal(err)
	}
	announce, _ := json.Marshal(map[string][]string{"user_ids": {"9"}})
	proposals := dave.Message{Op: dave.OpProposals, Binary: append([]byte{0}, mls.AppendVector(nil, msg)...)}
	for name, m := range map[string]davetest.Member{"bot": davetest.Local{ID: 1, Session: bot}, "davey": d} {
		if _, err := m.HandleMessage(dave.Message{Op: dave.OpClientsConnect, JSON: announce}); err != nil {
			t.Fatal(err)
		}
		replies, err := m.HandleMessage(proposals)
		if err == nil {
			t.Errorf("%s accepted a proposal signed by a foreign key", name)
		}
		if len(replies) != 0 {
			t.Errorf("%s answered the foreign proposal with %d messages", name, len(replies))
		}
	}
	w.agree()
}

// TestInvalidCommitAndWelcomeRecovery corrupts a commit on its way to davey
// and a welcome on its way to the bot: each flags it, is removed and re-added.
func TestInvalidCommitAndWelcomeRecovery(t *testing.T) {
	w := newWorld(t)
	w.bot(1)
	w.davey(2)
	w.agree()
	corrupt := map[uint64]int{2: dave.OpAnnounceCommitTransition, 3: dave.OpWelcome}
	w.net.Filter = func(d *davetest.Delivery) bool {
		if op, ok := corrupt[d.To]; ok && d.Msg.Op == op {
			delete(corrupt, d.To)
			d.Msg.Binary = bytes.Clone(d.Msg.Binary)
			d.Msg.Binary[len(d.Msg.Binary)-1] ^= 0xff
		}
		return true
	}
	w.acceptOnly(1)
	w.bot(3)
	if len(corrupt) != 0 {
		t.Fatalf("messages never corrupted: %v", corrupt)
	}
	for _, user := range []uint64{2, 3} {
		if len(w.net.MemberErrors[user]) == 0 {
			t.Errorf("user %d did not report its invalid message", user)
		}
	}
	clear(w.net.MemberErrors)
	w.agree()
}

func TestDowngradeToPassthrough(t *testing.T) {
	w := newWorld(t)
	bot := w.bot(1)
	d := w.davey(2)
	w.agree()
	w.deliver(w.net.GW.Downgrade()...)
	w.noMemberErrors()
	opus := []byte("\xfc plain opus after the downgrade")
	sent, err := bot.EncryptOpus(nil, opus)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sent, opus) {
		t.Fatalf("bot still encrypts after the downgrade: %x", sent)
	}
	got, err := d.Decrypt(1, sent)
	if err != nil || !bytes.Equal(got, opus) {
		t.Fatalf("davey on the bot's plain frame: %q, %v", got, err)
	}
	got, err = bot.Decrypt(2, nil, opus)
	if err != nil || !bytes.Equal(got, opus) {
		t.Fatalf("bot on davey's plain frame: %q, %v", got, err)
	}
	if bot.ProtocolVersion() != 0 {
		t.Errorf("bot at protocol version %d", bot.ProtocolVersion())
	}
}
