// Package ogg reads Opus packets out of an Ogg stream (RFC 3533, RFC 7845)
// one page at a time, for passing them to a voice client unchanged, and
// writes packets into one (Writer), for ffmpeg to decode frames the bot
// already has.
//
// It owns page framing: the capture pattern, CRC, page sequence numbers,
// lacing values (a packet of n*255 bytes ends with a 0) and packets
// continued across pages. It picks the first logical stream whose first
// packet is an OpusHead and skips the pages of every other stream. A chained
// stream (internet radio starts a new link per song) goes on with the next
// link's Opus stream. LastGranule finds the last granule position in the
// tail of a stream, which gives a file's length. It does not decode audio,
// seek, or interpret OpusTags, which it skips without keeping them in
// memory.
//
// Memory is bounded: one page buffer (at most 65,307 bytes, grown to the
// largest page seen) and one buffer for packets continued across pages (at
// most MaxPacketSize).
package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/iddv/timmybot/app/audio/opus"
)

// Errors the reader refuses a stream with, wrapped with what it saw and the
// byte offset of the page.
var (
	ErrCapturePattern  = errors.New("ogg: page does not start with \"OggS\"")
	ErrVersion         = errors.New("ogg: unsupported page version")
	ErrCRC             = errors.New("ogg: page CRC mismatch")
	ErrTruncatedPage   = errors.New("ogg: truncated page")
	ErrNoOpusStream    = errors.New("ogg: no Opus stream")
	ErrContinuation    = errors.New("ogg: page continuation does not match the previous page")
	ErrPageLost        = errors.New("ogg: page sequence gap")
	ErrPacketTooLarge  = errors.New("ogg: packet too large")
	ErrTruncatedPacket = errors.New("ogg: stream ends inside a packet")
	ErrInvalidTags     = errors.New("ogg: second packet is not OpusTags")
)

// MaxPacketSize bounds a packet continued across pages. The largest Opus
// packet RFC 6716 allows is 48 frames of 1275 bytes plus framing, under this.
const MaxPacketSize = 1 << 16

const (
	headerSize   = 27
	maxSegments  = 255
	maxBodySize  = maxSegments * 255
	flagContinue = 0x01
	flagBOS      = 0x02
	flagEOS      = 0x04
)

type state int

const (
	stateHead  state = iota // looking for a BOS page with an OpusHead
	stateTags               // skipping the OpusTags packet
	stateAudio              // reading audio packets
)

// Reader reads the packets of the first Opus stream of an Ogg stream.
// It is not safe for concurrent use.
type Reader struct {
	src io.Reader
	err error // sticky: every error but io.EOF ends the reader

	state   state
	chained bool // a link has ended: the next one may start, or the stream end
	head    opus.Head
	serial  uint32
	seq     uint32
	granule int64

	// The current page of the selected stream.
	offset  int64 // of the page being read
	next    int64 // of the page after it
	hdr     [headerSize + maxSegments]byte
	segs    []byte // lacing values, in hdr
	body    []byte
	seg     int // next lacing value
	pos     int // offset in body of the next segment
	eos     bool
	partial []byte // a packet continued across pages
}

// NewReader returns a reader of the Ogg stream src. It reads nothing until
// Head or ReadPacket is called.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, granule: -1}
}

// Head reads up to the OpusHead of the selected stream, if it has not yet,
// and returns it. After a chained stream moves to its next link, Head
// returns that link's header.
func (r *Reader) Head() (opus.Head, error) {
	if r.err == nil && r.state == stateHead && !r.chained {
		r.err = r.findHead()
	}
	if r.err != nil {
		return opus.Head{}, r.err
	}
	return r.head, nil
}

// Granule returns the granule position of the page on which the packet that
// ReadPacket last returned ended: the number of 48 kHz samples, pre-skip
// included, from the start of the link to the end of the last packet
// completed on that page. It is -1 before the first packet.
func (r *Reader) Granule() int64 { return r.granule }

// Serial returns the serial number of the selected stream, once Head has
// found it.
func (r *Reader) Serial() uint32 { return r.serial }

// LastGranule returns the granule position of the last page of stream
// serial in tail, the end of an Ogg stream read on its own (a Range
// request); false when tail holds no such page with a granule position.
// Only a page whose CRC holds counts, so bytes of a packet that happen to
// read "OggS" are passed over, as is a page cut off at tail's start.
func LastGranule(tail []byte, serial uint32) (int64, bool) {
	for i := bytes.LastIndex(tail, capture); i >= 0; i = bytes.LastIndex(tail[:i], capture) {
		p := tail[i:]
		if len(p) < headerSize || p[4] != 0 || len(p) < headerSize+int(p[26]) {
			continue
		}
		end := headerSize + int(p[26])
		for _, v := range p[headerSize:end] {
			end += int(v)
		}
		if len(p) < end || binary.LittleEndian.Uint32(p[14:]) != serial {
			continue
		}
		crc := crcUpdate(0, p[:22])
		crc = crcUpdate(crc, zeroCRC[:])
		if crcUpdate(crc, p[26:end]) != binary.LittleEndian.Uint32(p[22:]) {
			continue
		}
		// -1: no packet ends on this page.
		if granule := int64(binary.LittleEndian.Uint64(p[6:])); granule >= 0 {
			return granule, true
		}
	}
	return 0, false
}

// capture is the pattern every page starts with.
var capture = []byte("OggS")

// ReadPacket returns the next Opus packet of the selected stream, skipping
// zero-length packets. The slice is valid until the next call; copy it to
// keep it. At the end of the stream it returns io.EOF; any other error is
// final and is returned again by every later call.
func (r *Reader) ReadPacket() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	p, err := r.readPacket()
	if err != nil {
		r.err = err
	}
	return p, err
}

func (r *Reader) readPacket() ([]byte, error) {
	for {
		switch r.state {
		case stateHead:
			if err := r.findHead(); err != nil {
				return nil, err
			}
		case stateTags:
			p, err := r.nextPacket(true)
			if err != nil {
				return nil, err
			}
			if len(p) < 8 || string(p[:8]) != "OpusTags" {
				return nil, fmt.Errorf("%w: packet starts %q (page at byte %d)", ErrInvalidTags, p, r.offset)
			}
			r.state = stateAudio
		case stateAudio:
			if r.eos && r.seg == len(r.segs) {
				r.state, r.chained = stateHead, true
				continue
			}
			p, err := r.nextPacket(false)
			if err != nil {
				return nil, err
			}
			if len(p) > 0 {
				return p, nil
			}
		}
	}
}

// findHead reads pages up to a BOS page whose first packet is an OpusHead
// and selects that page's stream. In the first link every stream starts
// before any stream's data, so a data page before an Opus BOS page means
// there is no Opus stream. After a link ends it skips pages until the next
// link's Opus stream, and a clean end of input is the end of the stream.
func (r *Reader) findHead() error {
	for {
		err := r.readPage()
		if errors.Is(err, io.EOF) {
			if r.chained {
				return io.EOF
			}
			return fmt.Errorf("%w: input ended after %d bytes", ErrNoOpusStream, r.next)
		}
		if err != nil {
			return err
		}
		flags := r.hdr[5]
		if flags&flagBOS == 0 {
			if r.chained {
				continue
			}
			return fmt.Errorf("%w: data page at byte %d before any Opus stream began", ErrNoOpusStream, r.offset)
		}
		n, ends := r.firstPacketLen()
		if !ends || n < 8 || string(r.body[:8]) != "OpusHead" {
			continue // another codec's stream
		}
		h, err := opus.ParseHead(r.body[:n])
		if err != nil {
			return fmt.Errorf("ogg: stream %d (page at byte %d): %w", r.pageSerial(), r.offset, err)
		}
		r.head = h
		r.serial = r.pageSerial()
		r.seq = r.pageSeq()
		r.eos = flags&flagEOS != 0
		r.seg, r.pos = len(r.segs), len(r.body) // RFC 7845: OpusHead is alone on its page
		r.state = stateTags
		return nil
	}
}

// firstPacketLen returns the length of the page's first packet and whether
// it ends on this page.
func (r *Reader) firstPacketLen() (int, bool) {
	n := 0
	for _, v := range r.segs {
		n += int(v)
		if v < 255 {
			return n, true
		}
	}
	return n, false
}

// nextPacket returns the next packet of the selected stream. With discard
// it keeps only the first 8 bytes of a packet continued across pages, so
// that an OpusTags packet of any size costs no memory.
func (r *Reader) nextPacket(discard bool) ([]byte, error) {
	r.partial = r.partial[:0]
	continued := false
	for {
		if r.seg == len(r.segs) {
			if r.eos {
				return nil, fmt.Errorf("%w: stream %d ended (page at byte %d)", ErrTruncatedPacket, r.serial, r.offset)
			}
			if err := r.nextStreamPage(continued); err != nil {
				return nil, err
			}
		}
		start := r.pos
		for r.seg < len(r.segs) {
			v := int(r.segs[r.seg])
			r.seg++
			r.pos += v
			if v == 255 {
				continue
			}
			r.granule = int64(binary.LittleEndian.Uint64(r.hdr[6:]))
			if !continued {
				return r.body[start:r.pos], nil
			}
			if err := r.keep(r.body[start:r.pos], discard); err != nil {
				return nil, err
			}
			return r.partial, nil
		}
		if err := r.keep(r.body[start:r.pos], discard); err != nil {
			return nil, err
		}
		continued = true
	}
}

func (r *Reader) keep(b []byte, discard bool) error {
	if discard {
		b = b[:min(len(b), max(0, 8-len(r.partial)))]
	}
	if len(r.partial)+len(b) > MaxPacketSize {
		return fmt.Errorf("%w: more than %d bytes (page at byte %d)", ErrPacketTooLarge, MaxPacketSize, r.offset)
	}
	r.partial = append(r.partial, b...)
	return nil
}

// nextStreamPage reads up to the next page of the selected stream and
// checks that it follows the last one: the next sequence number, and a
// continuation flag that matches whether a packet is unfinished.
func (r *Reader) nextStreamPage(continued bool) error {
	for {
		err := r.readPage()
		if errors.Is(err, io.EOF) {
			if continued {
				return fmt.Errorf("%w: input ended after %d bytes", ErrTruncatedPacket, r.next)
			}
			return io.EOF
		}
		if err != nil {
			return err
		}
		if r.pageSerial() != r.serial {
			continue
		}
		if seq := r.pageSeq(); seq != r.seq+1 {
			return fmt.Errorf("%w: stream %d page %d follows page %d (page at byte %d)", ErrPageLost, r.serial, seq, r.seq, r.offset)
		}
		r.seq++
		flags := r.hdr[5]
		if (flags&flagContinue != 0) != continued {
			return fmt.Errorf("%w: continuation flag %t, unfinished packet %t (page at byte %d)",
				ErrContinuation, flags&flagContinue != 0, continued, r.offset)
		}
		r.eos = flags&flagEOS != 0
		r.seg, r.pos = 0, 0
		return nil
	}
}

// readPage reads and checks one page of any stream. It returns io.EOF only
// when the input ends cleanly before a page.
func (r *Reader) readPage() error {
	r.offset = r.next
	r.segs, r.body, r.seg, r.pos = nil, r.body[:0], 0, 0
	hdr := r.hdr[:headerSize]
	if n, err := io.ReadFull(r.src, hdr); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("%w: %d of %d header bytes at byte %d: %w", ErrTruncatedPage, n, headerSize, r.offset, err)
	}
	if string(hdr[:4]) != "OggS" {
		return fmt.Errorf("%w: got %q at byte %d", ErrCapturePattern, hdr[:4], r.offset)
	}
	if hdr[4] != 0 {
		return fmt.Errorf("%w: version %d at byte %d", ErrVersion, hdr[4], r.offset)
	}
	segs := r.hdr[headerSize : headerSize+int(hdr[26])]
	if n, err := io.ReadFull(r.src, segs); err != nil {
		return fmt.Errorf("%w: %d of %d lacing values at byte %d: %w", ErrTruncatedPage, n, len(segs), r.offset, noEOF(err))
	}
	size := 0
	for _, v := range segs {
		size += int(v)
	}
	if cap(r.body) < size {
		r.body = make([]byte, size, max(size, min(2*cap(r.body), maxBodySize)))
	}
	body := r.body[:size]
	if n, err := io.ReadFull(r.src, body); err != nil {
		return fmt.Errorf("%w: %d of %d body bytes at byte %d: %w", ErrTruncatedPage, n, size, r.offset, noEOF(err))
	}
	want := binary.LittleEndian.Uint32(hdr[22:])
	crc := crcUpdate(0, hdr[:22])
	crc = crcUpdate(crc, zeroCRC[:])
	crc = crcUpdate(crc, r.hdr[26:headerSize+len(segs)])
	crc = crcUpdate(crc, body)
	if crc != want {
		return fmt.Errorf("%w: computed %08x, page says %08x at byte %d", ErrCRC, crc, want, r.offset)
	}
	r.segs, r.body = segs, body
	r.next = r.offset + int64(headerSize+len(segs)+size)
	return nil
}

func (r *Reader) pageSerial() uint32 { return binary.LittleEndian.Uint32(r.hdr[14:]) }
func (r *Reader) pageSeq() uint32    { return binary.LittleEndian.Uint32(r.hdr[18:]) }

// noEOF turns an end of input inside a page into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// crcTables are the Ogg CRC-32's: polynomial 0x04c11db7, most significant
// bit first, initial value 0, no final inversion (hash/crc32 only offers the
// reflected form). crcTables[k][i] is the CRC of byte i followed by k zero
// bytes, so that crcUpdate takes eight bytes a step (slicing by 8): a
// thousand passthrough streams check every page they read.
var crcTables = func() (t [8][256]uint32) {
	for i := range t[0] {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			prev := t[k-1][i]
			t[k][i] = prev<<8 ^ t[0][prev>>24]
		}
	}
	return t
}()

func crcUpdate(crc uint32, b []byte) uint32 {
	t := &crcTables
	for len(b) >= 8 {
		crc ^= uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		crc = t[7][crc>>24] ^ t[6][byte(crc>>16)] ^ t[5][byte(crc>>8)] ^ t[4][byte(crc)] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, x := range b {
		crc = crc<<8 ^ t[0][byte(crc>>24)^x]
	}
	return crc
}

// zeroCRC stands in for the CRC field while the CRC is computed.
var zeroCRC [4]byte
