package player

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// payload is frame i's bytes: size n, every byte naming the frame.
func payload(i, n int) []byte { return bytes.Repeat([]byte{byte(i)}, n) }

// TestFrameBufferAgainstAModel puts and takes frames of random sizes in
// random turns, from a source that reuses one buffer, and checks every frame
// taken against what was put: in order, whole, and the frame taken last
// still intact however much is put before the next take. It also checks
// that the limit holds and that the ring stays bounded.
func TestFrameBufferAgainstAModel(t *testing.T) {
	const limit = 40
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		b := newFrameBuffer(limit)
		src := make([]byte, 0, 2000)
		var queued []int // sizes of the frames put and not taken
		var last []byte  // the frame taken last, as taken
		var lastWant []byte
		put, taken := 0, 0
		maxSize := 600 + 600*int(seed%3) // some runs outgrow the ring
		for step := range 20000 {
			if rng.IntN(2) == 0 {
				n := rng.IntN(maxSize + 1)
				src = append(src[:0], payload(put, n)...)
				ok := b.put(src, put)
				if ok != (len(queued) < limit) {
					t.Fatalf("seed %d step %d: put with %d queued = %v", seed, step, len(queued), ok)
				}
				clear(src) // the source reuses its buffer
				if ok {
					queued = append(queued, n)
					put++
				}
			} else {
				f, got, left := b.take()
				last, lastWant = nil, nil // the output is done with it
				if len(queued) == 0 {
					if got != frameLater {
						t.Fatalf("seed %d step %d: take from an empty buffer = %v", seed, step, got)
					}
				} else {
					want := payload(taken, queued[0])
					if got != frameReady || f.index != taken || !bytes.Equal(f.data, want) {
						t.Fatalf("seed %d step %d: took frame %d (%d bytes), want frame %d (%d bytes)", seed, step, f.index, len(f.data), taken, len(want))
					}
					queued = queued[1:]
					if left != len(queued) {
						t.Fatalf("seed %d step %d: %d left, want %d", seed, step, left, len(queued))
					}
					last, lastWant = f.data, want
					taken++
				}
			}
			if !bytes.Equal(last, lastWant) {
				t.Fatalf("seed %d step %d: the frame taken last was overwritten before the next take", seed, step)
			}
			checkRing(t, &b)
			if got := b.len(); got != len(queued) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, got, len(queued))
			}
		}
		if bound := 4 * (limit + 1) * (headerSize + max(maxSize, BufferBytesPerFrame)); len(b.ring) > bound {
			t.Errorf("seed %d: the ring grew to %d bytes, more than %d", seed, len(b.ring), bound)
		}
		if taken < 1000 {
			t.Errorf("seed %d: only %d frames went through", seed, taken)
		}
	}
}

// checkRing fails t if a frame in use lies outside the ring.
func checkRing(t *testing.T, b *frameBuffer) {
	t.Helper()
	off := b.start
	for range b.count {
		if off == b.wrapAt {
			off = 0
		}
		if off+headerSize > len(b.ring) {
			t.Fatalf("a frame's header at %d, in a ring of %d bytes", off, len(b.ring))
		}
		f := b.at(off)
		off += headerSize + len(f.data)
		if off > len(b.ring) {
			t.Fatalf("a frame ends at %d, in a ring of %d bytes", off, len(b.ring))
		}
	}
	if off != b.end {
		t.Fatalf("the frames end at %d, the buffer says %d", off, b.end)
	}
}

// TestFrameBufferFullToTheLastByte puts a frame, here an empty one, where
// the ring is full to its last byte: it takes its place inside a grown ring.
func TestFrameBufferFullToTheLastByte(t *testing.T) {
	b := newFrameBuffer(3)
	b.put(payload(0, len(b.ring)-headerSize), 0)
	b.put(nil, 1)
	checkRing(t, &b)
	for i := range 2 {
		if f, got, _ := b.take(); got != frameReady || f.index != i {
			t.Fatalf("take = %d %v, want frame %d", f.index, got, i)
		}
	}
}

// TestFrameBufferKeepsItsRing checks that frames of the size the ring was
// made for, and empty ones, go round it without it ever growing: a playing
// stream allocates nothing.
func TestFrameBufferKeepsItsRing(t *testing.T) {
	const limit = 150
	b := newFrameBuffer(limit)
	ring := &b.ring[0]
	for i := range 10 * limit {
		n := BufferBytesPerFrame - headerSize
		if i%7 == 0 {
			n = 0
		}
		for !b.put(payload(i, n), i) {
			if _, got, _ := b.take(); got != frameReady {
				t.Fatalf("a full buffer had nothing to take: %v", got)
			}
		}
	}
	if &b.ring[0] != ring {
		t.Fatalf("the ring was replaced: it grew to %d bytes for frames of at most %d", len(b.ring), BufferBytesPerFrame)
	}
	frame := payload(1, 240)
	allocs := testing.AllocsPerRun(100, func() {
		if _, got, _ := b.take(); got != frameReady {
			t.Fatalf("take: %v", got)
		}
		if !b.put(frame, 1) {
			t.Fatal("no room after a take")
		}
	})
	if allocs != 0 {
		t.Errorf("a take and a put allocated %.1f times", allocs)
	}
}

// TestFrameBufferCloses checks the end of a stream: frames put before the
// close are still taken, then every take says closed.
func TestFrameBufferCloses(t *testing.T) {
	b := newFrameBuffer(4)
	b.put([]byte("a"), 7)
	b.close()
	if f, got, _ := b.take(); got != frameReady || string(f.data) != "a" || f.index != 7 {
		t.Fatalf("take = %q %d %v, want the frame put before the close", f.data, f.index, got)
	}
	for range 2 {
		if _, got, _ := b.take(); got != frameClosed {
			t.Fatalf("take after the last frame = %v, want closed", got)
		}
	}
}
