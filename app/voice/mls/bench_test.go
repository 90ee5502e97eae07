package mls

import "testing"

// benchGroup builds a group of n members created by a's adds; it returns the
// creator and the member at leaf 1, both at the same epoch.
func benchGroup(b *testing.B, n int) (a, m *Group, gw *testGateway) {
	b.Helper()
	gw = newTestGateway(b)
	a = newGroup(b, gw, []byte("bench"), newBundle(b, 1))
	second := newBundle(b, 2)
	for i := 2; i <= n; i++ {
		kb := second
		if i > 2 {
			kb = newBundle(b, uint64(i))
		}
		mustStore(b, gw.propose(a, AddProposal(kb.KeyPackage)), a)
	}
	res := mustCommit(b, a)
	mustProcess(b, res.Commit, a)
	return a, mustJoin(b, res.Welcome, second), gw
}

// BenchmarkCommitRemove measures a commit that removes a member of a
// 16-member group: it carries an update path encrypted to the others.
func BenchmarkCommitRemove(b *testing.B) {
	a, _, gw := benchGroup(b, 16)
	mustStore(b, gw.propose(a, RemoveProposal(9)), a)
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
	mustStore(b, gw.propose(a, RemoveProposal(9)), a, m)
	res := mustCommit(b, a)
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
	mustStore(b, gw.propose(a, AddProposal(kb.KeyPackage)), a)
	res := mustCommit(b, a)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JoinGroup(res.Welcome, kb, nil, daveConfig); err != nil {
			b.Fatal(err)
		}
	}
}
