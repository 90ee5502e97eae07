package framecache

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/jonas747/dca"
)

// frameDuration is the length of every frame an entry holds.
const frameDuration = 20 * time.Millisecond

// The Opus parameters every entry declares: 48 kHz stereo, 20 ms frames.
// dca counts a frame's size in PCM samples of all channels.
const (
	sampleRate = 48000
	channels   = 2
	frameSize  = 960 * channels
)

// Writer records one track's frames into a temporary file. Commit makes it
// the key's entry; Abort, or any failure, leaves nothing behind.
type Writer struct {
	c    *Cache
	hash string
	file *os.File
	buf  *bufio.Writer
	crc  hash.Hash32
	out  io.Writer // buf and crc
	size int64
	err  error // the first failure; the file is gone once it is set
}

// Writer starts an entry for key. Nothing is visible to Readers until
// Commit.
func (c *Cache) Writer(key string) (*Writer, error) {
	f, err := os.CreateTemp(c.cfg.Dir, "*"+tempExt)
	if err != nil {
		return nil, fmt.Errorf("frame cache: creating an entry: %w", err)
	}
	w := &Writer{c: c, hash: hashKey(key), file: f, buf: bufio.NewWriterSize(f, 32<<10), crc: crc32.NewIEEE()}
	w.out = io.MultiWriter(w.buf, w.crc)
	if err := w.write(header(key)); err != nil {
		return nil, err
	}
	return w, nil
}

// header is the DCA1 magic and metadata block of key's entry.
func header(key string) []byte {
	// Marshalling these structs of strings and numbers cannot fail.
	meta, _ := json.Marshal(dca.Metadata{
		Dca:    &dca.DCAMetadata{Version: dca.FormatVersion, Tool: &dca.DCAToolMetadata{Name: "timmybot"}},
		Opus:   &dca.OpusMetadata{SampleRate: sampleRate, Application: "audio", FrameSize: frameSize, Channels: channels, VBR: true},
		Origin: &dca.OriginMetadata{Source: "timmybot", Url: key},
	})
	b := append([]byte("DCA1"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(meta)))
	return append(b, meta...)
}

// WriteFrame appends one Opus packet. It fails with ErrTooLarge once the
// entry would pass MaxEntryBytes; after any failure the entry is gone and
// every call returns the same error.
func (w *Writer) WriteFrame(packet []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(packet) == 0 || len(packet) > math.MaxInt16 {
		return w.fail(fmt.Errorf("frame cache: a %d-byte frame cannot be stored", len(packet)))
	}
	var n [2]byte
	binary.LittleEndian.PutUint16(n[:], uint16(len(packet)))
	if err := w.write(n[:]); err != nil {
		return err
	}
	return w.write(packet)
}

func (w *Writer) write(b []byte) error {
	if w.size+int64(len(b)) > w.c.cfg.MaxEntryBytes {
		return w.fail(ErrTooLarge)
	}
	if _, err := w.out.Write(b); err != nil {
		return w.fail(fmt.Errorf("frame cache: writing an entry: %w", err))
	}
	w.size += int64(len(b))
	return nil
}

// fail removes the temporary file and remembers err.
func (w *Writer) fail(err error) error {
	w.err = err
	_ = w.file.Close()
	_ = os.Remove(w.file.Name())
	return err
}

// Commit makes what was written the key's entry, evicting others to stay
// within the bound. It needs no fsync: a file a crash left short fails its
// CRC and is dropped.
func (w *Writer) Commit() error {
	if w.err != nil {
		return w.err
	}
	if err := w.buf.Flush(); err != nil {
		return w.fail(fmt.Errorf("frame cache: writing an entry: %w", err))
	}
	if err := w.file.Close(); err != nil {
		return w.fail(fmt.Errorf("frame cache: writing an entry: %w", err))
	}
	w.err = errors.New("frame cache: entry already committed")
	return w.c.commit(w.file.Name(), &entry{hash: w.hash, crc: w.crc.Sum32(), size: w.size})
}

// Abort throws the entry away. It is safe after Commit or a failure, and
// more than once.
func (w *Writer) Abort() {
	if w.err == nil {
		_ = w.fail(errors.New("frame cache: entry aborted"))
	}
}

// Reader hands out an entry's frames. dca's Decoder reads the entry's
// header; the frames are read here, because the library's DecodeFrame
// decodes each packet byte by byte through reflection (binary.Read into a
// *[]byte): here 8-15 µs a frame of 240 bytes, so a seek three minutes in
// took 75-140 ms with it against 2-9 ms skipping lengths
// (BenchmarkReadFrames, on a shared 2-core machine).
type Reader struct {
	file   *os.File
	buf    *bufio.Reader
	frames int    // in the whole entry
	frame  []byte // the frame handed out last, reused by the next
}

// Reader opens key's entry at frame index from. It returns an error
// wrapping ErrMiss when there is no entry or its file is damaged (which
// removes it), and ErrPastEnd when the entry has fewer than from frames.
func (c *Cache) Reader(key string, from int) (*Reader, error) {
	e, ok := c.lookup(key)
	if !ok {
		c.misses.Add(1)
		return nil, ErrMiss
	}
	r, err := c.read(e, key, from)
	switch {
	case errors.Is(err, ErrPastEnd):
		c.hits.Add(1)
		return nil, err
	case err != nil:
		c.log.Warn("frame cache: dropping a damaged entry", slog.Any("err", err))
		c.drop(e)
		c.misses.Add(1)
		return nil, fmt.Errorf("%w: %w", ErrMiss, err)
	}
	c.hits.Add(1)
	c.touch(e)
	return r, nil
}

// read checks e's file and positions a Reader at frame from.
func (c *Cache) read(e *entry, key string, from int) (*Reader, error) {
	f, err := os.Open(filepath.Join(c.cfg.Dir, e.name()))
	if err != nil {
		return nil, fmt.Errorf("opening: %w", err)
	}
	r, err := check(f, e, key, from)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

// check reads e's file once: its CRC and size, its header, and its frames'
// lengths, which give the track's length and where frame from starts; then
// it positions a Reader there.
func check(f *os.File, e *entry, key string, from int) (*Reader, error) {
	crc := crc32.NewIEEE()
	in := bufio.NewReaderSize(io.TeeReader(f, crc), 32<<10)
	var head [8]byte // "DCA1" and the metadata's length
	if _, err := io.ReadFull(in, head[:]); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	offset := int64(len(head)) + int64(binary.LittleEndian.Uint32(head[4:]))
	if offset > e.size {
		return nil, errors.New("metadata longer than the file")
	}
	header := make([]byte, offset)
	copy(header, head[:])
	if _, err := io.ReadFull(in, header[len(head):]); err != nil {
		return nil, fmt.Errorf("reading the metadata: %w", err)
	}
	w, err := walk(in, offset, from)
	if err != nil {
		return nil, err
	}
	if w.size != e.size || crc.Sum32() != e.crc {
		return nil, fmt.Errorf("%d bytes with CRC %08x, want %d with %08x", w.size, crc.Sum32(), e.size, e.crc)
	}
	dec := dca.NewDecoder(bytes.NewReader(header))
	if err := dec.ReadMetadata(); err != nil {
		return nil, fmt.Errorf("reading the metadata: %w", err)
	}
	m := dec.Metadata
	switch {
	case m == nil || m.Origin == nil || m.Opus == nil:
		return nil, errors.New("metadata incomplete")
	case m.Origin.Url != key:
		return nil, errors.New("entry of another key")
	case m.Opus.SampleRate != sampleRate || m.Opus.Channels != channels || dec.FrameDuration() != frameDuration:
		return nil, fmt.Errorf("frames of %d Hz, %d channels, %v, not 48 kHz stereo 20 ms", m.Opus.SampleRate, m.Opus.Channels, dec.FrameDuration())
	}
	if from > w.frames {
		return nil, ErrPastEnd
	}
	if _, err := f.Seek(w.from, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seeking to frame %d: %w", from, err)
	}
	return &Reader{file: f, buf: bufio.NewReaderSize(f, 16<<10), frames: w.frames}, nil
}

// walked is what walk learnt of an entry's frames.
type walked struct {
	frames int   // how many
	from   int64 // offset of the frame asked for; the end when past it
	size   int64 // offset of the end: the file's size
}

// walk reads the frames' lengths from in, whose next byte is at offset, to
// the end, skipping their packets.
func walk(in *bufio.Reader, offset int64, from int) (walked, error) {
	w := walked{from: offset}
	for {
		if w.frames == from {
			w.from = offset
		}
		var n [2]byte
		if _, err := io.ReadFull(in, n[:]); errors.Is(err, io.EOF) {
			w.size = offset
			return w, nil
		} else if err != nil {
			return w, fmt.Errorf("reading frame %d: %w", w.frames, err)
		}
		size := int(int16(binary.LittleEndian.Uint16(n[:])))
		if size <= 0 {
			return w, fmt.Errorf("frame %d has %d bytes", w.frames, size)
		}
		if _, err := in.Discard(size); err != nil {
			return w, fmt.Errorf("skipping frame %d: %w", w.frames, io.ErrUnexpectedEOF)
		}
		offset += int64(len(n) + size)
		w.frames++
	}
}

// Duration is the length of the whole entry, wherever the Reader started.
func (r *Reader) Duration() time.Duration { return time.Duration(r.frames) * frameDuration }

// ReadFrame returns the next frame, or io.EOF after the last. The frame's
// memory is reused by the next call.
func (r *Reader) ReadFrame() ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r.buf, n[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("frame cache: reading a frame: %w", err)
	}
	size := int(int16(binary.LittleEndian.Uint16(n[:])))
	if size <= 0 {
		return nil, fmt.Errorf("frame cache: a frame of %d bytes", size)
	}
	if cap(r.frame) < size {
		r.frame = make([]byte, size)
	}
	b := r.frame[:size]
	if _, err := io.ReadFull(r.buf, b); err != nil {
		return nil, fmt.Errorf("frame cache: reading a frame: %w", io.ErrUnexpectedEOF)
	}
	return b, nil
}

// Close releases the file.
func (r *Reader) Close() error { return r.file.Close() }
