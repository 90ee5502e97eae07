package mls

import "fmt"

// maxGeneration bounds how far a receiver ratchets forward for one message, so
// a hostile generation number cannot make it spin.
const maxGeneration = 1 << 14

// secretTree derives per-sender message keys from an epoch's encryption secret
// (RFC 9420 section 9). DAVE protects media outside MLS, so the tree is only
// used for PrivateMessage; it derives on demand rather than caching ratchets.
type secretTree struct {
	encryptionSecret []byte
	leaves           uint32
}

type ratchetKind string

const (
	ratchetHandshake   ratchetKind = "handshake"
	ratchetApplication ratchetKind = "application"
)

// leafSecret walks from the root to the leaf's node.
func (t secretTree) leafSecret(leaf uint32) ([]byte, error) {
	if leaf >= t.leaves {
		return nil, fmt.Errorf("leaf %d outside a tree of %d leaves", leaf, t.leaves)
	}
	target := leafNode(leaf)
	node := root(t.leaves)
	secret := t.encryptionSecret
	for node != target {
		if target < node {
			node = left(node)
			secret = ExpandWithLabel(secret, "tree", []byte("left"), hashSize)
		} else {
			node = right(node)
			secret = ExpandWithLabel(secret, "tree", []byte("right"), hashSize)
		}
	}
	return secret, nil
}

// keyNonce returns the key and nonce of leaf's ratchet at generation.
func (t secretTree) keyNonce(leaf uint32, kind ratchetKind, generation uint32) (key, nonce []byte, err error) {
	if generation > maxGeneration {
		return nil, nil, fmt.Errorf("generation %d beyond %d", generation, maxGeneration)
	}
	secret, err := t.leafSecret(leaf)
	if err != nil {
		return nil, nil, err
	}
	secret = ExpandWithLabel(secret, string(kind), nil, hashSize)
	for g := uint32(0); g < generation; g++ {
		secret = deriveTreeSecret(secret, "secret", g, hashSize)
	}
	return deriveTreeSecret(secret, "key", generation, keySize),
		deriveTreeSecret(secret, "nonce", generation, nonceSize), nil
}

// senderDataKeyNonce derives the key and nonce that protect SenderData from the
// first Nh bytes of the ciphertext.
func senderDataKeyNonce(senderDataSecret, ciphertext []byte) (key, nonce []byte) {
	sample := ciphertext
	if len(sample) > hashSize {
		sample = sample[:hashSize]
	}
	return ExpandWithLabel(senderDataSecret, "key", sample, keySize),
		ExpandWithLabel(senderDataSecret, "nonce", sample, nonceSize)
}
