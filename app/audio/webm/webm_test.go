package webm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/audio/opus"
)

// el encodes an element with a minimal ID and an 8-byte size.
func el(id uint32, data ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, id)
	for b[0] == 0 {
		b = b[1:]
	}
	body := bytes.Join(data, nil)
	b = binary.BigEndian.AppendUint64(b, uint64(len(body))|1<<56)
	return append(b, body...)
}

// unsized encodes a master element of unknown size.
func unsized(id uint32, data ...[]byte) []byte {
	b := el(id)
	copy(b[len(b)-8:], []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	return append(b, bytes.Join(data, nil)...)
}

func uintEl(id uint32, v uint64) []byte { return el(id, binary.BigEndian.AppendUint64(nil, v)) }

func floatEl(id uint32, f float64) []byte {
	return el(id, binary.BigEndian.AppendUint64(nil, math.Float64bits(f)))
}

func ebmlHeader(docType string) []byte { return el(idEBML, el(idDocType, []byte(docType))) }

func trackEntry(number, kind uint64, codec string, extra ...[]byte) []byte {
	return el(idTrackEntry, append([][]byte{uintEl(idTrackNumber, number), uintEl(idTrackType, kind),
		el(idCodecID, []byte(codec))}, extra...)...)
}

func opusTrack(number uint64, head []byte) []byte {
	return trackEntry(number, trackTypeAudio, "A_OPUS", el(idCodecPrivate, head),
		el(idAudio, floatEl(idSamplingFreq, 48000), uintEl(idChannels, 2)))
}

// stream is an EBML header and a Segment of unknown size holding parts;
// Info and Tracks come first unless parts start with their own.
func stream(parts ...[]byte) []byte {
	return cat(ebmlHeader("webm"), unsized(idSegment, parts...))
}

func meta(scale uint64, tracks ...[]byte) []byte {
	return cat(el(idInfo, uintEl(idTimestampScale, scale)), el(idTracks, tracks...))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// block is the data of a SimpleBlock or Block: track, timestamp, flags,
// then laced.
func block(track byte, rel int16, flags byte, laced ...byte) []byte {
	b := []byte{0x80 | track}
	b = binary.BigEndian.AppendUint16(b, uint16(rel))
	return append(append(b, flags), laced...)
}

// packet returns a 20 ms CELT packet of n bytes, distinct per seed.
func packet(n int, seed byte) []byte {
	b := make([]byte, n)
	b[0] = 31 << 3
	for i := 1; i < n; i++ {
		b[i] = seed + byte(i)
	}
	return b
}

type got struct {
	Packet []byte
	TS     time.Duration
}

func readAll(t *testing.T, r *Reader) ([]got, error) {
	t.Helper()
	var out []got
	for {
		p, ts, err := r.ReadPacket()
		if err != nil {
			return out, err
		}
		out = append(out, got{bytes.Clone(p), ts})
	}
}

func TestReaderBlocks(t *testing.T) {
	a, b, c := packet(10, 1), packet(300, 2), packet(7, 3)
	ms := time.Millisecond
	tracks := meta(1_000_000, trackEntry(1, 1, "V_VP9"), opusTrack(2, audiotest.OpusHead(2, 0)))
	xiph := cat([]byte{2, 10, 255, 45}, a, b, c) // 3 frames: 10, 300 (255+45), rest
	// EBML lacing: 10, then +290 as a 2-byte signed difference (290 + 8191 = 0x2121, with the length marker 0x6121).
	ebml := cat([]byte{2, 0x80 | 10, 0x61, 0x21}, a, b, c)
	tests := []struct {
		name string
		in   []byte
		want []got
	}{
		{"simple blocks in clusters, other track skipped", stream(tracks,
			el(idCluster, uintEl(idTimestamp, 1000),
				el(idSimpleBlock, block(2, 0, 0x80, a...)),
				el(idSimpleBlock, block(1, 0, 0x80, make([]byte, 5000)...)),
				el(idSimpleBlock, block(2, 20, 0x80, b...))),
			el(idCluster, uintEl(idTimestamp, 1040), el(idSimpleBlock, block(2, -5, 0x80, c...)))),
			[]got{{a, 1000 * ms}, {b, 1020 * ms}, {c, 1035 * ms}}},
		{"xiph lacing", stream(tracks, el(idCluster, uintEl(idTimestamp, 0),
			el(idSimpleBlock, block(2, 100, 0x82, xiph...)))),
			[]got{{a, 100 * ms}, {b, 120 * ms}, {c, 140 * ms}}},
		{"ebml lacing", stream(tracks, el(idCluster, uintEl(idTimestamp, 0),
			el(idSimpleBlock, block(2, 0, 0x86, ebml...)))),
			[]got{{a, 0}, {b, 20 * ms}, {c, 40 * ms}}},
		{"fixed-size lacing", stream(tracks, el(idCluster, uintEl(idTimestamp, 0),
			el(idSimpleBlock, block(2, 0, 0x84, cat([]byte{2}, a, packet(10, 4), packet(10, 5))...)))),
			[]got{{a, 0}, {packet(10, 4), 20 * ms}, {packet(10, 5), 40 * ms}}},
		{"block group", stream(tracks, el(idCluster, uintEl(idTimestamp, 5),
			el(idBlockGroup, el(idBlock, block(2, 0, 0, a...)), uintEl(0x9b, 20)),
			el(idBlockGroup, el(idBlock, block(1, 0, 0, b...))),
			el(idSimpleBlock, block(2, 20, 0x80, c...)))),
			[]got{{a, 5 * ms}, {c, 25 * ms}}},
		{"clusters of unknown size end at the next cluster", stream(tracks,
			unsized(idCluster, uintEl(idTimestamp, 0), el(idSimpleBlock, block(2, 0, 0x80, a...))),
			el(0xec, make([]byte, 3)), // Void at Segment level
			unsized(idCluster, uintEl(idTimestamp, 20), el(idSimpleBlock, block(2, 0, 0x80, b...))),
			el(idCues), unsized(idCluster, uintEl(idTimestamp, 40), el(idSimpleBlock, block(2, 0, 0x80, c...)))),
			[]got{{a, 0}, {b, 20 * ms}, {c, 40 * ms}}},
		{"timestamp scale of 100 µs", stream(meta(100_000, opusTrack(1, audiotest.OpusHead(2, 0))),
			el(idCluster, uintEl(idTimestamp, 30), el(idSimpleBlock, block(1, 7, 0x80, a...)))),
			[]got{{a, 3700 * time.Microsecond}}},
		{"elements skipped unread", stream(el(idSeekHead, el(idSeek, uintEl(idSeekID, idCues), uintEl(idSeekPosition, 1234))), el(idTags, make([]byte, 100)), tracks,
			el(idCluster, uintEl(idTimestamp, 0), el(0xa7, []byte{0}), el(idSimpleBlock, block(2, 0, 0x80, a...)))),
			[]got{{a, 0}}},
		{"zero-length frame skipped", stream(tracks, el(idCluster, uintEl(idTimestamp, 0),
			el(idSimpleBlock, block(2, 0, 0x82, cat([]byte{1, 0}, a)...)))),
			[]got{{a, 0}}},
		{"known segment size ends the stream", cat(ebmlHeader("matroska"), el(idSegment, tracks,
			el(idCluster, uintEl(idTimestamp, 0), el(idSimpleBlock, block(2, 0, 0x80, a...)))),
			el(idSegment, el(idCluster))),
			[]got{{a, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if tr := r.Track(); tr.Codec != "A_OPUS" || tr.Channels != 2 || tr.SampleRate != 48000 || tr.Head.Channels != 2 {
				t.Errorf("Track() = %+v", tr)
			}
			out, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("ReadPacket error = %v, want io.EOF", err)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("packets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderRefuses(t *testing.T) {
	a := packet(10, 1)
	tracks := meta(1_000_000, opusTrack(1, audiotest.OpusHead(2, 0)))
	clusterWith := func(blockData []byte) []byte {
		return stream(tracks, el(idCluster, uintEl(idTimestamp, 0), el(idSimpleBlock, blockData)))
	}
	tests := []struct {
		name     string
		in       []byte
		atCreate bool
		want     error
	}{
		{"not EBML", []byte("OggS\x00\x02"), true, ErrNotEBML},
		{"empty", nil, true, ErrNotEBML},
		{"wrong DocType", cat(ebmlHeader("mp4"), unsized(idSegment, tracks)), true, ErrDocType},
		{"invalid element ID", cat(ebmlHeader("webm"), []byte{0x00, 0x81}), true, ErrInvalidVint},
		{"absurd element size", cat(ebmlHeader("webm"), unsized(idSegment, []byte{0xec, 0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})), true, ErrElementSize},
		{"child larger than its segment", func() []byte {
			seg := el(idSegment, el(0xec, make([]byte, 4)))
			seg[len(seg)-5] = 100 // the Void's size byte, now past the Segment's end
			return cat(ebmlHeader("webm"), seg)
		}(), true, ErrElementSize},
		{"Tracks larger than the metadata bound", cat(ebmlHeader("webm"), unsized(idSegment, el(idTracks, make([]byte, MaxMetadataSize+1)))), true, ErrElementSize},
		{"unknown size on Info", stream(unsized(idInfo)), true, ErrUnknownSize},
		{"wrong codec", stream(meta(1_000_000, trackEntry(1, trackTypeAudio, "A_VORBIS")), el(idCluster)), true, ErrNoOpusTrack},
		{"no tracks before a cluster", stream(el(idCluster, uintEl(idTimestamp, 0))), true, ErrNoOpusTrack},
		{"input ends before tracks", stream(el(idInfo)), true, ErrNoOpusTrack},
		{"multichannel in family 0", stream(meta(1_000_000, opusTrack(1, audiotest.OpusHead(6, 0)))), true, opus.ErrInvalidHead},
		{"no CodecPrivate", stream(meta(1_000_000, trackEntry(1, trackTypeAudio, "A_OPUS"))), true, opus.ErrInvalidHead},
		{"compressed track", stream(meta(1_000_000, trackEntry(1, trackTypeAudio, "A_OPUS",
			el(idCodecPrivate, audiotest.OpusHead(2, 0)), el(idContentEncoding)))), true, ErrEncodedTrack},
		{"truncated block", clusterWith(block(1, 0, 0x80, a...))[:len(clusterWith(block(1, 0, 0x80, a...)))-3], false, io.ErrUnexpectedEOF},
		{"block too large", stream(tracks, unsized(idCluster, el(idSimpleBlock, block(1, 0, 0x80, make([]byte, MaxBlockSize)...)))), false, ErrElementSize},
		{"fixed lacing that does not divide", clusterWith(block(1, 0, 0x84, cat([]byte{1}, packet(5, 0))...)), false, ErrInvalidBlock},
		{"xiph lace sizes past the block", clusterWith(block(1, 0, 0x82, cat([]byte{1, 200}, a)...)), false, ErrInvalidBlock},
		{"ebml lace sizes past the block", clusterWith(block(1, 0, 0x86, cat([]byte{1, 0xc0}, a)...)), false, ErrInvalidBlock},
		{"negative ebml lace size", clusterWith(block(1, 0, 0x86, cat([]byte{2, 0x81, 0x81}, a)...)), false, ErrInvalidBlock},
		{"laced block without a count", clusterWith(block(1, 0, 0x82)), false, ErrInvalidBlock},
		{"block shorter than its header", clusterWith([]byte{0x81, 0}), false, ErrInvalidBlock},
		{"unknown-size block group", stream(tracks, unsized(idCluster, unsized(idBlockGroup))), false, ErrUnknownSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.in))
			if tt.atCreate {
				if !errors.Is(err, tt.want) {
					t.Fatalf("NewReader error = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			_, err = readAll(t, r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadPacket error = %v, want %v", err, tt.want)
			}
			if _, _, again := r.ReadPacket(); again != err {
				t.Errorf("second ReadPacket error = %v, want the same %v", again, err)
			}
		})
	}
}

// TestReaderLiveClusters reads many clusters of unknown size, as a live
// stream sends them, and checks that each new one closes the last rather
// than nesting in it, so memory stays bounded however long the stream runs.
func TestReaderLiveClusters(t *testing.T) {
	parts := [][]byte{meta(1_000_000, opusTrack(1, audiotest.OpusHead(2, 0)))}
	const clusters = 1000
	for c := range clusters {
		parts = append(parts, unsized(idCluster, uintEl(idTimestamp, uint64(c*20)), el(idSimpleBlock, block(1, 0, 0x80, packet(10, 0)...))))
	}
	r, err := NewReader(bytes.NewReader(stream(parts...)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := readAll(t, r)
	if err != io.EOF || len(out) != clusters {
		t.Fatalf("read %d packets, %v; want %d, io.EOF", len(out), err, clusters)
	}
	if len(r.opened) > 1 {
		t.Errorf("%d masters open after %d clusters, want at most 1", len(r.opened), clusters)
	}
}

func TestReaderMultichannel(t *testing.T) {
	r, err := NewReader(bytes.NewReader(stream(meta(1_000_000, opusTrack(1, audiotest.OpusHead(6, 1))))))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Track().Head.Passthrough(); !errors.Is(err, opus.ErrNotPassthrough) {
		t.Errorf("Passthrough() = %v, want ErrNotPassthrough", err)
	}
}

// The Segment's Duration is what Info says, scaled by its TimestampScale
// wherever that comes; none, or one no stream has, is zero.
func TestReaderDuration(t *testing.T) {
	track := el(idTracks, opusTrack(1, audiotest.OpusHead(2, 0)))
	tests := []struct {
		name string
		info []byte
		want time.Duration
	}{
		{"milliseconds by default", el(idInfo, floatEl(idDuration, 192340)), 192340 * time.Millisecond},
		{"scale after the duration", el(idInfo, floatEl(idDuration, 1920), uintEl(idTimestampScale, 100_000_000)), 192 * time.Second},
		{"a 4-byte float", el(idInfo, el(idDuration, binary.BigEndian.AppendUint32(nil, math.Float32bits(3000)))), 3 * time.Second},
		{"none", el(idInfo, uintEl(idTimestampScale, 1_000_000)), 0},
		{"negative", el(idInfo, floatEl(idDuration, -5)), 0},
		{"not a number", el(idInfo, floatEl(idDuration, math.NaN())), 0},
		{"longer than a week", el(idInfo, floatEl(idDuration, float64(8*24*time.Hour/time.Millisecond))), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(stream(tt.info, track)))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Duration(); got != tt.want {
				t.Errorf("Duration() = %v, want %v", got, tt.want)
			}
		})
	}
}

// ffmpeg writes a file's Duration; a live stream has none.
func TestReaderDurationFromFFmpeg(t *testing.T) {
	in := audiotest.Ogg(t, 2, 2, 20)
	for _, tt := range []struct {
		name     string
		live     bool
		min, max time.Duration
	}{
		{"file", false, 1990 * time.Millisecond, 2030 * time.Millisecond},
		{"live pipe", true, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(audiotest.WebM(t, in, tt.live)))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Duration(); got < tt.min || got > tt.max {
				t.Errorf("Duration() = %v, want %v to %v", got, tt.min, tt.max)
			}
		})
	}
}
