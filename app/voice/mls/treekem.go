package mls

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"fmt"
	"slices"
)

// nodeKeys holds the HPKE private keys a member knows, by node index: its own
// leaf and the parents on its direct path it learned path secrets for.
type nodeKeys map[uint32]hpke.PrivateKey

// prune drops keys whose node was blanked or replaced, so a stale key is never
// used to decrypt.
func (k nodeKeys) prune(t *ratchetTree) {
	for x, priv := range k {
		if int(x) >= len(t.nodes) || !bytes.Equal(t.nodes[x].encryptionKey(), priv.PublicKey().Bytes()) {
			delete(k, x)
		}
	}
}

func (k nodeKeys) clone() nodeKeys {
	c := make(nodeKeys, len(k))
	for x, v := range k {
		c[x] = v
	}
	return c
}

// nodeKeyFromPathSecret derives a node's key pair from its path secret.
func nodeKeyFromPathSecret(pathSecret []byte) (hpke.PrivateKey, error) {
	return deriveKeyPair(DeriveSecret(pathSecret, "node"))
}

// pathSecretChain extends first into one secret per remaining path node, plus
// one more: the commit secret.
func pathSecretChain(first []byte, nodes int) [][]byte {
	out := [][]byte{first}
	for range nodes {
		out = append(out, DeriveSecret(out[len(out)-1], "path"))
	}
	return out
}

// copathChild is the child of p whose subtree does not hold leaf node x.
func copathChild(p, x uint32) uint32 {
	if x < p {
		return right(p)
	}
	return left(p)
}

// mergePath installs the public keys of an update path for sender: blanks the
// direct path, writes the new parent nodes on the filtered direct path, then
// computes parent hashes top down and returns the one the leaf must carry.
func (t *ratchetTree) mergePath(sender uint32, fdp []uint32, keys [][]byte) []byte {
	x := leafNode(sender)
	for _, p := range directPath(x, t.leafCount()) {
		t.nodes[p] = node{}
	}
	for i, p := range fdp {
		t.nodes[p] = node{parent: &parentNode{encryptionKey: keys[i]}}
	}
	var ph []byte
	for i := len(fdp) - 1; i >= 0; i-- {
		p := fdp[i]
		ph = t.parentHash(p, copathChild(p, x))
		if i > 0 {
			t.nodes[fdp[i-1]].parent.parentHash = ph
		}
	}
	return ph
}

// leafTemplate is what a committer keeps of its leaf when it refreshes it.
type leafTemplate struct {
	signatureKey *SignatureKey
	credential   Credential
	capabilities Capabilities
	extensions   []Extension
}

// createdPath is the outcome of creating an update path.
type createdPath struct {
	path         *updatePath
	commitSecret []byte
	keys         nodeKeys          // the committer's new private keys
	pathSecrets  map[uint32][]byte // by node, for joiners' GroupSecrets
}

// createUpdatePath refreshes the committer's leaf and direct path in t (which
// already has the commit's proposals applied) and encrypts the path secrets to
// everyone but the leaves in exclude, under the provisional group context ctx
// whose tree hash it fills in (RFC 9420 section 7.5).
func (t *ratchetTree) createUpdatePath(me uint32, tmpl leafTemplate, ctx *groupContext, exclude []uint32) (*createdPath, error) {
	fdp := t.filteredDirectPath(me)
	leafKey, err := generateHPKEKey()
	if err != nil {
		return nil, err
	}
	secrets := pathSecretChain(randomBytes(hashSize), len(fdp))
	out := &createdPath{commitSecret: secrets[len(fdp)], keys: nodeKeys{leafNode(me): leafKey}, pathSecrets: map[uint32][]byte{}}
	pubs := make([][]byte, len(fdp))
	for i, p := range fdp {
		k, err := nodeKeyFromPathSecret(secrets[i])
		if err != nil {
			return nil, err
		}
		out.keys[p] = k
		out.pathSecrets[p] = secrets[i]
		pubs[i] = k.PublicKey().Bytes()
	}
	leaf := &LeafNode{
		EncryptionKey: leafKey.PublicKey().Bytes(),
		SignatureKey:  tmpl.signatureKey.PublicKey(),
		Credential:    tmpl.credential,
		Capabilities:  tmpl.capabilities,
		Source:        leafSourceCommit,
		ParentHash:    t.mergePath(me, fdp, pubs),
		Extensions:    tmpl.extensions,
	}
	if err := leaf.sign(tmpl.signatureKey, ctx.groupID, me); err != nil {
		return nil, err
	}
	t.nodes[leafNode(me)] = node{leaf: leaf}
	ctx.treeHash = t.rootHash()
	ctxBytes := ctx.bytes()

	out.path = &updatePath{leaf: *leaf}
	for i, p := range fdp {
		pn := updatePathNode{encryptionKey: pubs[i]}
		for _, r := range t.resolutionExcluding(copathChild(p, leafNode(me)), exclude) {
			ct, err := encryptWithLabel(t.nodes[r].encryptionKey(), "UpdatePathNode", ctxBytes, secrets[i])
			if err != nil {
				return nil, fmt.Errorf("encrypting path secret: %w", err)
			}
			pn.secrets = append(pn.secrets, ct)
		}
		out.path.nodes = append(out.path.nodes, pn)
	}
	return out, nil
}

// resolutionExcluding is the resolution of x without the given leaves.
func (t *ratchetTree) resolutionExcluding(x uint32, exclude []uint32) []uint32 {
	return slices.DeleteFunc(t.resolution(x), func(n uint32) bool {
		return level(n) == 0 && slices.Contains(exclude, nodeLeaf(n))
	})
}

// appliedPath is the outcome of applying someone else's update path.
type appliedPath struct {
	commitSecret []byte
	pathSecret   []byte // the one decrypted, at the lowest common ancestor
	keys         nodeKeys
}

// applyUpdatePath merges sender's update path into t (proposals already
// applied), checks its leaf and parent hash, and decrypts the path secret that
// me can read with keys (RFC 9420 section 12.4.2). ctx is the provisional group
// context; its tree hash is filled in.
func (t *ratchetTree) applyUpdatePath(sender, me uint32, keys nodeKeys, path *updatePath, ctx *groupContext, exclude []uint32) (*appliedPath, error) {
	if sender == me {
		return nil, errors.New("cannot apply one's own update path")
	}
	fdp := t.filteredDirectPath(sender)
	if len(path.nodes) != len(fdp) {
		return nil, fmt.Errorf("update path has %d nodes, filtered direct path %d", len(path.nodes), len(fdp))
	}
	leaf := path.leaf
	if leaf.Source != leafSourceCommit {
		return nil, errors.New("update path leaf does not come from a commit")
	}
	if err := leaf.validate(ctx.groupID, sender, ctx.extensions); err != nil {
		return nil, err
	}
	old := t.leaf(sender)
	if old == nil {
		return nil, fmt.Errorf("committer leaf %d is blank", sender)
	}
	if !bytes.Equal(old.SignatureKey, leaf.SignatureKey) {
		return nil, errors.New("update path changes the committer's signature key")
	}
	if !bytes.Equal(encode(old.Credential.marshal), encode(leaf.Credential.marshal)) {
		return nil, errors.New("update path changes the committer's credential")
	}
	// Which resolution entries an encrypted secret maps to depends on the tree
	// before the merge; find the common ancestor and our decryption key now.
	mine := leafNode(me)
	k := slices.IndexFunc(fdp, func(p uint32) bool { return isInSubtree(mine, p) })
	if k < 0 {
		return nil, fmt.Errorf("leaf %d shares no path node with committer %d", me, sender)
	}
	res := t.resolutionExcluding(copathChild(fdp[k], leafNode(sender)), exclude)
	if len(path.nodes[k].secrets) != len(res) {
		return nil, fmt.Errorf("path node %d has %d ciphertexts for %d recipients", fdp[k], len(path.nodes[k].secrets), len(res))
	}
	j := slices.IndexFunc(res, func(r uint32) bool { return keys[r] != nil })
	if j < 0 {
		return nil, errors.New("no key to decrypt the update path")
	}
	decryptKey := keys[res[j]]

	pubs := make([][]byte, len(fdp))
	for i, n := range path.nodes {
		pubs[i] = n.encryptionKey
	}
	wantPH := t.mergePath(sender, fdp, pubs)
	if !bytes.Equal(wantPH, leaf.ParentHash) {
		return nil, errors.New("update path leaf carries a wrong parent hash")
	}
	l := leaf
	t.nodes[leafNode(sender)] = node{leaf: &l}
	ctx.treeHash = t.rootHash()

	secret, err := decryptWithLabel(decryptKey, "UpdatePathNode", ctx.bytes(), path.nodes[k].secrets[j])
	if err != nil {
		return nil, fmt.Errorf("decrypting path secret: %w", err)
	}
	chain := pathSecretChain(secret, len(fdp)-k)
	newKeys := keys.clone()
	for i, p := range fdp[k:] {
		priv, err := nodeKeyFromPathSecret(chain[i])
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(priv.PublicKey().Bytes(), pubs[k+i]) {
			return nil, fmt.Errorf("path secret does not match node %d's public key", p)
		}
		newKeys[p] = priv
	}
	newKeys.prune(t)
	return &appliedPath{commitSecret: chain[len(chain)-1], pathSecret: secret, keys: newKeys}, nil
}
