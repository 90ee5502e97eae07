package frame

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of an AES-128-GCM media key.
const KeySize = 16

// BaseSecretSize is the size of the sender base secret that the MLS exporter
// produces for each sender ("Discord Secure Frames v0", 16 bytes).
const BaseSecretSize = 16

// secretSize is the hash length of MLS ciphersuite 2 (SHA-256): each ratchet
// step produces a secret of this size, like the MLS secret tree does.
const secretSize = sha256.Size

// ErrKeyErased reports a request for a generation the ratchet has already
// moved past and erased.
var ErrKeyErased = errors.New("dave frame: key generation erased")

// Ratchet is a per-sender hash ratchet: the MLS application-secret ratchet of
// RFC 9420 section 9.1 started from the sender base secret. Generation g's key
// is DeriveTreeSecret(secret_g, "key", g, 16) and the next secret is
// DeriveTreeSecret(secret_g, "secret", g, 32).
//
// Keys of skipped generations stay cached until Erase, so that frames that
// arrive out of order can still be decrypted. A Ratchet is not safe for
// concurrent use.
type Ratchet struct {
	next    []byte
	nextGen uint32
	// exhausted is set once generation 2^32-1 has been derived.
	exhausted bool
	keys      map[uint32][KeySize]byte
}

// NewRatchet starts a ratchet from a sender base secret. It copies secret.
func NewRatchet(secret []byte) (*Ratchet, error) {
	if len(secret) == 0 {
		return nil, errors.New("dave frame: empty base secret")
	}
	return &Ratchet{next: append([]byte(nil), secret...), keys: make(map[uint32][KeySize]byte)}, nil
}

// Key returns the key of generation gen, ratcheting forward as needed.
func (r *Ratchet) Key(gen uint32) ([KeySize]byte, error) {
	if k, ok := r.keys[gen]; ok {
		return k, nil
	}
	if gen < r.nextGen || r.exhausted {
		return [KeySize]byte{}, fmt.Errorf("generation %d: %w", gen, ErrKeyErased)
	}
	for {
		g := r.nextGen
		key, next, err := step(r.next, g)
		if err != nil {
			return [KeySize]byte{}, err
		}
		r.keys[g] = key
		r.next = next
		if g == ^uint32(0) {
			r.exhausted = true
		} else {
			r.nextGen++
		}
		if g == gen {
			return key, nil
		}
	}
}

// Erase forgets the key of generation gen and of every earlier generation.
func (r *Ratchet) Erase(gen uint32) {
	for g := range r.keys {
		if g <= gen {
			delete(r.keys, g)
		}
	}
}

// step derives generation gen's key and the secret of generation gen+1.
func step(secret []byte, gen uint32) ([KeySize]byte, []byte, error) {
	var ctx [4]byte
	binary.BigEndian.PutUint32(ctx[:], gen)
	var key [KeySize]byte
	k, err := expandWithLabel(secret, "key", ctx[:], KeySize)
	if err != nil {
		return key, nil, fmt.Errorf("deriving generation %d key: %w", gen, err)
	}
	copy(key[:], k)
	next, err := expandWithLabel(secret, "secret", ctx[:], secretSize)
	if err != nil {
		return key, nil, fmt.Errorf("deriving generation %d secret: %w", gen, err)
	}
	return key, next, nil
}

// expandWithLabel is MLS ExpandWithLabel (RFC 9420 section 8) over
// HKDF-SHA256: the info is the TLS encoding of
// struct { uint16 length; opaque label<V> = "MLS 1.0 " + label; opaque context<V>; }.
// Labels and contexts here are short, so each vector length fits one byte.
func expandWithLabel(secret []byte, label string, context []byte, length int) ([]byte, error) {
	full := "MLS 1.0 " + label
	info := make([]byte, 0, 4+len(full)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(sha256.New, secret, string(info), length)
}
