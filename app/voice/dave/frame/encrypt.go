package frame

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// gcmTagSize is the full AES-GCM tag that is truncated to TagSize.
const gcmTagSize = 16

// maxFooterSize bounds the supplemental data of a frame without ranges: tag,
// a five-byte nonce, size byte and marker.
const maxFooterSize = TagSize + 5 + 1 + 2

// Encryptor turns a sender's Opus frames into protocol frames. It is not
// safe for concurrent use: one sender owns it.
//
// In steady state (no generation change, dst with spare capacity) it does not
// allocate. The truncated nonce counts frames from 1 in each epoch; every
// 2^24 frames the generation in its top byte grows, the next ratchet key is
// used and the previous generation's key is erased.
//
// The zero Encryptor has no key. Its fields are in the order a frame reads
// them, so that an Encryptor kept inside its user's state adds as few lines
// of memory per frame as it can.
type Encryptor struct {
	// counter is the number of frames sealed with this ratchet. Its low 32
	// bits are the truncated nonce, counter>>24 the unwrapped generation.
	counter uint64
	gen     uint32
	nonce   [nonceSize]byte
	aead    cipher.AEAD
	ratchet *Ratchet
	scratch []byte
}

// NewEncryptor returns an Encryptor that uses r's keys.
func NewEncryptor(r *Ratchet) *Encryptor {
	e := &Encryptor{}
	e.SetRatchet(r)
	return e
}

// SetRatchet moves the Encryptor to a new epoch's ratchet; the nonce starts
// again from 1. A nil ratchet leaves it without a key.
func (e *Encryptor) SetRatchet(r *Ratchet) {
	e.ratchet = r
	e.counter = 0
	e.gen = 0
	e.aead = nil
}

// HasKey reports whether the Encryptor has a ratchet to take keys from.
func (e *Encryptor) HasKey() bool { return e.ratchet != nil }

// EncryptOpus appends the protocol frame of an Opus frame to dst. Opus
// frames are encrypted whole: there are no unencrypted ranges. The silence
// frame F8 FF FE is appended unchanged, as the protocol wants.
func (e *Encryptor) EncryptOpus(dst, opus []byte) ([]byte, error) {
	if bytes.Equal(opus, Silence) {
		return append(dst, opus...), nil
	}
	return e.seal(dst, opus, nil)
}

// seal appends the protocol frame of media with the given unencrypted
// ranges, which must be ascending, disjoint and inside media.
func (e *Encryptor) seal(dst, media []byte, ranges []Range) ([]byte, error) {
	if e.ratchet == nil {
		return dst, ErrNoKey
	}
	if e.counter >= 1<<(32+generationShift)-1 {
		return dst, errors.New("dave frame: nonce space of this epoch exhausted")
	}
	gen := uint32((e.counter + 1) >> generationShift)
	if e.aead == nil || gen != e.gen {
		if err := e.useGeneration(gen); err != nil {
			return dst, err
		}
	}
	e.counter++
	truncated := uint32(e.counter)
	binary.LittleEndian.PutUint32(e.nonce[nonceSize-4:], truncated)

	start := len(dst)
	dst = slices.Grow(dst, len(media)+gcmTagSize+maxFooterSize+10*len(ranges))
	if len(ranges) == 0 {
		// Seal straight into dst; the first TagSize bytes of the tag follow
		// the ciphertext, so truncating is a re-slice.
		dst = e.aead.Seal(dst, e.nonce[:], media, nil)
		dst = dst[:start+len(media)+TagSize]
	} else {
		aad := gather(e.scratch[:0], media, ranges, true)
		plainAt := len(aad)
		buf := gather(aad, media, ranges, false)
		sealed := e.aead.Seal(buf[len(buf):], e.nonce[:], buf[plainAt:], buf[:plainAt])
		e.scratch = buf
		dst = append(dst, media...)
		scatter(dst[start:], sealed[:len(sealed)-gcmTagSize], ranges)
		dst = append(dst, sealed[len(sealed)-gcmTagSize:][:TagSize]...)
	}
	footerAt := len(dst) - TagSize
	dst = appendULEB128(dst, uint64(truncated))
	for _, r := range ranges {
		dst = appendULEB128(dst, uint64(r.Offset))
		dst = appendULEB128(dst, uint64(r.Size))
	}
	supp := len(dst) - footerAt + 3
	if supp > 0xFF {
		return dst[:start], fmt.Errorf("dave frame: supplemental data of %d bytes", supp)
	}
	return append(dst, byte(supp), markerByte, markerByte), nil
}

// useGeneration switches to generation gen's key and erases older keys.
func (e *Encryptor) useGeneration(gen uint32) error {
	key, err := e.ratchet.Key(gen)
	if err != nil {
		return err
	}
	if gen > 0 {
		e.ratchet.Erase(gen - 1)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	e.gen, e.aead = gen, aead
	return nil
}

func newBlock(key [KeySize]byte) (cipher.Block, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("dave frame: %w", err)
	}
	return block, nil
}

func newAEAD(key [KeySize]byte) (cipher.AEAD, error) {
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("dave frame: %w", err)
	}
	return aead, nil
}

// gather appends to dst the bytes of media inside the ranges (inside true)
// or outside them (inside false), in order.
func gather(dst, media []byte, ranges []Range, inside bool) []byte {
	at := 0
	for _, r := range ranges {
		if inside {
			dst = append(dst, media[r.Offset:r.Offset+r.Size]...)
		} else {
			dst = append(dst, media[at:r.Offset]...)
		}
		at = r.Offset + r.Size
	}
	if !inside {
		dst = append(dst, media[at:]...)
	}
	return dst
}

// scatter writes src over the parts of media outside the ranges, in order.
func scatter(media, src []byte, ranges []Range) {
	at := 0
	for _, r := range ranges {
		src = src[copy(media[at:r.Offset], src):]
		at = r.Offset + r.Size
	}
	copy(media[at:], src)
}
