package mls

import (
	"fmt"
	"slices"
	"testing"
)

func TestVectorsTreeValidation(t *testing.T) {
	type vector struct {
		Tree        hexBytes   `json:"tree"`
		GroupID     hexBytes   `json:"group_id"`
		TreeHashes  []hexBytes `json:"tree_hashes"`
		Resolutions [][]uint32 `json:"resolutions"`
	}
	tally := newTally(t, "tree-validation.json")
	for i, tv := range loadVectors[vector](t, "tree-validation.json") {
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			tree, err := parseRatchetTree(tv.Tree)
			if err != nil {
				t.Fatal(err)
			}
			if len(tree.nodes) != len(tv.TreeHashes) {
				t.Fatalf("tree has %d nodes, vector %d", len(tree.nodes), len(tv.TreeHashes))
			}
			for x := range uint32(len(tree.nodes)) {
				assertBytes(t, fmt.Sprintf("tree hash of node %d", x), tree.treeHash(x, nil), tv.TreeHashes[x])
				got := tree.resolution(x)
				if !slices.Equal(got, tv.Resolutions[x]) && (len(got) != 0 || len(tv.Resolutions[x]) != 0) {
					t.Errorf("resolution(%d) = %v, want %v", x, got, tv.Resolutions[x])
				}
			}
			if err := tree.validate(tv.GroupID, nil); err != nil {
				t.Errorf("validate: %v", err)
			}
			assertBytes(t, "re-encoded tree", tree.bytes(), tv.Tree)
		})
	}
}

func TestVectorsTreeKEM(t *testing.T) {
	type pathSecret struct {
		Node       uint32   `json:"node"`
		PathSecret hexBytes `json:"path_secret"`
	}
	type leafPrivate struct {
		Index          uint32       `json:"index"`
		EncryptionPriv hexBytes     `json:"encryption_priv"`
		SignaturePriv  hexBytes     `json:"signature_priv"`
		PathSecrets    []pathSecret `json:"path_secrets"`
	}
	type update struct {
		Sender        uint32     `json:"sender"`
		UpdatePath    hexBytes   `json:"update_path"`
		PathSecrets   []hexBytes `json:"path_secrets"`
		CommitSecret  hexBytes   `json:"commit_secret"`
		TreeHashAfter hexBytes   `json:"tree_hash_after"`
	}
	type vector struct {
		GroupID                 hexBytes      `json:"group_id"`
		Epoch                   uint64        `json:"epoch"`
		ConfirmedTranscriptHash hexBytes      `json:"confirmed_transcript_hash"`
		RatchetTree             hexBytes      `json:"ratchet_tree"`
		LeavesPrivate           []leafPrivate `json:"leaves_private"`
		UpdatePaths             []update      `json:"update_paths"`
	}
	tally := newTally(t, "treekem.json")
	for i, tv := range loadVectors[vector](t, "treekem.json") {
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			tree, err := parseRatchetTree(tv.RatchetTree)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[uint32]nodeKeys{}
			sigKeys := map[uint32]*SignatureKey{}
			for _, lp := range tv.LeavesPrivate {
				k := nodeKeys{}
				leafKey, err := parseHPKEPrivateKey(lp.EncryptionPriv)
				if err != nil {
					t.Fatal(err)
				}
				k[leafNode(lp.Index)] = leafKey
				for _, ps := range lp.PathSecrets {
					if k[ps.Node], err = nodeKeyFromPathSecret(ps.PathSecret); err != nil {
						t.Fatal(err)
					}
				}
				before := len(k)
				k.prune(tree)
				if len(k) != before {
					t.Fatalf("leaf %d: private state disagrees with the tree", lp.Index)
				}
				keys[lp.Index] = k
				if sigKeys[lp.Index], err = ParseSignatureKey(lp.SignaturePriv); err != nil {
					t.Fatal(err)
				}
			}
			newCtx := func() *groupContext {
				return &groupContext{groupID: tv.GroupID, epoch: tv.Epoch, confirmedTranscriptHash: tv.ConfirmedTranscriptHash}
			}
			for _, up := range tv.UpdatePaths {
				var path updatePath
				if err := decode(up.UpdatePath, "update path", path.unmarshal); err != nil {
					t.Fatal(err)
				}
				var merged *ratchetTree
				for j, k := range keys {
					if j == up.Sender {
						continue
					}
					after := tree.clone()
					got, err := after.applyUpdatePath(up.Sender, j, k, &path, newCtx(), nil)
					if err != nil {
						t.Fatalf("sender %d, receiver %d: %v", up.Sender, j, err)
					}
					assertBytes(t, fmt.Sprintf("sender %d receiver %d path secret", up.Sender, j), got.pathSecret, up.PathSecrets[j])
					assertBytes(t, fmt.Sprintf("sender %d receiver %d commit secret", up.Sender, j), got.commitSecret, up.CommitSecret)
					merged = after
				}
				if merged != nil {
					assertBytes(t, "tree hash after", merged.rootHash(), up.TreeHashAfter)
				}

				// Create a fresh path as the same sender and let everyone else process it.
				created := tree.clone()
				old := tree.leaf(up.Sender)
				tmpl := leafTemplate{signatureKey: sigKeys[up.Sender], credential: old.Credential, capabilities: old.Capabilities, extensions: old.Extensions}
				ctx := newCtx()
				cp, err := created.createUpdatePath(up.Sender, tmpl, ctx, nil)
				if err != nil {
					t.Fatalf("creating path: %v", err)
				}
				wire := encode(cp.path.marshal)
				var parsed updatePath
				if err := decode(wire, "update path", parsed.unmarshal); err != nil {
					t.Fatal(err)
				}
				for j, k := range keys {
					if j == up.Sender {
						continue
					}
					after := tree.clone()
					got, err := after.applyUpdatePath(up.Sender, j, k, &parsed, newCtx(), nil)
					if err != nil {
						t.Fatalf("own path, receiver %d: %v", j, err)
					}
					assertBytes(t, fmt.Sprintf("own path receiver %d commit secret", j), got.commitSecret, cp.commitSecret)
					assertBytes(t, "own path tree hash", after.rootHash(), created.rootHash())
				}
			}
		})
	}
}

func TestTreeValidateRejectsTampering(t *testing.T) {
	type vector struct {
		Tree    hexBytes `json:"tree"`
		GroupID hexBytes `json:"group_id"`
	}
	vectors := loadVectors[vector](t, "tree-validation.json")
	// The largest tree has parents with parent hashes and several leaves.
	tv := vectors[0]
	for _, v := range vectors {
		if len(v.Tree) > len(tv.Tree) {
			tv = v
		}
	}
	parse := func(t *testing.T) *ratchetTree {
		tree, err := parseRatchetTree(tv.Tree)
		if err != nil {
			t.Fatal(err)
		}
		return tree
	}
	firstParent := func(tree *ratchetTree) *parentNode {
		for _, n := range tree.nodes {
			if n.parent != nil {
				return n.parent
			}
		}
		t.Fatal("tree has no parent node")
		return nil
	}
	tests := []struct {
		name   string
		tamper func(tree *ratchetTree)
	}{
		{"leaf signature", func(tree *ratchetTree) { tree.nodes[0].leaf.Signature[5] ^= 1 }},
		{"parent hash", func(tree *ratchetTree) { p := firstParent(tree); p.parentHash = append(p.parentHash, 0) }},
		{"parent key", func(tree *ratchetTree) { p := firstParent(tree); p.encryptionKey = tree.nodes[0].leaf.EncryptionKey }},
		{"unmerged leaf outside the subtree", func(tree *ratchetTree) {
			p := firstParent(tree)
			p.unmergedLeaves = append(p.unmergedLeaves, tree.leafCount()+3)
		}},
		{"duplicate signature key", func(tree *ratchetTree) { tree.nodes[2].leaf.SignatureKey = tree.nodes[0].leaf.SignatureKey }},
	}
	if err := parse(t).validate(tv.GroupID, nil); err != nil {
		t.Fatalf("untampered tree: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := parse(t)
			tt.tamper(tree)
			if err := tree.validate(tv.GroupID, nil); err == nil {
				t.Error("tampered tree validated")
			}
		})
	}
}
