package mls

import (
	"bytes"
	"errors"
	"testing"
)

func TestSplitMessages(t *testing.T) {
	gw := newTestGateway(t)
	g, err := CreateGroup([]byte("split"), newBundle(t, 1), []Extension{gw.extension()}, daveConfig)
	if err != nil {
		t.Fatal(err)
	}
	p1 := gw.propose(g, AddProposal(newBundle(t, 2).KeyPackage))
	p2 := gw.propose(g, AddProposal(newBundle(t, 3).KeyPackage))
	joined := append(bytes.Clone(p1), p2...)
	got, err := SplitMessages(joined)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], p1) || !bytes.Equal(got[1], p2) {
		t.Fatalf("split into %d messages, want the two originals", len(got))
	}
	if _, err := SplitMessages(joined[:len(joined)-1]); !errors.Is(err, errTruncated) {
		t.Errorf("truncated: %v, want errTruncated", err)
	}

	refs := AppendVector(AppendVector(nil, []byte("ref one")), []byte("ref two"))
	vs, err := SplitVectors(refs)
	if err != nil || len(vs) != 2 || string(vs[1]) != "ref two" {
		t.Fatalf("SplitVectors = %q, %v", vs, err)
	}
	if _, err := SplitVectors(refs[:len(refs)-2]); err == nil {
		t.Error("truncated vector list accepted")
	}
}
