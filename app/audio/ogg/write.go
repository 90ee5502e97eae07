package ogg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/iddv/timmybot/app/audio/opus"
)

// Writer writes Opus packets as an Ogg Opus stream of one logical stream
// (RFC 7845): a page with the OpusHead, one with an empty OpusTags, then
// audio pages of up to a second of packets each, their granule positions
// counted from each packet's own duration. It is not safe for concurrent
// use.
type Writer struct {
	w       io.Writer
	serial  uint32
	seq     uint32
	granule int64
	err     error // sticky

	// The audio page being filled.
	segs    []byte
	body    []byte
	packets int
	closed  bool
}

// packetsPerPage bounds an audio page to a second of 20 ms packets, so
// that what reads the stream gets it a page at a time without waiting long.
const packetsPerPage = 50

// vendor is the OpusTags vendor string.
const vendor = "TimmyBot"

// NewWriter writes the stream's header pages to w and returns a writer of
// its packets; serial names the logical stream.
func NewWriter(w io.Writer, head opus.Head, serial uint32) (*Writer, error) {
	ow := &Writer{w: w, serial: serial}
	headPacket, err := head.AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	tags := append([]byte("OpusTags"), binary.LittleEndian.AppendUint32(nil, uint32(len(vendor)))...)
	tags = append(tags, vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, 0) // no comments
	if err := ow.writePage(flagBOS, 0, lacing(nil, len(headPacket)), headPacket); err != nil {
		return nil, err
	}
	if err := ow.writePage(0, 0, lacing(nil, len(tags)), tags); err != nil {
		return nil, err
	}
	return ow, nil
}

// WritePacket adds an Opus packet to the stream. A page is written once it
// holds a second of packets or has no room for the next one.
func (w *Writer) WritePacket(p []byte) error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return errors.New("ogg: write after Close")
	case len(p) == 0 || len(p) >= maxBodySize: // a packet must fit one page
		return fmt.Errorf("ogg: writing a packet of %d bytes", len(p))
	}
	d, err := opus.PacketDuration(p)
	if err != nil {
		return fmt.Errorf("ogg: writing a packet: %w", err)
	}
	if len(w.segs)+len(p)/255+1 > maxSegments {
		if err := w.flush(0); err != nil {
			return err
		}
	}
	w.segs = lacing(w.segs, len(p))
	w.body = append(w.body, p...)
	w.granule += int64(d / (time.Second / 48000))
	if w.packets++; w.packets == packetsPerPage {
		return w.flush(0)
	}
	return nil
}

// Close writes the last page, marked as the end of the stream. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.closed = true
	return w.flush(flagEOS)
}

// flush writes the packets gathered so far as one page.
func (w *Writer) flush(flags byte) error {
	err := w.writePage(flags, w.granule, w.segs, w.body)
	w.segs, w.body, w.packets = w.segs[:0], w.body[:0], 0
	return err
}

// writePage writes one page whose packets all end on it.
func (w *Writer) writePage(flags byte, granule int64, segs, body []byte) error {
	if w.err != nil {
		return w.err
	}
	page := make([]byte, 0, headerSize+len(segs)+len(body))
	page = append(page, "OggS"...)
	page = append(page, 0, flags)
	page = binary.LittleEndian.AppendUint64(page, uint64(granule))
	page = binary.LittleEndian.AppendUint32(page, w.serial)
	page = binary.LittleEndian.AppendUint32(page, w.seq)
	page = append(page, zeroCRC[:]...)
	page = append(page, byte(len(segs)))
	page = append(page, segs...)
	page = append(page, body...)
	binary.LittleEndian.PutUint32(page[22:], crcUpdate(0, page))
	w.seq++
	if _, err := w.w.Write(page); err != nil {
		w.err = fmt.Errorf("ogg: writing page %d: %w", w.seq-1, err)
	}
	return w.err
}

// lacing appends the lacing values of an n-byte packet: a 255 for each
// full 255 bytes, then the rest (0 when n is a multiple of 255).
func lacing(segs []byte, n int) []byte {
	for ; n >= 255; n -= 255 {
		segs = append(segs, 255)
	}
	return append(segs, byte(n))
}
