// Package frame owns DAVE media frame encryption (protocol version 1): the
// per-sender key ratchet, the protocol frame format (ciphertext, 8-byte
// truncated AES-128-GCM tag, ULEB128 nonce and unencrypted ranges,
// supplemental data size, 0xFAFA marker), a sender-side Encryptor for Opus
// frames and a receiver-side Decryptor with generation windows, key expiry
// after transitions, replay rejection and passthrough of non-protocol frames.
//
// It does not own MLS, the sender base secrets (the MLS exporter produces
// them) or the voice gateway opcodes that decide when to switch keys; the DAVE
// session drives Encryptor and Decryptor from those.
//
// The standard library's GCM only produces tags of 12 to 16 bytes, so frames
// are sealed with the full tag and truncated; a received frame is decrypted
// with AES-CTR from the GCM counter block and authenticated by recomputing
// the tag over the recovered plaintext and comparing its first 8 bytes in
// constant time. No plaintext leaves Decrypt unless that comparison passes.
package frame

import (
	"errors"
	"fmt"
)

// Format constants of protocol version 1.
const (
	TagSize = 8 // truncated AES-128-GCM tag
	// MinSupplementalSize covers the tag, a one-byte nonce, no ranges, the
	// size byte and the marker.
	MinSupplementalSize = TagSize + 1 + 1 + 2
	markerByte          = 0xFA
	nonceSize           = 12 // AES-GCM nonce; the truncated nonce sits in its last 4 bytes
	generationShift     = 24 // the generation is the truncated nonce's top byte
)

// Silence is the Opus silence frame. It is sent and accepted without DAVE
// encryption.
var Silence = []byte{0xF8, 0xFF, 0xFE}

// Errors a caller may want to tell apart. Every other failure is malformed
// input.
var (
	ErrNotProtocolFrame = errors.New("dave frame: not a protocol frame")
	ErrPassthrough      = errors.New("dave frame: unencrypted frame while passthrough is off")
	ErrAuth             = errors.New("dave frame: authentication failed")
	ErrReplay           = errors.New("dave frame: nonce already used")
	ErrGeneration       = errors.New("dave frame: generation outside the window")
	ErrNoKey            = errors.New("dave frame: no key ratchet")
)

// Range is one unencrypted range of an interleaved frame.
type Range struct{ Offset, Size int }

// Parsed is a protocol frame split into its parts. Its slices alias the
// frame it came from.
type Parsed struct {
	Media []byte // interleaved ciphertext and unencrypted ranges
	Tag   []byte // 8 bytes
	Nonce uint32 // truncated nonce
	// ranges holds the validated ULEB128 offset/size pairs.
	ranges []byte
}

// AppendRanges appends the frame's unencrypted ranges to dst.
func (p Parsed) AppendRanges(dst []Range) []Range {
	for raw := p.ranges; len(raw) > 0; {
		var r Range
		r, raw = nextRange(raw)
		dst = append(dst, r)
	}
	return dst
}

// nextRange decodes the first pair of a validated range list.
func nextRange(raw []byte) (Range, []byte) {
	off, k1, _ := readULEB128(raw)
	size, k2, _ := readULEB128(raw[k1:])
	return Range{Offset: int(off), Size: int(size)}, raw[k1+k2:]
}

// IsProtocolFrame reports whether frame passes the whitepaper's protocol
// frame check. It does not allocate.
func IsProtocolFrame(frame []byte) bool {
	_, err := Parse(frame)
	return err == nil
}

// Parse splits a protocol frame and validates it: marker, supplemental size,
// nonce, and unencrypted ranges ascending, disjoint and inside the media.
func Parse(frame []byte) (Parsed, error) {
	n := len(frame)
	if n < MinSupplementalSize || frame[n-1] != markerByte || frame[n-2] != markerByte {
		return Parsed{}, ErrNotProtocolFrame
	}
	supp := int(frame[n-3])
	if supp < MinSupplementalSize || supp > n {
		return Parsed{}, fmt.Errorf("supplemental size %d of %d-byte frame: %w", supp, n, ErrNotProtocolFrame)
	}
	media := frame[:n-supp]
	footer := frame[n-supp : n-3]
	p := Parsed{Media: media, Tag: footer[:TagSize]}
	rest := footer[TagSize:]
	nonce, k, err := readULEB128(rest)
	if err != nil || nonce > 0xFFFFFFFF {
		return Parsed{}, fmt.Errorf("nonce: %w", ErrNotProtocolFrame)
	}
	p.Nonce = uint32(nonce)
	rest = rest[k:]
	p.ranges = rest
	end := 0
	for len(rest) > 0 {
		off, k1, err := readULEB128(rest)
		if err != nil {
			return Parsed{}, fmt.Errorf("range offset: %w", ErrNotProtocolFrame)
		}
		size, k2, err := readULEB128(rest[k1:])
		if err != nil {
			return Parsed{}, fmt.Errorf("range size: %w", ErrNotProtocolFrame)
		}
		rest = rest[k1+k2:]
		if off < uint64(end) || off > uint64(len(media)) || size > uint64(len(media))-off {
			return Parsed{}, fmt.Errorf("range %d+%d of %d bytes: %w", off, size, len(media), ErrNotProtocolFrame)
		}
		end = int(off + size)
	}
	return p, nil
}

// appendULEB128 appends v in unsigned LEB128.
func appendULEB128(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

var errULEB128 = errors.New("bad ULEB128")

// readULEB128 reads one unsigned LEB128 value of at most 64 bits and returns
// it with the number of bytes read.
func readULEB128(b []byte) (uint64, int, error) {
	var v uint64
	for i, c := range b {
		if i == 9 && c > 1 {
			return 0, 0, errULEB128
		}
		v |= uint64(c&0x7F) << (7 * i)
		if c < 0x80 {
			return v, i + 1, nil
		}
		if i == 9 {
			return 0, 0, errULEB128
		}
	}
	return 0, 0, errULEB128
}
