package mls

import "testing"

// benchGroup builds a group of n members created by a's adds; it returns the
// creator and the member at leaf 1, both at the same epoch.
func benchGroup(b *testing.B, n int) (a, m *Group, gw *testGateway) {
	b.Helper()
	gw = newTestGateway(b)
	bundle := func(id uint64) *KeyPackageBundle { return newBundle(b, id) }
	var err error
	if a, err = CreateGroup([]byte("bench"), bundle(1), []Extension{gw.extension()}, daveConfig); err != nil {
		b.Fatal(err)
	}
	second := bundle(2)
	for i := 2; i <= n; i++ {
		kb := second
		if i > 2 {
			kb = bundle(uint64(i))
		}
		if _, err := a.StoreProposal(gw.propose(a, AddProposal(kb.KeyPackage))); err != nil {
			b.Fatal(err)
		}
	}
	res, err := a.Commit()
	if err != nil {
		b.Fatal(err)
	}
	if err := a.ProcessCommit(res.Commit); err != nil {
		b.Fatal(err)
	}
	if m, err = JoinGroup(res.Welcome, second, nil, daveConfig); err != nil {
		b.Fatal(err)
	}
	return a, m, gw
}

// BenchmarkCommitRemove measures a commit that removes a member of a
// 16-member group: it carries an update path encrypted to the others.
func BenchmarkCommitRemove(b *testing.B) {
	a, _, gw := benchGroup(b, 16)
	if _, err := a.StoreProposal(gw.propose(a, RemoveProposal(9))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.pending = nil
		if _, err := a.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessCommitRemove measures processing that commit as a member.
func BenchmarkProcessCommitRemove(b *testing.B) {
	a, m, gw := benchGroup(b, 16)
	p := gw.propose(a, RemoveProposal(9))
	for _, g := range []*Group{a, m} {
		if _, err := g.StoreProposal(p); err != nil {
			b.Fatal(err)
		}
	}
	res, err := a.Commit()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g := m.clone()
		if err := g.ProcessCommit(res.Commit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoinGroup measures joining a 16-member group from its Welcome.
func BenchmarkJoinGroup(b *testing.B) {
	a, _, gw := benchGroup(b, 15)
	kb := newBundle(b, 99)
	if _, err := a.StoreProposal(gw.propose(a, AddProposal(kb.KeyPackage))); err != nil {
		b.Fatal(err)
	}
	res, err := a.Commit()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JoinGroup(res.Welcome, kb, nil, daveConfig); err != nil {
			b.Fatal(err)
		}
	}
}
