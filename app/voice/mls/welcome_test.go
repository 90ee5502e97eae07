package mls

import (
	"errors"
	"testing"
)

func TestJoinGroupRejectsBadWelcome(t *testing.T) {
	gw := newTestGateway(t)
	creator, joiner := newBundle(t, 1), newBundle(t, 2)
	a := newGroup(t, gw, []byte("welcomes"), creator)
	mustStore(t, gw.propose(a, AddProposal(joiner.KeyPackage)), a)
	res := mustCommit(t, a)
	// reseal opens the welcome as the joiner, lets mutate change the
	// GroupInfo, and seals it again so only the mutated check can fail.
	reseal := func(t *testing.T, mutate func(gi *groupInfo)) []byte {
		t.Helper()
		var w welcome
		if err := decode(res.Welcome, "welcome", w.unmarshal); err != nil {
			t.Fatal(err)
		}
		gs, err := openGroupSecrets(&w, joiner.KeyPackage.Ref(), joiner.initKey)
		if err != nil {
			t.Fatal(err)
		}
		gi, err := openGroupInfo(&w, gs.joinerSecret, make([]byte, hashSize))
		if err != nil {
			t.Fatal(err)
		}
		mutate(gi)
		sealed, err := sealWelcome(gi, gs.joinerSecret, make([]byte, hashSize), nil, []welcomeMember{{keyPackage: joiner.KeyPackage, pathSecret: gs.pathSecret}})
		if err != nil {
			t.Fatal(err)
		}
		return encode(sealed.marshal)
	}
	resign := func(gi *groupInfo) {
		if err := gi.sign(a.sigKey); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		mutate func(gi *groupInfo)
		want   error
	}{
		{"signature", func(gi *groupInfo) { gi.signature[len(gi.signature)-1] ^= 1 }, errBadSignature},
		{"unknown signer", func(gi *groupInfo) { gi.signer = 9; resign(gi) }, ErrUnknownSender},
		{"confirmation tag", func(gi *groupInfo) { gi.confirmationTag[0] ^= 1; resign(gi) }, errConfirmationTag},
		{"tree hash", func(gi *groupInfo) { gi.context.treeHash[0] ^= 1; resign(gi) }, errTreeHash},
		{"no tree", func(gi *groupInfo) { gi.extensions = nil; resign(gi) }, errNoTree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := JoinGroup(reseal(t, tt.mutate), joiner, nil, daveConfig); !errors.Is(err, tt.want) {
				t.Errorf("JoinGroup = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("unchanged welcome joins", func(t *testing.T) {
		if _, err := JoinGroup(reseal(t, func(*groupInfo) {}), joiner, nil, daveConfig); err != nil {
			t.Fatal(err)
		}
	})
}
