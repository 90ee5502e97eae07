package mls

import (
	"errors"
	"fmt"
)

// The TLS presentation language as MLS uses it (RFC 9420 section 2.1): fixed-width
// big-endian integers and vectors prefixed by a variable-length integer of one,
// two or four bytes. golang.org/x/crypto/cryptobyte has no such prefix, so the
// package carries this small codec instead of wrapping one.

var (
	errTruncated     = errors.New("truncated input")
	errVarint        = errors.New("invalid variable-length integer")
	errTrailingBytes = errors.New("trailing bytes")
)

// writer appends encodings to a byte slice.
type writer struct {
	b []byte
}

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = append(w.b, byte(v>>8), byte(v)) }
func (w *writer) u32(v uint32) {
	w.b = append(w.b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
func (w *writer) u64(v uint64) {
	w.u32(uint32(v >> 32))
	w.u32(uint32(v))
}
func (w *writer) raw(b []byte) { w.b = append(w.b, b...) }

// varint writes n with the shortest prefix; callers never pass 2^30 or more
// because nothing this package builds gets that large.
func (w *writer) varint(n int) {
	switch {
	case n < 1<<6:
		w.u8(uint8(n))
	case n < 1<<14:
		w.u16(uint16(n) | 0x4000)
	default:
		w.u32(uint32(n) | 0x80000000)
	}
}

// opaque writes a variable-length byte vector.
func (w *writer) opaque(b []byte) {
	w.varint(len(b))
	w.raw(b)
}

// vector writes a variable-length vector whose body f produces.
func (w *writer) vector(f func(w *writer)) {
	var body writer
	f(&body)
	w.opaque(body.b)
}

// optional writes the presence byte and, when present, the value.
func (w *writer) optional(present bool, f func(w *writer)) {
	if !present {
		w.u8(0)
		return
	}
	w.u8(1)
	f(w)
}

// reader consumes encodings; the first failure sticks, so a parser reads a whole
// structure and checks err once.
type reader struct {
	b   []byte
	err error
}

func newReader(b []byte) *reader { return &reader{b: b} }

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(errTruncated)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() uint8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return uint16(b[0])<<8 | uint16(b[1])
}

func (r *reader) u32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (r *reader) u64() uint64 {
	hi := r.u32()
	return uint64(hi)<<32 | uint64(r.u32())
}

// varint reads a length prefix and rejects the reserved form and non-minimal
// encodings (RFC 9420 section 2.1.2).
func (r *reader) varint() int {
	first := r.u8()
	if r.err != nil {
		return 0
	}
	switch first >> 6 {
	case 0:
		return int(first)
	case 1:
		b := r.take(1)
		if b == nil {
			return 0
		}
		n := int(first&0x3f)<<8 | int(b[0])
		if n < 1<<6 {
			r.fail(errVarint)
		}
		return n
	case 2:
		b := r.take(3)
		if b == nil {
			return 0
		}
		n := int(first&0x3f)<<24 | int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if n < 1<<14 {
			r.fail(errVarint)
		}
		return n
	default:
		r.fail(errVarint)
		return 0
	}
}

// opaque reads a variable-length byte vector; the result aliases the input.
func (r *reader) opaque() []byte {
	n := r.varint()
	return r.take(n)
}

// vector reads a variable-length vector and calls elem until its body is used up.
func (r *reader) vector(elem func(r *reader)) {
	body := r.opaque()
	if r.err != nil {
		return
	}
	sub := newReader(body)
	for len(sub.b) > 0 && sub.err == nil {
		elem(sub)
	}
	r.fail(sub.err)
}

// optional reads a presence byte and, when present, the value.
func (r *reader) optional(f func(r *reader)) bool {
	switch r.u8() {
	case 0:
		return false
	case 1:
		f(r)
		return r.err == nil
	default:
		r.fail(errors.New("invalid optional presence byte"))
		return false
	}
}

// finish reports the sticky error or leftover bytes.
func (r *reader) finish(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errTrailingBytes
	}
	if r.err != nil {
		return fmt.Errorf("decoding %s: %w", what, r.err)
	}
	return nil
}

// decode runs f over b and requires it to consume b exactly.
func decode(b []byte, what string, f func(r *reader)) error {
	r := newReader(b)
	f(r)
	return r.finish(what)
}

// encode runs f into a fresh buffer.
func encode(f func(w *writer)) []byte {
	var w writer
	f(&w)
	return w.b
}
