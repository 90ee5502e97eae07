package mls

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

const (
	nodeTypeLeaf   uint8 = 1
	nodeTypeParent uint8 = 2
)

// maxTreeLeaves bounds the ratchet trees this package accepts; DAVE groups are
// voice channels, far smaller than this.
const maxTreeLeaves = 1 << 12

// node is one slot of the ratchet tree: a leaf, a parent, or blank (both nil).
type node struct {
	leaf   *LeafNode
	parent *parentNode
}

func (n node) blank() bool { return n.leaf == nil && n.parent == nil }

func (n node) encryptionKey() []byte {
	switch {
	case n.leaf != nil:
		return n.leaf.EncryptionKey
	case n.parent != nil:
		return n.parent.encryptionKey
	}
	return nil
}

// ratchetTree is the array form of the tree; its width is always that of a
// power-of-two number of leaves.
type ratchetTree struct {
	nodes []node
}

func (t *ratchetTree) leafCount() uint32 { return uint32(len(t.nodes)+1) / 2 }

func (t *ratchetTree) leaf(i uint32) *LeafNode {
	if i >= t.leafCount() {
		return nil
	}
	return t.nodes[leafNode(i)].leaf
}

func (t *ratchetTree) clone() *ratchetTree {
	c := &ratchetTree{nodes: make([]node, len(t.nodes))}
	for i, n := range t.nodes {
		if n.leaf != nil {
			l := *n.leaf
			c.nodes[i].leaf = &l
		}
		if n.parent != nil {
			p := *n.parent
			p.unmergedLeaves = slices.Clone(p.unmergedLeaves)
			c.nodes[i].parent = &p
		}
	}
	return c
}

// marshal writes the ratchet_tree extension body: optional<Node> ratchet_tree<V>
// without trailing blank nodes.
func (t *ratchetTree) marshal(w *writer) {
	end := len(t.nodes)
	for end > 0 && t.nodes[end-1].blank() {
		end--
	}
	w.vector(func(w *writer) {
		for _, n := range t.nodes[:end] {
			w.optional(!n.blank(), func(w *writer) {
				if n.leaf != nil {
					w.u8(nodeTypeLeaf)
					n.leaf.marshal(w)
				} else {
					w.u8(nodeTypeParent)
					n.parent.marshal(w)
				}
			})
		}
	})
}

func (t *ratchetTree) bytes() []byte { return encode(t.marshal) }

// parseRatchetTree decodes a ratchet_tree extension body and checks its shape.
func parseRatchetTree(b []byte) (*ratchetTree, error) {
	var nodes []node
	err := decode(b, "ratchet tree", func(r *reader) {
		r.vector(func(r *reader) {
			if len(nodes) >= int(nodeWidth(maxTreeLeaves)) {
				r.fail(fmt.Errorf("tree wider than %d leaves", maxTreeLeaves))
				return
			}
			var n node
			r.optional(func(r *reader) {
				typ := r.u8()
				wantLeaf := len(nodes)%2 == 0
				switch {
				case typ == nodeTypeLeaf && wantLeaf:
					n.leaf = new(LeafNode)
					n.leaf.unmarshal(r)
				case typ == nodeTypeParent && !wantLeaf:
					n.parent = new(parentNode)
					n.parent.unmarshal(r)
				default:
					r.fail(fmt.Errorf("node %d has type %d", len(nodes), typ))
				}
			})
			nodes = append(nodes, n)
		})
	})
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 || nodes[len(nodes)-1].blank() {
		return nil, errors.New("ratchet tree is empty or ends in a blank node")
	}
	leaves := uint32(1)
	for nodeWidth(leaves) < uint32(len(nodes)) {
		leaves *= 2
	}
	full := make([]node, nodeWidth(leaves))
	copy(full, nodes)
	return &ratchetTree{nodes: full}, nil
}

// resolution lists the nodes that together cover x's subtree (RFC 9420 section 4.1.1).
func (t *ratchetTree) resolution(x uint32) []uint32 {
	n := t.nodes[x]
	switch {
	case n.leaf != nil:
		return []uint32{x}
	case n.parent != nil:
		res := []uint32{x}
		for _, l := range n.parent.unmergedLeaves {
			res = append(res, leafNode(l))
		}
		return res
	case level(x) == 0:
		return nil
	}
	return append(t.resolution(left(x)), t.resolution(right(x))...)
}

// filteredDirectPath is the direct path of leaf without the nodes whose copath
// child has an empty resolution.
func (t *ratchetTree) filteredDirectPath(leaf uint32) []uint32 {
	n := t.leafCount()
	x := leafNode(leaf)
	dp, cp := directPath(x, n), copath(x, n)
	var out []uint32
	for i, p := range dp {
		if len(t.resolution(cp[i])) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// treeHash computes the tree hash of x's subtree as if the leaves in exclude
// were blank and absent from every unmerged list (the "original" tree that
// parent hashes refer to). exclude is nil for the plain tree hash.
func (t *ratchetTree) treeHash(x uint32, exclude []uint32) []byte {
	return t.treeHashCached(x, exclude, nil)
}

// allTreeHashes returns the plain tree hash of every node, computed once.
func (t *ratchetTree) allTreeHashes() [][]byte {
	out := make([][]byte, len(t.nodes))
	var walk func(x uint32) []byte
	walk = func(x uint32) []byte {
		if level(x) > 0 {
			walk(left(x))
			walk(right(x))
		}
		out[x] = t.treeHashCached(x, nil, out)
		return out[x]
	}
	walk(root(t.leafCount()))
	return out
}

// treeHashCached is treeHash reusing plain hashes (indexed by node) for
// subtrees that hold no excluded leaf, so validation stays linear per node.
func (t *ratchetTree) treeHashCached(x uint32, exclude []uint32, plain [][]byte) []byte {
	if plain != nil && plain[x] != nil && !slices.ContainsFunc(exclude, func(l uint32) bool { return isInSubtree(leafNode(l), x) }) {
		return plain[x]
	}
	if level(x) == 0 {
		leaf := t.nodes[x].leaf
		if slices.Contains(exclude, nodeLeaf(x)) {
			leaf = nil
		}
		return hash(encode(func(w *writer) {
			w.u8(nodeTypeLeaf)
			w.u32(nodeLeaf(x))
			w.optional(leaf != nil, leaf.marshal)
		}))
	}
	lh, rh := t.treeHashCached(left(x), exclude, plain), t.treeHashCached(right(x), exclude, plain)
	p := t.nodes[x].parent
	return hash(encode(func(w *writer) {
		w.u8(nodeTypeParent)
		w.optional(p != nil, func(w *writer) {
			q := *p
			if len(exclude) > 0 {
				q.unmergedLeaves = slices.DeleteFunc(slices.Clone(p.unmergedLeaves), func(l uint32) bool {
					return slices.Contains(exclude, l)
				})
			}
			q.marshal(w)
		})
		w.opaque(lh)
		w.opaque(rh)
	}))
}

func (t *ratchetTree) rootHash() []byte { return t.treeHash(root(t.leafCount()), nil) }

// parentHash is the parent hash of p (a non-blank parent) with copath child s.
func (t *ratchetTree) parentHash(p, s uint32) []byte {
	return t.parentHashCached(p, s, nil)
}

func (t *ratchetTree) parentHashCached(p, s uint32, plain [][]byte) []byte {
	pn := t.nodes[p].parent
	return hash(encode(func(w *writer) {
		w.opaque(pn.encryptionKey)
		w.opaque(pn.parentHash)
		w.opaque(t.treeHashCached(s, pn.unmergedLeaves, plain))
	}))
}

func (t *ratchetTree) nodeParentHash(x uint32) []byte {
	n := t.nodes[x]
	if n.leaf != nil {
		if n.leaf.Source != leafSourceCommit {
			return nil
		}
		return n.leaf.ParentHash
	}
	return n.parent.parentHash
}

// parentHashValidFrom reports whether the non-blank node d, in the resolution
// of p's child c, has a parent hash valid with respect to p (RFC 9420 section
// 7.9.2); want is the parent hash of p with copath child s.
func (t *ratchetTree) parentHashValidFrom(d, p, c uint32, res []uint32, want []byte) bool {
	if !bytes.Equal(t.nodeParentHash(d), want) {
		return false
	}
	var others []uint32
	for _, r := range res {
		if r != d {
			others = append(others, r)
		}
	}
	var unmerged []uint32
	for _, l := range t.nodes[p].parent.unmergedLeaves {
		if isInSubtree(leafNode(l), c) {
			unmerged = append(unmerged, leafNode(l))
		}
	}
	slices.Sort(others)
	slices.Sort(unmerged)
	return slices.Equal(others, unmerged)
}

// verifyParentHashes checks that every non-blank parent node is parent-hash
// valid, top down: exactly one node in its children's resolutions chains to it.
func (t *ratchetTree) verifyParentHashes() error {
	plain := t.allTreeHashes()
	for p := range uint32(len(t.nodes)) {
		if t.nodes[p].parent == nil {
			continue
		}
		found := 0
		for _, c := range []uint32{left(p), right(p)} {
			s := left(p) ^ right(p) ^ c
			want := t.parentHashCached(p, s, plain)
			res := t.resolution(c)
			for _, d := range res {
				if t.parentHashValidFrom(d, p, c, res, want) {
					found++
				}
			}
		}
		if found != 1 {
			return fmt.Errorf("parent node %d is not parent-hash valid", p)
		}
	}
	return nil
}

// validate runs the checks a joiner makes on a whole tree (RFC 9420 section
// 12.4.3.1) except the tree hash comparison, which needs the group context.
func (t *ratchetTree) validate(groupID []byte, ctxExtensions []Extension) error {
	if err := t.verifyParentHashes(); err != nil {
		return err
	}
	encKeys := map[string]bool{}
	sigKeys := map[string]bool{}
	for x, n := range t.nodes {
		if n.blank() {
			continue
		}
		key := string(n.encryptionKey())
		if encKeys[key] {
			return fmt.Errorf("node %d repeats an encryption key", x)
		}
		encKeys[key] = true
		if n.leaf != nil {
			if sigKeys[string(n.leaf.SignatureKey)] {
				return fmt.Errorf("leaf %d repeats a signature key", nodeLeaf(uint32(x)))
			}
			sigKeys[string(n.leaf.SignatureKey)] = true
			if err := n.leaf.validate(groupID, nodeLeaf(uint32(x)), ctxExtensions); err != nil {
				return err
			}
			continue
		}
		for _, l := range n.parent.unmergedLeaves {
			if err := t.checkUnmerged(uint32(x), l); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkUnmerged checks that unmerged leaf l of parent p is a non-blank
// descendant and that the parents between them list it too.
func (t *ratchetTree) checkUnmerged(p, l uint32) error {
	x := leafNode(l)
	if l >= t.leafCount() || !isInSubtree(x, p) || t.nodes[x].leaf == nil {
		return fmt.Errorf("parent %d lists unmerged leaf %d that is not a member below it", p, l)
	}
	for _, q := range directPath(x, t.leafCount()) {
		if q == p {
			return nil
		}
		if pn := t.nodes[q].parent; pn != nil && !slices.Contains(pn.unmergedLeaves, l) {
			return fmt.Errorf("parent %d lacks unmerged leaf %d listed above it", q, l)
		}
	}
	return nil
}

// addLeaf places leaf in the leftmost blank leaf slot, growing the tree when
// full, and marks it unmerged on its direct path (RFC 9420 section 7.7).
func (t *ratchetTree) addLeaf(leaf *LeafNode) (uint32, error) {
	i := uint32(0)
	for ; i < t.leafCount(); i++ {
		if t.nodes[leafNode(i)].blank() {
			break
		}
	}
	if i == t.leafCount() {
		if 2*t.leafCount() > maxTreeLeaves {
			return 0, fmt.Errorf("group full at %d leaves", maxTreeLeaves)
		}
		t.nodes = append(t.nodes, make([]node, len(t.nodes)+1)...)
	}
	t.nodes[leafNode(i)] = node{leaf: leaf}
	for _, p := range directPath(leafNode(i), t.leafCount()) {
		if pn := t.nodes[p].parent; pn != nil {
			pn.unmergedLeaves = append(pn.unmergedLeaves, i)
		}
	}
	return i, nil
}

// removeLeaf blanks leaf i and its direct path, then truncates the tree.
func (t *ratchetTree) removeLeaf(i uint32) error {
	if t.leaf(i) == nil {
		return fmt.Errorf("leaf %d is not a member", i)
	}
	x := leafNode(i)
	t.nodes[x] = node{}
	for _, p := range directPath(x, t.leafCount()) {
		t.nodes[p] = node{}
	}
	t.truncate()
	return nil
}

// truncate halves the tree while its right half is entirely blank.
func (t *ratchetTree) truncate() {
	for t.leafCount() > 1 {
		half := len(t.nodes) / 2
		for _, n := range t.nodes[half:] {
			if !n.blank() {
				return
			}
		}
		t.nodes = t.nodes[:half]
	}
}

// findLeaf returns the index of the first member whose leaf matches.
func (t *ratchetTree) findLeaf(match func(*LeafNode) bool) (uint32, bool) {
	for i := range t.leafCount() {
		if l := t.leaf(i); l != nil && match(l) {
			return i, true
		}
	}
	return 0, false
}
