// Package webm reads Opus packets out of a Matroska or WebM stream as it
// arrives, for passing them to a voice client unchanged.
//
// It owns the EBML framing: the EBML header, a Segment and Clusters of
// unknown size (live streams), Info (TimestampScale, Duration), Tracks (the first
// audio track whose codec is A_OPUS, with its OpusHead from CodecPrivate),
// SimpleBlocks and BlockGroups of that track with Xiph, EBML and fixed-size
// lacing, and Cues, from which a caller that can fetch byte ranges learns
// where to resume at a time. It skips every other element without reading
// it into memory, and refuses sizes that do not fit their parent or the
// bounds below. It does not decode audio, seek its input (a caller resumes
// with Resume), or read any track but the chosen one.
//
// Memory is bounded: elements read whole are at most MaxMetadataSize
// (MaxCuesSize for Cues), and a block of the chosen track at most
// MaxBlockSize, kept in one buffer reused from block to block.
package webm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/audio/opus"
)

// Errors the reader refuses a stream with, wrapped with what it saw and
// where.
var (
	ErrNotEBML        = errors.New("webm: not an EBML stream")
	ErrDocType        = errors.New("webm: not a Matroska or WebM document")
	ErrInvalidVint    = errors.New("webm: invalid variable-length integer")
	ErrInvalidElement = errors.New("webm: invalid element")
	ErrElementSize    = errors.New("webm: element size out of bounds")
	ErrUnknownSize    = errors.New("webm: unknown size where a size is required")
	ErrNoOpusTrack    = errors.New("webm: no Opus audio track")
	ErrEncodedTrack   = errors.New("webm: track content is compressed or encrypted")
	ErrInvalidBlock   = errors.New("webm: invalid block")
)

// Bounds on what the reader holds in memory.
const (
	MaxMetadataSize = 1 << 20 // EBML header, SeekHead, Info, Tracks
	MaxCuesSize     = 8 << 20
	MaxBlockSize    = 1 << 20 // one block of the chosen track, all its laced frames
)

// maxLacedFrames is the most frames one block can hold: a count byte + 1.
const maxLacedFrames = 256

// maxElementSize refuses sizes no real stream has (a petabyte), which
// only corrupt input writes.
const maxElementSize = 1 << 50

const defaultTimestampScale = 1_000_000 // 1 ms, in nanoseconds

// Track describes the Opus track the reader chose.
type Track struct {
	Number     uint64
	Codec      string // "A_OPUS"
	SampleRate float64
	Channels   int
	// Head is parsed from CodecPrivate; Head.Passthrough says whether the
	// packets can go to a voice client unchanged.
	Head        opus.Head
	CodecDelay  time.Duration
	SeekPreRoll time.Duration
}

// open is a master element being read: a Cluster, or a BlockGroup in one.
type open struct {
	id  uint32
	end int64 // unknownSize when the Cluster's end is not written
}

// cue is one point of the chosen track that the stream can resume at.
type cue struct {
	time    int64 // in TimestampScale units
	cluster int64 // byte offset of the Cluster from the Segment's data
}

// Reader reads the packets of one Opus track of a Matroska stream. It is not
// safe for concurrent use.
type Reader struct {
	src   source
	err   error // sticky: every error but io.EOF ends the reader
	track Track
	scale int64 // nanoseconds per timestamp unit
	// length is Info's Duration in timestamp units, 0 when not written.
	length float64

	segStart int64 // byte offset of the Segment's data
	segEnd   int64 // unknownSize for a live stream
	opened   []open
	cluster  int64 // the Cluster's Timestamp
	cues     []cue
	cuesAt   int64 // from the SeekHead, relative to segStart; -1 if not given

	block  []byte // the current block's data, frames sliced from it
	sizes  [maxLacedFrames]int
	frames int           // frames in the current block
	frame  int           // next frame to return
	pos    int           // offset in block of the next frame
	ts     time.Duration // timestamp of the next frame
}

// NewReader reads src up to its first Cluster: the EBML header, the
// Segment's metadata, and the chosen track. It refuses a stream that has no
// Opus audio track before its first Cluster.
func NewReader(src io.Reader) (*Reader, error) {
	r := &Reader{src: source{br: bufio.NewReader(src)}, scale: defaultTimestampScale, cuesAt: -1}
	if err := r.readStart(); err != nil {
		return nil, err
	}
	return r, nil
}

// Track returns the chosen track.
func (r *Reader) Track() Track { return r.track }

// maxDuration bounds a believable Segment Duration: a week of audio.
const maxDuration = 7 * 24 * time.Hour

// Duration is the Segment's length as its Info says, or zero when it says
// none (a live stream) or one out of bounds.
func (r *Reader) Duration() time.Duration {
	ns := r.length * float64(r.scale)
	if !(ns > 0) || ns > float64(maxDuration) { // also NaN
		return 0
	}
	return time.Duration(ns)
}

func (r *Reader) readStart() error {
	id, size, err := r.header()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotEBML, noEOF(err))
	}
	if id != idEBML {
		return fmt.Errorf("%w: first element %#x", ErrNotEBML, id)
	}
	if err := r.readEBMLHeader(size); err != nil {
		return err
	}
	for {
		id, size, err = r.header()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: input ended before a Segment", ErrNoOpusTrack)
		}
		if err != nil {
			return err
		}
		if id == idSegment {
			break
		}
		if err := r.skip(id, size); err != nil {
			return err
		}
	}
	r.segStart, r.segEnd = r.src.off, unknownSize
	if size != unknownSize {
		r.segEnd = r.src.off + size
	}
	haveTracks := false
	for {
		id, size, err := r.next()
		if errors.Is(err, io.EOF) {
			if haveTracks {
				return nil // no audio at all: ReadPacket returns io.EOF
			}
			return fmt.Errorf("%w: input ended before Tracks", ErrNoOpusTrack)
		}
		if err != nil {
			return err
		}
		switch id {
		case idInfo:
			err = r.readMaster(id, size, MaxMetadataSize, r.parseInfo)
		case idTracks:
			err = r.readMaster(id, size, MaxMetadataSize, r.parseTracks)
			haveTracks = true
		case idSeekHead:
			err = r.readMaster(id, size, MaxMetadataSize, r.parseSeekHead)
		case idCues:
			err = r.readMaster(id, size, MaxCuesSize, r.parseCues)
		case idCluster:
			if !haveTracks {
				return fmt.Errorf("%w: Cluster at byte %d before Tracks", ErrNoOpusTrack, r.src.off)
			}
			r.push(id, size)
			return nil
		default:
			err = r.skip(id, size)
		}
		if err != nil {
			return err
		}
	}
}

func (r *Reader) readEBMLHeader(size int64) error {
	var docType string
	err := r.readMaster(idEBML, size, MaxMetadataSize, func(b []byte) error {
		return eachChild(b, func(id uint32, data []byte) error {
			if id == idDocType {
				docType = readString(data)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if docType != "webm" && docType != "matroska" {
		return fmt.Errorf("%w: DocType %q", ErrDocType, docType)
	}
	return nil
}

func (r *Reader) parseInfo(b []byte) error {
	return eachChild(b, func(id uint32, data []byte) error {
		if id == idDuration {
			// Duration may come before TimestampScale: Duration() scales it.
			v, err := readFloat(data)
			if err != nil {
				return fmt.Errorf("Duration: %w", err)
			}
			r.length = v
			return nil
		}
		if id != idTimestampScale {
			return nil
		}
		v, err := readUint(data)
		if err != nil {
			return fmt.Errorf("TimestampScale: %w", err)
		}
		if v == 0 || v > uint64(time.Second) {
			return fmt.Errorf("%w: TimestampScale %d ns", ErrInvalidElement, v)
		}
		r.scale = int64(v)
		return nil
	})
}

func (r *Reader) parseTracks(b []byte) error {
	var seen []string
	err := eachChild(b, func(id uint32, data []byte) error {
		if id != idTrackEntry || r.track.Codec != "" {
			return nil
		}
		t, kind, err := parseTrackEntry(data)
		if err != nil {
			return err
		}
		if kind == trackTypeAudio && t.Codec == "A_OPUS" {
			r.track = t
		} else {
			seen = append(seen, fmt.Sprintf("type %d %s", kind, t.Codec))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("webm: Tracks: %w", err)
	}
	if r.track.Codec == "" {
		return fmt.Errorf("%w: tracks are [%s]", ErrNoOpusTrack, strings.Join(seen, ", "))
	}
	return nil
}

func parseTrackEntry(b []byte) (Track, uint64, error) {
	var (
		t       Track
		kind    uint64
		private []byte
		encoded bool
	)
	uintOf := func(data []byte, dst *uint64) error {
		v, err := readUint(data)
		*dst = v
		return err
	}
	err := eachChild(b, func(id uint32, data []byte) error {
		var v uint64
		switch id {
		case idTrackNumber:
			return uintOf(data, &t.Number)
		case idTrackType:
			return uintOf(data, &kind)
		case idCodecID:
			t.Codec = readString(data)
		case idCodecPrivate:
			private = data
		case idCodecDelay:
			err := uintOf(data, &v)
			t.CodecDelay = time.Duration(v)
			return err
		case idSeekPreRoll:
			err := uintOf(data, &v)
			t.SeekPreRoll = time.Duration(v)
			return err
		case idContentEncoding:
			encoded = true
		case idAudio:
			return eachChild(data, func(id uint32, data []byte) error {
				switch id {
				case idSamplingFreq:
					f, err := readFloat(data)
					t.SampleRate = f
					return err
				case idChannels:
					err := uintOf(data, &v)
					t.Channels = int(v)
					return err
				}
				return nil
			})
		}
		return nil
	})
	if err != nil || kind != trackTypeAudio || t.Codec != "A_OPUS" {
		return t, kind, err
	}
	if encoded {
		return t, kind, fmt.Errorf("%w: track %d", ErrEncodedTrack, t.Number)
	}
	if t.Number == 0 {
		return t, kind, fmt.Errorf("%w: track number 0", ErrInvalidElement)
	}
	h, err := opus.ParseHead(private)
	if err != nil {
		return t, kind, fmt.Errorf("track %d CodecPrivate: %w", t.Number, err)
	}
	t.Head = h
	return t, kind, nil
}

// parseSeekHead records where the Cues are, for CuesOffset.
func (r *Reader) parseSeekHead(b []byte) error {
	return eachChild(b, func(id uint32, data []byte) error {
		if id != idSeek {
			return nil
		}
		var target, pos uint64
		var err error
		err = eachChild(data, func(id uint32, data []byte) error {
			switch id {
			case idSeekID:
				target, err = readUint(data)
			case idSeekPosition:
				pos, err = readUint(data)
			}
			return err
		})
		if err == nil && target == idCues && pos < 1<<62 {
			r.cuesAt = int64(pos)
		}
		return err
	})
}

// parseCues records the cue points of the chosen track. Cues name tracks by
// number, so this needs Tracks first; cues of a stream whose Cues come
// earlier are kept for every track.
func (r *Reader) parseCues(b []byte) error {
	err := eachChild(b, func(id uint32, data []byte) error {
		if id != idCuePoint {
			return nil
		}
		var c cue
		var ok bool
		err := eachChild(data, func(id uint32, data []byte) error {
			switch id {
			case idCueTime:
				v, err := readUint(data)
				c.time = int64(v & (1<<62 - 1))
				return err
			case idCueTrackPos:
				var track, pos uint64
				err := eachChild(data, func(id uint32, data []byte) error {
					var err error
					switch id {
					case idCueTrack:
						track, err = readUint(data)
					case idCueClusterPos:
						pos, err = readUint(data)
					}
					return err
				})
				if err == nil && (r.track.Number == 0 || track == r.track.Number) && !ok {
					c.cluster, ok = int64(pos&(1<<62-1)), true
				}
				return err
			}
			return nil
		})
		if err == nil && ok {
			r.cues = append(r.cues, c)
		}
		return err
	})
	sort.SliceStable(r.cues, func(i, j int) bool { return r.cues[i].time < r.cues[j].time })
	if err != nil {
		return fmt.Errorf("webm: Cues: %w", err)
	}
	return nil
}

// CuesOffset returns the byte offset of the Cues that the SeekHead names,
// so a caller whose Cues come after the audio can fetch them and pass them
// to ReadCues.
func (r *Reader) CuesOffset() (int64, bool) {
	if r.cuesAt < 0 {
		return 0, false
	}
	return r.segStart + r.cuesAt, true
}

// ReadCues reads a Cues element, ID and size included, from src: the bytes
// at CuesOffset.
func (r *Reader) ReadCues(src io.Reader) error {
	c := &Reader{src: source{br: bufio.NewReader(src)}, segEnd: unknownSize, track: r.track}
	id, size, err := c.header()
	if err != nil {
		return fmt.Errorf("webm: reading Cues: %w", noEOF(err))
	}
	if id != idCues {
		return fmt.Errorf("%w: element %#x where Cues were expected", ErrInvalidElement, id)
	}
	if err := c.readMaster(id, size, MaxCuesSize, c.parseCues); err != nil {
		return err
	}
	r.cues = c.cues
	return nil
}

// SeekOffset returns the byte offset of the Cluster to resume at for
// playing from t: that of the last cue at or before t. It needs Cues, read
// before the first Cluster, while reading, or with ReadCues.
func (r *Reader) SeekOffset(t time.Duration) (int64, bool) {
	units := int64(t) / r.scale
	i := sort.Search(len(r.cues), func(i int) bool { return r.cues[i].time > units })
	if i == 0 {
		return 0, false
	}
	return r.segStart + r.cues[i-1].cluster, true
}

// Resume continues reading from src, whose first byte is at offset in the
// stream, and which must start with a Cluster: the offset SeekOffset gave.
func (r *Reader) Resume(src io.Reader, offset int64) error {
	r.src = source{br: bufio.NewReader(src), off: offset}
	r.opened, r.frames, r.frame, r.err = r.opened[:0], 0, 0, nil
	id, size, err := r.next()
	if err == nil && id != idCluster {
		err = fmt.Errorf("%w: element %#x at byte %d, not a Cluster", ErrInvalidElement, id, offset)
	}
	if err != nil {
		r.err = fmt.Errorf("webm: resuming: %w", noEOF(err))
		return r.err
	}
	r.push(id, size)
	return nil
}

// ReadPacket returns the next Opus packet of the chosen track and its
// timestamp, skipping zero-length frames. The slice is valid until the next call; copy it to keep it.
// The timestamp of a laced frame after the first of its block is the
// block's plus the durations of the frames before it. At the end of the
// stream it returns io.EOF; any other error is final and is returned again
// by every later call.
func (r *Reader) ReadPacket() ([]byte, time.Duration, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	for {
		if r.frame == r.frames {
			if err := r.nextBlock(); err != nil {
				r.err = err
				return nil, 0, err
			}
			continue
		}
		n := r.sizes[r.frame]
		p, ts := r.block[r.pos:r.pos+n], r.ts
		r.frame++
		r.pos += n
		if n == 0 {
			continue
		}
		if d, err := opus.PacketDuration(p); err == nil {
			r.ts += d
		}
		return p, ts, nil
	}
}

// nextBlock reads elements up to the next block of the chosen track.
func (r *Reader) nextBlock() error {
	for {
		id, size, err := r.next()
		if err != nil {
			return err
		}
		parent := r.parent()
		switch {
		case id == idCluster:
			r.push(id, size)
		case id == idCues:
			err = r.readMaster(id, size, MaxCuesSize, r.parseCues)
		case id == idTimestamp && parent == idCluster:
			err = r.readTimestamp(size)
		case id == idBlockGroup && parent == idCluster:
			if size == unknownSize {
				return fmt.Errorf("%w: BlockGroup at byte %d", ErrUnknownSize, r.src.off)
			}
			r.push(id, size)
		case id == idSimpleBlock && parent == idCluster, id == idBlock && parent == idBlockGroup:
			var ours bool
			ours, err = r.readBlock(size)
			if err == nil && ours {
				return nil
			}
		default:
			err = r.skip(id, size)
		}
		if err != nil {
			return err
		}
	}
}

func (r *Reader) readTimestamp(size int64) error {
	if size > 8 {
		return fmt.Errorf("%w: Cluster Timestamp of %d bytes at byte %d", ErrElementSize, size, r.src.off)
	}
	var b [8]byte
	if err := r.src.readFull(b[:size]); err != nil {
		return fmt.Errorf("webm: Cluster Timestamp: %w", err)
	}
	v, _ := readUint(b[:size])
	r.cluster = int64(v & (1<<62 - 1))
	return nil
}

// readBlock reads a SimpleBlock or Block of size bytes if it belongs to the
// chosen track, and skips it otherwise.
func (r *Reader) readBlock(size int64) (bool, error) {
	at := r.src.off
	if size == unknownSize {
		return false, fmt.Errorf("%w: block at byte %d", ErrUnknownSize, at)
	}
	track, n, err := readVint(&r.src, 8, false)
	if err != nil {
		return false, fmt.Errorf("webm: block track number at byte %d: %w", at, noEOF(err))
	}
	if track != int64(r.track.Number) {
		return false, r.src.skip(size - int64(n))
	}
	if size > MaxBlockSize {
		return false, fmt.Errorf("%w: block of %d bytes at byte %d, at most %d", ErrElementSize, size, at, MaxBlockSize)
	}
	if cap(r.block) < int(size) {
		r.block = make([]byte, size)
	}
	r.block = r.block[:size-int64(n)]
	if err := r.src.readFull(r.block); err != nil {
		return false, fmt.Errorf("webm: block at byte %d: %w", at, err)
	}
	if err := r.lace(); err != nil {
		return false, fmt.Errorf("%w at byte %d: %w", ErrInvalidBlock, at, err)
	}
	return true, nil
}

// lace splits the block in r.block, after its track number, into frames.
func (r *Reader) lace() error {
	b := r.block
	if len(b) < 3 {
		return fmt.Errorf("header of %d bytes", len(b))
	}
	rel := int64(int16(uint16(b[0])<<8 | uint16(b[1])))
	r.ts = time.Duration((r.cluster + rel) * r.scale)
	lacing := b[2] >> 1 & 3
	r.frame = 0
	if lacing == 0 {
		r.frames, r.pos, r.sizes[0] = 1, 3, len(b)-3
		return nil
	}
	if len(b) < 4 {
		return fmt.Errorf("laced block without a frame count")
	}
	count := int(b[3]) + 1
	s := bytesReader{b: b, pos: 4}
	total := 0
	switch lacing {
	case 1: // Xiph: each size but the last as a run of 255s and a final byte
		for i := range count - 1 {
			size := 0
			for {
				v, err := s.ReadByte()
				if err != nil {
					return fmt.Errorf("xiph lace %d: %w", i, io.ErrUnexpectedEOF)
				}
				size += int(v)
				if v < 255 {
					break
				}
			}
			r.sizes[i], total = size, total+size
		}
	case 3: // EBML: the first size, then signed differences from the previous
		prev := 0
		for i := range count - 1 {
			v, n, err := readVint(&s, 8, false)
			if err != nil {
				return fmt.Errorf("ebml lace %d: %w", i, noEOF(err))
			}
			size := int(v)
			if i > 0 {
				if v == unknownSize { // all ones: the largest difference, not a reserved size
					v = 1<<(7*n) - 1
				}
				size = prev + int(v-(1<<(7*n-1)-1))
			}
			if size < 0 || size > len(b) {
				return fmt.Errorf("ebml lace %d of %d bytes in a block of %d", i, size, len(b))
			}
			r.sizes[i], prev, total = size, size, total+size
		}
	case 2: // fixed: equal sizes
		data := len(b) - s.pos
		if data%count != 0 {
			return fmt.Errorf("%d bytes do not split into %d equal frames", data, count)
		}
		for i := range count - 1 {
			r.sizes[i], total = data/count, total+data/count
		}
	}
	last := len(b) - s.pos - total
	if last < 0 {
		return fmt.Errorf("lace sizes total %d bytes, %d in the block", total, len(b)-s.pos)
	}
	r.sizes[count-1], r.frames, r.pos = last, count, s.pos
	return nil
}

// header reads an element's ID and size.
func (r *Reader) header() (uint32, int64, error) {
	id, _, err := readVint(&r.src, 4, true)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, 0, io.EOF
		}
		return 0, 0, fmt.Errorf("webm: element ID at byte %d: %w", r.src.off, err)
	}
	size, _, err := readVint(&r.src, 8, false)
	if err != nil {
		return 0, 0, fmt.Errorf("webm: element %#x size at byte %d: %w", id, r.src.off, noEOF(err))
	}
	if size > maxElementSize {
		return 0, 0, fmt.Errorf("%w: element %#x of %d bytes at byte %d", ErrElementSize, id, size, r.src.off)
	}
	return uint32(id), size, nil
}

// next reads the next element header inside the Segment, closing the
// masters it is not inside, and checks that it fits its parent. It returns
// io.EOF at the end of the Segment or of a stream cut at an element
// boundary (a live stream that stops).
func (r *Reader) next() (uint32, int64, error) {
	for len(r.opened) > 0 {
		top := r.opened[len(r.opened)-1]
		if top.end == unknownSize || r.src.off < top.end {
			break
		}
		r.opened = r.opened[:len(r.opened)-1]
	}
	if r.segEnd != unknownSize && r.src.off >= r.segEnd {
		return 0, 0, io.EOF
	}
	at := r.src.off
	id, size, err := r.header()
	if errors.Is(err, io.EOF) {
		if r.segEnd != unknownSize || r.knownOpen() {
			return 0, 0, fmt.Errorf("webm: input ended at byte %d inside an element: %w", at, io.ErrUnexpectedEOF)
		}
		return 0, 0, io.EOF
	}
	if err != nil {
		return 0, 0, err
	}
	if segmentChild(id) {
		r.opened = r.opened[:0] // a new top-level element ends an open Cluster
		if id == idEBML || id == idSegment {
			return 0, 0, io.EOF // a further Segment is not read
		}
	}
	end := r.segEnd
	for _, o := range r.opened {
		if o.end != unknownSize {
			end = o.end
		}
	}
	if size == unknownSize && id != idCluster {
		return 0, 0, fmt.Errorf("%w: element %#x at byte %d", ErrUnknownSize, id, at)
	}
	if size != unknownSize && end != unknownSize && size > end-r.src.off {
		return 0, 0, fmt.Errorf("%w: element %#x at byte %d has %d bytes, its parent %d left", ErrElementSize, id, at, size, end-r.src.off)
	}
	return id, size, nil
}

// knownOpen reports whether a master of known size is open, so that the
// input must not end here.
func (r *Reader) knownOpen() bool {
	for _, o := range r.opened {
		if o.end != unknownSize {
			return true
		}
	}
	return false
}

func (r *Reader) parent() uint32 {
	if len(r.opened) == 0 {
		return idSegment
	}
	return r.opened[len(r.opened)-1].id
}

func (r *Reader) push(id uint32, size int64) {
	end := int64(unknownSize)
	if size != unknownSize {
		end = r.src.off + size
	}
	r.opened = append(r.opened, open{id: id, end: end})
}

// readMaster reads a master element of at most limit bytes whole and parses
// it with parse.
func (r *Reader) readMaster(id uint32, size, limit int64, parse func([]byte) error) error {
	if size == unknownSize || size > limit {
		return fmt.Errorf("%w: element %#x of %d bytes at byte %d, at most %d read", ErrElementSize, id, size, r.src.off, limit)
	}
	b, err := r.src.readN(size)
	if err != nil {
		return fmt.Errorf("webm: element %#x: %w", id, err)
	}
	return parse(b)
}

// skip discards an element's data without keeping it.
func (r *Reader) skip(id uint32, size int64) error {
	if size == unknownSize {
		return fmt.Errorf("%w: element %#x at byte %d", ErrUnknownSize, id, r.src.off)
	}
	if err := r.src.skip(size); err != nil {
		return fmt.Errorf("webm: skipping element %#x: %w", id, err)
	}
	return nil
}
