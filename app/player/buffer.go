package player

import "sync"

// frameBuffer is a stream's read-ahead: up to limit frames, copied into one
// byte ring that is reused as the output empties it. A playing stream so
// allocates nothing; a copy of each frame carved from fresh memory made a
// thousand streams' garbage, page faults and collections cost more than
// their demuxing.
//
// The reading goroutine puts, the output takes. The frame taken last stays
// in the ring until the next take: the output hands it to the voice
// connection, which is done with it by the next tick.
type frameBuffer struct {
	mu     sync.Mutex
	ring   []byte
	spans  []span // circular: the taken frame, if any, then the buffered ones
	first  int    // index in spans of the oldest
	count  int    // spans in use
	taken  bool   // spans[first] is the frame taken last
	closed bool   // no more frames will be put
}

// span is where a frame lies in the ring, and its index in its track.
type span struct {
	off, size, index int
}

// stop is the offset just past s. An empty frame takes a byte, so that
// frames never share an offset and a ring whose newest frame ends where its
// oldest starts is full.
func (s span) stop() int { return s.off + max(s.size, 1) }

// BufferBytesPerFrame is the room a stream's read-ahead buffer has for each
// frame of Config.Buffer: a frame of 128 kbit/s Opus, with some to spare.
// A buffer too small for frames bigger than that grows.
const BufferBytesPerFrame = 400

func newFrameBuffer(limit int) *frameBuffer {
	return &frameBuffer{ring: make([]byte, limit*BufferBytesPerFrame), spans: make([]span, limit+1)}
}

// limit is how many frames the buffer holds when full.
func (b *frameBuffer) limit() int { return len(b.spans) - 1 }

// put copies data in as the frame at index; false when the buffer is full.
// Called by the reading goroutine only.
func (b *frameBuffer) put(data []byte, index int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buffered() == b.limit() {
		return false
	}
	off, ok := b.room(len(data))
	if !ok {
		b.grow(len(data))
		off = b.end()
	}
	copy(b.ring[off:], data)
	b.spans[(b.first+b.count)%len(b.spans)] = span{off: off, size: len(data), index: index}
	b.count++
	return true
}

// take returns the oldest buffered frame and how many are left, and forgets
// the frame taken before.
func (b *frameBuffer) take() (frame, takeResult, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.taken {
		b.first = (b.first + 1) % len(b.spans)
		b.count--
		b.taken = false
	}
	if b.count == 0 {
		if b.closed {
			return frame{}, frameClosed, 0
		}
		return frame{}, frameLater, 0
	}
	s := b.spans[b.first]
	b.taken = true
	return frame{data: b.ring[s.off : s.off+s.size : s.off+s.size], index: s.index}, frameReady, b.count - 1
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
	if b.taken {
		return b.count - 1
	}
	return b.count
}

// end is the offset just past the newest frame, 0 when the ring is empty.
// b.mu must be held.
func (b *frameBuffer) end() int {
	if b.count == 0 {
		return 0
	}
	return b.spans[(b.first+b.count-1)%len(b.spans)].stop()
}

// room returns where n bytes fit after the newest frame without reaching
// the oldest: straight after it, or else wrapped to the ring's start. b.mu
// must be held.
func (b *frameBuffer) room(n int) (int, bool) {
	n = max(n, 1)
	if b.count == 0 {
		return 0, n <= len(b.ring)
	}
	start, end := b.spans[b.first].off, b.end()
	if end > start { // in use: start to end
		if n <= len(b.ring)-end {
			return end, true
		}
		return 0, n <= start
	}
	return end, n <= start-end // wrapped; in use: start to the ring's end, then 0 to end
}

// grow moves the buffered frames to the start of a ring twice as big (or
// big enough for n more bytes), so that the limit holds for frames bigger
// than the ring was sized for. The frame taken last stays where it is: the
// output may still be using it, and the old ring lives while it does.
// b.mu must be held.
func (b *frameBuffer) grow(n int) {
	if b.taken {
		b.first = (b.first + 1) % len(b.spans)
		b.count--
		b.taken = false
	}
	size := max(n, 1)
	for i := range b.count {
		s := b.spans[(b.first+i)%len(b.spans)]
		size += s.stop() - s.off
	}
	ring := make([]byte, max(2*len(b.ring), 2*size))
	spans := make([]span, len(b.spans))
	off := 0
	for i := range b.count {
		s := b.spans[(b.first+i)%len(b.spans)]
		copy(ring[off:], b.ring[s.off:s.off+s.size])
		spans[i] = span{off: off, size: s.size, index: s.index}
		off += s.stop() - s.off
	}
	b.ring, b.spans, b.first = ring, spans, 0
}
