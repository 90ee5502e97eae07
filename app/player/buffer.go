package player

import (
	"encoding/binary"
	"sync"
)

// frameBuffer is a stream's read-ahead: up to limit frames, copied into one
// byte ring that is reused as the output empties it. A playing stream so
// allocates nothing; a copy of each frame carved from fresh memory made a
// thousand streams' garbage, page faults and collections cost more than
// their demuxing.
//
// Each frame lies in the ring after a header of its size and index, so that
// taking it touches no memory but the buffer's own fields and the frame's:
// with a thousand streams, every line of memory a tick touches is a cache
// miss.
//
// The reading goroutine puts, the output takes. The frame taken last stays
// in the ring until the next take: the output hands it to the voice
// connection, which is done with it by the next tick.
type frameBuffer struct {
	mu     sync.Mutex
	ring   []byte
	start  int // offset of the oldest frame: the one taken last, if any
	end    int // offset just past the newest frame
	wrapAt int // where the frames before the ring's start stop; -1 when they do not wrap
	count  int // frames in the ring, the one taken last included
	// taken is the ring bytes of the frame taken last, at start, header
	// included; 0 when none is. Kept here, release need not read the
	// frame's header again, 20 ms after it was last in cache.
	taken  int
	closed bool // no more frames will be put
	limit  int  // frames the buffer holds when full
}

// headerSize is the room before each frame for its size and index.
const headerSize = 8

// BufferBytesPerFrame is the room a stream's read-ahead buffer has for each
// frame of Config.Buffer: a frame of 128 kbit/s Opus with its header, and
// some to spare. A buffer too small for frames bigger than that grows.
const BufferBytesPerFrame = 400

func newFrameBuffer(limit int) frameBuffer {
	return frameBuffer{ring: make([]byte, limit*BufferBytesPerFrame), wrapAt: -1, limit: limit}
}

// put copies data in as the frame at index; false when the buffer is full.
// Called by the reading goroutine only.
func (b *frameBuffer) put(data []byte, index int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buffered() == b.limit {
		return false
	}
	if b.count == 0 {
		// The oldest frame is the next one: start must point at it.
		b.start, b.end, b.wrapAt = 0, 0, -1
	}
	need := headerSize + len(data)
	switch {
	case b.wrapAt < 0 && b.end+need <= len(b.ring):
	case b.wrapAt < 0 && need <= b.start:
		b.wrapAt, b.end = b.end, 0
	case b.wrapAt >= 0 && b.end+need <= b.start:
	default:
		b.grow(need)
	}
	binary.LittleEndian.PutUint32(b.ring[b.end:], uint32(len(data)))
	binary.LittleEndian.PutUint32(b.ring[b.end+4:], uint32(index))
	copy(b.ring[b.end+headerSize:], data)
	b.end += need
	b.count++
	return true
}

// take returns the oldest buffered frame and how many are left, and forgets
// the frame taken before.
func (b *frameBuffer) take() (frame, takeResult, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.release()
	if b.count == 0 {
		if b.closed {
			return frame{}, frameClosed, 0
		}
		return frame{}, frameLater, 0
	}
	f := b.at(b.start)
	b.taken = headerSize + len(f.data)
	return f, frameReady, b.count - 1
}

// release forgets the frame taken last. b.mu must be held.
func (b *frameBuffer) release() {
	if b.taken == 0 {
		return
	}
	b.start += b.taken
	if b.start == b.wrapAt {
		b.start, b.wrapAt = 0, -1
	}
	b.count--
	b.taken = 0
}

// at reads the frame at off. b.mu must be held.
func (b *frameBuffer) at(off int) frame {
	size := int(binary.LittleEndian.Uint32(b.ring[off:]))
	index := int(int32(binary.LittleEndian.Uint32(b.ring[off+4:])))
	data := off + headerSize
	return frame{data: b.ring[data : data+size : data+size], index: index}
}

// close says that no more frames will be put.
func (b *frameBuffer) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// len is how many frames wait to be taken.
func (b *frameBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffered()
}

// buffered counts the frames not taken yet. b.mu must be held.
func (b *frameBuffer) buffered() int {
	if b.taken > 0 {
		return b.count - 1
	}
	return b.count
}

// grow moves the buffered frames to the start of a ring twice as big (or
// big enough for need more bytes), so that the limit holds for frames
// bigger than the ring was sized for. The frame taken last stays where it
// is: the output may still be using it, and the old ring lives while it
// does. b.mu must be held.
func (b *frameBuffer) grow(need int) {
	b.release()
	used := b.end - b.start
	if b.wrapAt >= 0 {
		used = b.wrapAt - b.start + b.end
	}
	ring := make([]byte, max(2*len(b.ring), 2*(used+need)))
	n := 0
	if b.wrapAt >= 0 {
		n = copy(ring, b.ring[b.start:b.wrapAt])
		n += copy(ring[n:], b.ring[:b.end])
	} else {
		n = copy(ring, b.ring[b.start:b.end])
	}
	b.ring, b.start, b.end, b.wrapAt = ring, 0, n, -1
}
