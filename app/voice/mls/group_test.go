package mls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// testGateway plays the delivery service's external sender.
type testGateway struct {
	t   testing.TB
	key *SignatureKey
}

func newTestGateway(t testing.TB) *testGateway {
	t.Helper()
	key, err := GenerateSignatureKey()
	if err != nil {
		t.Fatal(err)
	}
	return &testGateway{t: t, key: key}
}

func (gw *testGateway) extension() Extension {
	return ExternalSendersExtension(ExternalSender{
		SignatureKey: gw.key.PublicKey(),
		Credential:   Credential{Type: credentialBasic, Identity: []byte("gateway")},
	})
}

// propose signs p for g's current epoch.
func (gw *testGateway) propose(g *Group, p *Proposal) []byte {
	gw.t.Helper()
	msg, _, err := NewExternalProposal(g.GroupID(), g.Epoch(), 0, p, gw.key)
	if err != nil {
		gw.t.Fatal(err)
	}
	return msg
}

func daveIdentity(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func newBundle(t testing.TB, id uint64) *KeyPackageBundle {
	t.Helper()
	key, err := GenerateSignatureKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKeyPackageBundle(key, daveIdentity(id))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var daveConfig = Config{ExternalProposalsOnly: true, UniqueIdentities: true}

// assertSameEpoch checks that members agree on epoch, authenticator, tree and exports.
func assertSameEpoch(t *testing.T, groups ...*Group) {
	t.Helper()
	first := groups[0]
	want, err := first.Export("Discord Secure Frames v0", []byte{1, 2, 3}, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range groups[1:] {
		if g.Epoch() != first.Epoch() {
			t.Fatalf("member %d at epoch %d, first at %d", i+1, g.Epoch(), first.Epoch())
		}
		if !bytes.Equal(g.EpochAuthenticator(), first.EpochAuthenticator()) {
			t.Errorf("member %d epoch authenticator differs", i+1)
		}
		if !bytes.Equal(g.tree.bytes(), first.tree.bytes()) {
			t.Errorf("member %d ratchet tree differs", i+1)
		}
		got, err := g.Export("Discord Secure Frames v0", []byte{1, 2, 3}, 16)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("member %d exports %x, first %x", i+1, got, want)
		}
	}
}

func mustStore(t testing.TB, msg []byte, groups ...*Group) {
	t.Helper()
	for _, g := range groups {
		if _, err := g.StoreProposal(msg); err != nil {
			t.Fatalf("storing proposal at leaf %d: %v", g.LeafIndex(), err)
		}
	}
}

func mustProcess(t testing.TB, msg []byte, groups ...*Group) {
	t.Helper()
	for _, g := range groups {
		if err := g.ProcessCommit(msg); err != nil {
			t.Fatalf("processing commit at leaf %d: %v", g.LeafIndex(), err)
		}
	}
}

// newGroup creates a group with DAVE's rules and gw as its external sender.
func newGroup(t testing.TB, gw *testGateway, groupID []byte, creator *KeyPackageBundle) *Group {
	t.Helper()
	g, err := CreateGroup(groupID, creator, []Extension{gw.extension()}, daveConfig)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// mustCommit has g commit the proposals it holds.
func mustCommit(t testing.TB, g *Group) *CommitResult {
	t.Helper()
	res, err := g.Commit()
	if err != nil {
		t.Fatalf("commit at leaf %d: %v", g.LeafIndex(), err)
	}
	return res
}

// mustJoin joins the group a Welcome invites kb to.
func mustJoin(t testing.TB, welcome []byte, kb *KeyPackageBundle) *Group {
	t.Helper()
	g, err := JoinGroup(welcome, kb, nil, daveConfig)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// addMember adds kb to a's group: gw proposes the add to a and others, a
// commits, a and others process the commit, and kb joins from its Welcome.
func addMember(t testing.TB, gw *testGateway, a *Group, kb *KeyPackageBundle, others ...*Group) *Group {
	t.Helper()
	members := append([]*Group{a}, others...)
	mustStore(t, gw.propose(a, AddProposal(kb.KeyPackage)), members...)
	res := mustCommit(t, a)
	mustProcess(t, res.Commit, members...)
	return mustJoin(t, res.Welcome, kb)
}

func TestGroupLifecycle(t *testing.T) {
	gw := newTestGateway(t)
	groupID := binary.BigEndian.AppendUint64(nil, 42)
	bundles := []*KeyPackageBundle{newBundle(t, 1), newBundle(t, 2), newBundle(t, 3), newBundle(t, 4)}

	a := newGroup(t, gw, groupID, bundles[0])
	// Two adds in one commit: no path, one Welcome for both.
	mustStore(t, gw.propose(a, AddProposal(bundles[1].KeyPackage)), a)
	mustStore(t, gw.propose(a, AddProposal(bundles[2].KeyPackage)), a)
	res := mustCommit(t, a)
	if res.Welcome == nil {
		t.Fatal("commit with adds produced no welcome")
	}
	m, err := parseMLSMessage(res.Commit)
	if err != nil {
		t.Fatal(err)
	}
	if m.public.content.commit.path != nil {
		t.Error("add-only commit carries an update path")
	}
	if a.Epoch() != 0 {
		t.Fatal("commit applied before it was confirmed")
	}
	mustProcess(t, res.Commit, a)
	b := mustJoin(t, res.Welcome, bundles[1])
	c := mustJoin(t, res.Welcome, bundles[2])
	assertSameEpoch(t, a, b, c)

	// Remove b; c commits with a path, a follows, b learns it is out.
	remove := gw.propose(a, RemoveProposal(b.LeafIndex()))
	mustStore(t, remove, a, b, c)
	res = mustCommit(t, c)
	mustProcess(t, res.Commit, a, c)
	if err := b.ProcessCommit(res.Commit); !errors.Is(err, ErrRemoved) {
		t.Errorf("removed member got %v, want ErrRemoved", err)
	}
	assertSameEpoch(t, a, c)

	// Add d while both others stay; a commits, d joins; then an empty commit
	// (path only) by d.
	d := addMember(t, gw, a, bundles[3], c)
	assertSameEpoch(t, a, c, d)
	res = mustCommit(t, d)
	mustProcess(t, res.Commit, a, c, d)
	assertSameEpoch(t, a, c, d)
	if got := len(a.Members()); got != 3 {
		t.Errorf("%d members, want 3", got)
	}
}

func TestGroupCompetingCommits(t *testing.T) {
	gw := newTestGateway(t)
	groupID := []byte("competing")
	b0, b1, b2 := newBundle(t, 1), newBundle(t, 2), newBundle(t, 3)
	a := newGroup(t, gw, groupID, b0)
	b := addMember(t, gw, a, b1)
	// Both commit the same add; the delivery service picks b's.
	mustStore(t, gw.propose(a, AddProposal(b2.KeyPackage)), a, b)
	mustCommit(t, a)
	win := mustCommit(t, b)
	mustProcess(t, win.Commit, a, b)
	c := mustJoin(t, win.Welcome, b2)
	assertSameEpoch(t, a, b, c)
}

func TestGroupAcceptsEitherOwnCommit(t *testing.T) {
	gw := newTestGateway(t)
	b0, b1, b2 := newBundle(t, 1), newBundle(t, 2), newBundle(t, 3)
	a := newGroup(t, gw, []byte("two commits"), b0)
	mustStore(t, gw.propose(a, AddProposal(b1.KeyPackage)), a)
	first := mustCommit(t, a)
	// A second proposal arrives and a commits again; the first commit wins.
	mustStore(t, gw.propose(a, AddProposal(b2.KeyPackage)), a)
	mustCommit(t, a)
	mustProcess(t, first.Commit, a)
	b := mustJoin(t, first.Welcome, b1)
	assertSameEpoch(t, a, b)
	if got := len(a.Members()); got != 2 {
		t.Errorf("%d members, want 2", got)
	}
}

func TestGroupRejectsBadInput(t *testing.T) {
	gw := newTestGateway(t)
	foreign := newTestGateway(t)
	groupID := []byte("bad input")
	b0, b1 := newBundle(t, 1), newBundle(t, 2)
	g := newGroup(t, gw, groupID, b0)
	good := gw.propose(g, AddProposal(b1.KeyPackage))
	other, _, err := NewExternalProposal([]byte("other group"), 0, 0, AddProposal(b1.KeyPackage), gw.key)
	if err != nil {
		t.Fatal(err)
	}
	future, _, err := NewExternalProposal(groupID, 5, 0, AddProposal(b1.KeyPackage), gw.key)
	if err != nil {
		t.Fatal(err)
	}
	unknownSender, _, err := NewExternalProposal(groupID, 0, 1, AddProposal(b1.KeyPackage), gw.key)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(good)
	tampered[len(tampered)-1] ^= 1
	dup := newBundle(t, 1) // same identity as the creator

	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"foreign signature", foreign.propose(g, AddProposal(b1.KeyPackage)), errBadSignature},
		{"tampered signature", tampered, errBadSignature},
		{"wrong epoch", future, ErrWrongEpoch},
		{"wrong group", other, ErrWrongGroup},
		{"unknown external sender", unknownSender, ErrUnknownSender},
		{"truncated", good[:len(good)/2], errTruncated},
		{"trailing bytes", append(bytes.Clone(good), 0), errTrailingBytes},
		{"oversized", make([]byte, maxMessageSize+1), errTooLarge},
		{"empty", nil, errTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGroup(t, gw, groupID, b0)
			if _, err := g.StoreProposal(tt.msg); !errors.Is(err, tt.want) {
				t.Errorf("StoreProposal = %v, want %v", err, tt.want)
			}
			if g.PendingProposals() != 0 {
				t.Error("rejected proposal was stored")
			}
		})
	}

	t.Run("duplicate identity", func(t *testing.T) {
		g := newGroup(t, gw, groupID, b0)
		mustStore(t, gw.propose(g, AddProposal(dup.KeyPackage)), g)
		if _, err := g.Commit(); err == nil {
			t.Error("commit adding a second leaf with the same identity succeeded")
		}
	})
	t.Run("refused add", func(t *testing.T) {
		g, err := CreateGroup(groupID, b0, []Extension{gw.extension()}, Config{AcceptAdd: func(id []byte) error {
			return fmt.Errorf("user %x not announced", id)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.StoreProposal(gw.propose(g, AddProposal(b1.KeyPackage))); err == nil {
			t.Error("add for an unannounced user accepted")
		}
	})
	t.Run("commit with unknown proposal", func(t *testing.T) {
		a := newGroup(t, gw, groupID, b0)
		b := addMember(t, gw, a, b1)
		mustStore(t, gw.propose(a, RemoveProposal(b.LeafIndex())), a)
		res := mustCommit(t, a)
		before := b.EpochAuthenticator()
		if err := b.ProcessCommit(res.Commit); !errors.Is(err, ErrUnknownProposal) {
			t.Errorf("ProcessCommit = %v, want ErrUnknownProposal", err)
		}
		if !bytes.Equal(before, b.EpochAuthenticator()) || b.Epoch() != 1 {
			t.Error("failed commit changed the group")
		}
	})
	t.Run("welcome for another key package", func(t *testing.T) {
		a := newGroup(t, gw, groupID, b0)
		mustStore(t, gw.propose(a, AddProposal(b1.KeyPackage)), a)
		res := mustCommit(t, a)
		if _, err := JoinGroup(res.Welcome, newBundle(t, 9), nil, daveConfig); !errors.Is(err, ErrNotInWelcome) {
			t.Errorf("JoinGroup = %v, want ErrNotInWelcome", err)
		}
		if _, err := JoinGroup(res.Welcome[:len(res.Welcome)-3], b1, nil, daveConfig); err == nil {
			t.Error("truncated welcome accepted")
		}
	})
}
