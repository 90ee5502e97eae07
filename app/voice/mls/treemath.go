package mls

import "math/bits"

// Array-based left-balanced binary tree math (RFC 9420 appendix C). Leaves sit at
// even node indices; a tree of n leaves (n a power of two here, the ratchet tree
// keeps its width at one) has 2n-1 nodes.

// nodeWidth is the number of nodes in a tree with n leaves.
func nodeWidth(n uint32) uint32 {
	if n == 0 {
		return 0
	}
	return 2*(n-1) + 1
}

// level is the number of trailing one bits of x: 0 for leaves.
func level(x uint32) uint32 {
	return uint32(bits.TrailingZeros32(^x))
}

// root is the root node of a tree with n leaves.
func root(n uint32) uint32 {
	w := nodeWidth(n)
	return (1 << (bits.Len32(w) - 1)) - 1
}

func left(x uint32) uint32 {
	k := level(x)
	if k == 0 {
		return x
	}
	return x ^ (1 << (k - 1))
}

func right(x uint32) uint32 {
	k := level(x)
	if k == 0 {
		return x
	}
	return x ^ (3 << (k - 1))
}

// parent is the parent of x in a tree with n leaves; root's parent is itself.
func parent(x, n uint32) uint32 {
	if x == root(n) {
		return x
	}
	k := level(x)
	b := (x >> (k + 1)) & 1
	return (x | (1 << k)) ^ (b << (k + 1))
}

// sibling is the other child of x's parent.
func sibling(x, n uint32) uint32 {
	p := parent(x, n)
	if x < p {
		return right(p)
	}
	return left(p)
}

// directPath lists the nodes from x's parent to the root.
func directPath(x, n uint32) []uint32 {
	r := root(n)
	if x == r {
		return nil
	}
	var d []uint32
	for x != r {
		x = parent(x, n)
		d = append(d, x)
	}
	return d
}

// copath lists the siblings of x and of each node of its direct path but the root.
func copath(x, n uint32) []uint32 {
	if x == root(n) {
		return nil
	}
	d := append([]uint32{x}, directPath(x, n)...)
	d = d[:len(d)-1]
	c := make([]uint32, len(d))
	for i, y := range d {
		c[i] = sibling(y, n)
	}
	return c
}

func leafNode(leaf uint32) uint32 { return 2 * leaf }
func nodeLeaf(node uint32) uint32 { return node / 2 }

// isInSubtree reports whether node x lies in the subtree rooted at y.
func isInSubtree(x, y uint32) bool {
	span := uint32(1)<<level(y) - 1
	return x >= y-span && x <= y+span
}

// commonAncestor is the lowest parent whose subtree holds the leaf nodes x
// and y (RFC 9420 appendix C, for two leaves).
func commonAncestor(x, y uint32) uint32 {
	k := uint32(0)
	for x != y {
		x, y = x>>1, y>>1
		k++
	}
	if k == 0 {
		return x
	}
	return x<<k + 1<<(k-1) - 1
}
