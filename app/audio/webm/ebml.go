package webm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Element IDs this package reads (Matroska specification, RFC 9559). Every
// other element is skipped unread.
const (
	idEBML            = 0x1a45dfa3
	idDocType         = 0x4282
	idSegment         = 0x18538067
	idSeekHead        = 0x114d9b74
	idSeek            = 0x4dbb
	idSeekID          = 0x53ab
	idSeekPosition    = 0x53ac
	idInfo            = 0x1549a966
	idTimestampScale  = 0x2ad7b1
	idDuration        = 0x4489
	idTracks          = 0x1654ae6b
	idTrackEntry      = 0xae
	idTrackNumber     = 0xd7
	idTrackType       = 0x83
	idCodecID         = 0x86
	idCodecPrivate    = 0x63a2
	idCodecDelay      = 0x56aa
	idSeekPreRoll     = 0x56bb
	idContentEncoding = 0x6d80
	idAudio           = 0xe1
	idSamplingFreq    = 0xb5
	idChannels        = 0x9f
	idCluster         = 0x1f43b675
	idTimestamp       = 0xe7
	idSimpleBlock     = 0xa3
	idBlockGroup      = 0xa0
	idBlock           = 0xa1
	idCues            = 0x1c53bb6b
	idCuePoint        = 0xbb
	idCueTime         = 0xb3
	idCueTrackPos     = 0xb7
	idCueTrack        = 0xf7
	idCueClusterPos   = 0xf1
	idChapters        = 0x1043a770
	idTags            = 0x1254c367
	idAttachments     = 0x1941a469
)

const trackTypeAudio = 2

// unknownSize is the size of a master element whose end is not written
// (a live stream): it ends where an element that cannot be its child starts.
const unknownSize = -1

// segmentChild reports whether id is a top-level element of a Segment: one
// that ends an open Cluster of unknown size.
func segmentChild(id uint32) bool {
	switch id {
	case idSeekHead, idInfo, idTracks, idCluster, idCues, idChapters, idTags, idAttachments, idEBML, idSegment:
		return true
	}
	return false
}

// readVint reads an EBML variable-length integer of at most maxLen bytes.
// For an element ID it keeps the length marker; for a size it removes it
// and reports the all-ones value as unknownSize. It returns io.EOF only if
// br ends before the first byte.
func readVint(br io.ByteReader, maxLen int, isID bool) (int64, int, error) {
	first, err := br.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	n := 1
	for mask := byte(0x80); n <= 8 && first&mask == 0; mask >>= 1 {
		n++
	}
	if n > maxLen {
		return 0, 0, fmt.Errorf("%w: first byte %#02x of a %d-byte integer, at most %d allowed", ErrInvalidVint, first, n, maxLen)
	}
	v := uint64(first)
	if !isID {
		v &= 0xff >> n
	}
	allOnes := v == 0xff>>n
	for i := 1; i < n; i++ {
		b, err := br.ReadByte()
		if err != nil {
			return 0, 0, noEOF(err)
		}
		v = v<<8 | uint64(b)
		allOnes = allOnes && b == 0xff
	}
	if !isID && allOnes {
		return unknownSize, n, nil
	}
	if v > math.MaxInt64 {
		return 0, 0, fmt.Errorf("%w: %d overflows", ErrInvalidVint, v)
	}
	return int64(v), n, nil
}

// noEOF turns an end of input inside an element into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// bytesReader reads bytes from a slice without allocating.
type bytesReader struct {
	b   []byte
	pos int
}

func (s *bytesReader) ReadByte() (byte, error) {
	if s.pos >= len(s.b) {
		return 0, io.EOF
	}
	s.pos++
	return s.b[s.pos-1], nil
}

// eachChild calls fn with the ID and data of each child element in b, the
// data of an element read whole into memory.
func eachChild(b []byte, fn func(id uint32, data []byte) error) error {
	s := bytesReader{b: b}
	for s.pos < len(b) {
		id, _, err := readVint(&s, 4, true)
		if err != nil {
			return fmt.Errorf("element ID: %w", err)
		}
		size, _, err := readVint(&s, 8, false)
		if err != nil {
			return fmt.Errorf("element %#x size: %w", id, noEOF(err))
		}
		if size == unknownSize || size > int64(len(b)-s.pos) {
			return fmt.Errorf("%w: element %#x of %d bytes in %d left of its parent", ErrElementSize, id, size, len(b)-s.pos)
		}
		if err := fn(uint32(id), b[s.pos:s.pos+int(size)]); err != nil {
			return err
		}
		s.pos += int(size)
	}
	return nil
}

func readUint(b []byte) (uint64, error) {
	if len(b) > 8 {
		return 0, fmt.Errorf("%w: unsigned integer of %d bytes", ErrInvalidElement, len(b))
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v, nil
}

func readFloat(b []byte) (float64, error) {
	switch len(b) {
	case 0:
		return 0, nil
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("%w: float of %d bytes", ErrInvalidElement, len(b))
}

// readString returns an EBML string, which may be padded with zero bytes.
func readString(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

// source is the input with the count of bytes read from it, so elements
// know where they end and cues can name byte offsets.
type source struct {
	br  *bufio.Reader
	off int64
}

func (s *source) ReadByte() (byte, error) {
	b, err := s.br.ReadByte()
	if err == nil {
		s.off++
	}
	return b, err
}

func (s *source) readFull(b []byte) error {
	n, err := io.ReadFull(s.br, b)
	s.off += int64(n)
	return noEOF(err)
}

// readN reads n bytes into a new slice that grows as they arrive, so a size
// that input claims but does not hold costs no more memory than it sent.
func (s *source) readN(n int64) ([]byte, error) {
	var buf bytes.Buffer
	got, err := buf.ReadFrom(io.LimitReader(s.br, n))
	s.off += got
	if err == nil && got < n {
		err = io.ErrUnexpectedEOF
	}
	return buf.Bytes(), err
}

func (s *source) skip(n int64) error {
	for n > 0 {
		d, err := s.br.Discard(int(min(n, 1<<30)))
		s.off += int64(d)
		n -= int64(d)
		if err != nil {
			return noEOF(err)
		}
	}
	return nil
}
