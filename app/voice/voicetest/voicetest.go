// Package voicetest holds what tests of voice connections share across
// modules: a fast pacer for voice.Config and numbered test frames. It owns no fake server (the fake
// voice gateway lives with the integration tests).
package voicetest

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"
)

// FastPacer paces frames at 1 ms instead of 20 ms, for voice.Config.Pacer:
// ten seconds of audio take half a second, slow enough that loopback UDP
// does not drop bursts.
func FastPacer() (<-chan time.Time, func()) {
	t := time.NewTicker(time.Millisecond)
	return t.C, t.Stop
}

// OpusFrame is frame i of a test stream: 120 bytes that start with an Opus
// table-of-contents byte (so that frame encryptors that parse Opus accept
// it) followed by i.
func OpusFrame(i int) []byte {
	b := bytes.Repeat([]byte{0x78}, 120)
	binary.BigEndian.PutUint32(b[1:], uint32(i))
	return b
}

// Frames is a voice.FrameProvider of N frames, OpusFrame(0) onwards. Before
// frame k it calls Hooks[k], which lets a test break the connection
// mid-stream.
type Frames struct {
	N      int
	Hooks  map[int]func()
	next   int
	closed bool
}

// ProvideOpusFrame implements voice.FrameProvider.
func (f *Frames) ProvideOpusFrame() ([]byte, error) {
	if f.next == f.N {
		return nil, io.EOF
	}
	if h := f.Hooks[f.next]; h != nil {
		h()
	}
	f.next++
	return OpusFrame(f.next - 1), nil
}

// Close implements voice.FrameProvider.
func (f *Frames) Close() error { f.closed = true; return nil }

// Closed reports whether Close was called.
func (f *Frames) Closed() bool { return f.closed }
