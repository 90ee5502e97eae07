package mls

import (
	"bytes"
	"errors"
	"testing"
)

// commitFixture builds a three-member group and a commit by a that removes c,
// with b holding the proposal and ready to process it.
func commitFixture(t *testing.T) (b *Group, commitMsg []byte) {
	t.Helper()
	gw := newTestGateway(t)
	bundles := []*KeyPackageBundle{newBundle(t, 1), newBundle(t, 2), newBundle(t, 3)}
	a := newGroup(t, gw, []byte("commits"), bundles[0])
	mustStore(t, gw.propose(a, AddProposal(bundles[1].KeyPackage)), a)
	mustStore(t, gw.propose(a, AddProposal(bundles[2].KeyPackage)), a)
	res := mustCommit(t, a)
	mustProcess(t, res.Commit, a)
	b = mustJoin(t, res.Welcome, bundles[1])
	mustStore(t, gw.propose(a, RemoveProposal(2)), a, b)
	return b, mustCommit(t, a).Commit
}

// remac re-encodes a modified commit with a valid membership tag, so that the
// check under test is the one that fails.
func remac(t *testing.T, g *Group, msg []byte, mutate func(m *publicMessage)) []byte {
	t.Helper()
	m, err := parseMLSMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	mutate(m.public)
	m.public.membershipTag = membershipMAC(g.secrets.membershipKey, m.public.authenticated(), g.ctx.bytes())
	return encode(m.marshal)
}

func TestProcessCommitRejectsBadInput(t *testing.T) {
	flipLast := func(_ *testing.T, _ *Group, msg []byte) []byte {
		out := bytes.Clone(msg)
		out[len(out)-1] ^= 1
		return out
	}
	tests := []struct {
		name  string
		build func(t *testing.T, g *Group, msg []byte) []byte
		want  error
	}{
		{"membership tag", flipLast, errMembershipTag},
		{"signature", func(t *testing.T, g *Group, msg []byte) []byte {
			return remac(t, g, msg, func(m *publicMessage) { m.auth.signature[len(m.auth.signature)-1] ^= 1 })
		}, errBadSignature},
		{"confirmation tag", func(t *testing.T, g *Group, msg []byte) []byte {
			return remac(t, g, msg, func(m *publicMessage) { m.auth.confirmationTag[0] ^= 1 })
		}, errConfirmationTag},
		{"unknown sender", func(t *testing.T, g *Group, msg []byte) []byte {
			return remac(t, g, msg, func(m *publicMessage) { m.content.sender.index = 7 })
		}, ErrUnknownSender},
		{"wrong epoch", func(t *testing.T, g *Group, msg []byte) []byte {
			return remac(t, g, msg, func(m *publicMessage) { m.content.epoch++ })
		}, ErrWrongEpoch},
		{"wrong group", func(t *testing.T, g *Group, msg []byte) []byte {
			return remac(t, g, msg, func(m *publicMessage) { m.content.groupID = []byte("elsewhere") })
		}, ErrWrongGroup},
		{"unknown proposal", func(t *testing.T, g *Group, msg []byte) []byte {
			g.proposals = nil
			return msg
		}, ErrUnknownProposal},
		{"truncated", func(_ *testing.T, _ *Group, msg []byte) []byte { return msg[:len(msg)-5] }, errTruncated},
		{"oversized", func(_ *testing.T, _ *Group, msg []byte) []byte { return make([]byte, maxMessageSize+1) }, errTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, msg := commitFixture(t)
			epoch, auth := b.Epoch(), b.EpochAuthenticator()
			if err := b.ProcessCommit(tt.build(t, b, msg)); !errors.Is(err, tt.want) {
				t.Fatalf("ProcessCommit = %v, want %v", err, tt.want)
			}
			if b.Epoch() != epoch || !bytes.Equal(b.EpochAuthenticator(), auth) {
				t.Error("a rejected commit changed the group")
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		b, msg := commitFixture(t)
		mustProcess(t, msg, b)
		if err := b.ProcessCommit(msg); !errors.Is(err, ErrWrongEpoch) {
			t.Errorf("replayed commit: %v, want ErrWrongEpoch", err)
		}
	})
}
