package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/audio/opus"
)

// page builds one Ogg page with a correct CRC from its lacing values and
// body.
func page(serial, seq uint32, flags byte, granule int64, lacing []byte, body []byte) []byte {
	b := []byte("OggS")
	b = append(b, 0, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(granule))
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, body...)
	binary.LittleEndian.PutUint32(b[22:], crcUpdate(0, b))
	return b
}

// packets builds a page holding whole packets.
func packets(serial, seq uint32, flags byte, granule int64, ps ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range ps {
		lacing = append(lacing, lace(len(p))...)
		body = append(body, p...)
	}
	return page(serial, seq, flags, granule, lacing, body)
}

// lace returns the lacing values of a packet of n bytes that ends.
func lace(n int) []byte {
	l := bytes.Repeat([]byte{255}, n/255)
	return append(l, byte(n%255))
}

var tags = []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")

// fill returns n bytes counting from seed, so packets differ.
func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// start is the head and tags pages of stream 1.
func start() []byte {
	return cat(packets(1, 0, flagBOS, 0, audiotest.OpusHead(2, 0)), packets(1, 1, 0, 0, tags))
}

func cat(pages ...[]byte) []byte { return bytes.Join(pages, nil) }

func readAll(t *testing.T, r *Reader) ([][]byte, error) {
	t.Helper()
	var got [][]byte
	for {
		p, err := r.ReadPacket()
		if err != nil {
			return got, err
		}
		got = append(got, bytes.Clone(p))
	}
}

func TestReaderPackets(t *testing.T) {
	a, b, c := fill(100, 1), fill(255, 2), fill(600, 3)
	big := fill(255*255+10, 4) // needs more lacing values than one page has
	tests := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"whole packets", cat(start(), packets(1, 2, flagEOS, 960, a, b, c)), [][]byte{a, b, c}},
		{"packet of 255 bytes ends with a zero lacing value",
			cat(start(), page(1, 2, 0, 960, []byte{255, 0, 100}, cat(b, a))), [][]byte{b, a}},
		{"packet continued on the next page",
			cat(start(),
				page(1, 2, 0, 480, []byte{100, 255, 255}, cat(a, c[:510])),
				page(1, 3, flagContinue, 960, []byte{90, 100}, cat(c[510:], a))),
			[][]byte{a, c, a}},
		{"packet over three pages, the middle one without an end",
			cat(start(),
				page(1, 2, 0, -1, bytes.Repeat([]byte{255}, 255), big[:255*255]),
				page(1, 3, flagContinue, -1, nil, nil),
				page(1, 4, flagContinue, 960, []byte{10}, big[255*255:])),
			[][]byte{big}},
		{"zero-length packets are skipped",
			cat(start(), page(1, 2, 0, 960, []byte{0, 100, 0}, a)), [][]byte{a}},
		{"tags continued across pages",
			cat(packets(1, 0, flagBOS, 0, audiotest.OpusHead(2, 0)),
				page(1, 1, 0, 0, []byte{255}, cat(tags, fill(255-len(tags), 9))),
				page(1, 2, flagContinue, 0, []byte{20}, fill(20, 8)),
				packets(1, 3, 0, 960, a)),
			[][]byte{a}},
		{"tags larger than MaxPacketSize skipped without keeping them", func() []byte {
			in := packets(1, 0, flagBOS, 0, audiotest.OpusHead(2, 0))
			full := bytes.Repeat([]byte{255}, 255)
			for i := range MaxPacketSize/(255*255) + 1 {
				flags := byte(flagContinue)
				if i == 0 {
					flags = 0
				}
				in = cat(in, page(1, uint32(1+i), flags, 0, full, cat(tags, make([]byte, 255*255-len(tags)))))
			}
			return cat(in, page(1, 3, flagContinue, 960, []byte{0, 100}, a))
		}(), [][]byte{a}},
		{"other streams skipped",
			cat(packets(7, 0, flagBOS, 0, []byte("\x01vorbis head")),
				packets(1, 0, flagBOS, 0, audiotest.OpusHead(2, 0)),
				packets(2, 0, flagBOS, 0, audiotest.OpusHead(1, 0)),
				packets(7, 1, 0, 0, []byte("\x03vorbis comment")),
				packets(1, 1, 0, 0, tags),
				packets(2, 1, 0, 0, tags),
				packets(2, 2, 0, 960, b),
				packets(1, 2, 0, 960, a),
				packets(7, 2, 0, 960, c),
				packets(1, 3, flagEOS, 1920, c)),
			[][]byte{a, c}},
		{"chained links, with another stream's last page between them",
			cat(start(), packets(1, 2, flagEOS, 960, a), packets(7, 5, flagEOS, 960, c),
				packets(9, 0, flagBOS, 0, audiotest.OpusHead(1, 0)), packets(9, 1, 0, 0, tags), packets(9, 2, flagEOS, 960, b)),
			[][]byte{a, b}},
		{"end without EOS", cat(start(), packets(1, 2, 0, 960, a)), [][]byte{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, NewReader(bytes.NewReader(tt.in)))
			if err != io.EOF {
				t.Fatalf("ReadPacket error = %v, want io.EOF", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderHeadAndGranule(t *testing.T) {
	in := cat(packets(1, 0, flagBOS, 0, audiotest.OpusHead(1, 0)), packets(1, 1, 0, 0, tags),
		packets(1, 2, 0, 1272, fill(10, 0), fill(10, 1)), packets(1, 3, 0, 2232, fill(10, 2)))
	r := NewReader(bytes.NewReader(in))
	h, err := r.Head()
	want := opus.Head{Version: 1, Channels: 1, PreSkip: 312, InputSampleRate: 48000}
	if err != nil || h != want {
		t.Fatalf("Head() = %+v, %v; want %+v", h, err, want)
	}
	if g := r.Granule(); g != -1 {
		t.Errorf("Granule() before the first packet = %d, want -1", g)
	}
	for _, wantGranule := range []int64{1272, 1272, 2232} {
		if _, err := r.ReadPacket(); err != nil {
			t.Fatal(err)
		}
		if g := r.Granule(); g != wantGranule {
			t.Errorf("Granule() = %d, want %d", g, wantGranule)
		}
	}
}

func TestReaderRefuses(t *testing.T) {
	good := cat(start(), packets(1, 2, 0, 960, fill(100, 0)))
	corrupt := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x40
		return b
	}
	third := len(start()) // offset of the audio page
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"bad CRC in the body", corrupt(len(good) - 1), ErrCRC},
		{"bad CRC in the header", corrupt(third + 6), ErrCRC},
		{"truncated header", good[:third+10], ErrTruncatedPage},
		{"truncated lacing values", cat(start(), page(1, 2, 0, 0, []byte{1, 2, 3}, []byte{1, 2, 3, 4, 5, 6})[:28]), ErrTruncatedPage},
		{"truncated body", good[:len(good)-1], ErrTruncatedPage},
		{"bad capture pattern", cat(start(), []byte("OggZ"), good[third+4:]), ErrCapturePattern},
		{"page version 1", func() []byte {
			p := packets(1, 2, 0, 0, fill(10, 0))
			p[4] = 1
			binary.LittleEndian.PutUint32(p[22:], 0)
			binary.LittleEndian.PutUint32(p[22:], crcUpdate(0, p))
			return cat(start(), p)
		}(), ErrVersion},
		{"empty input", nil, ErrNoOpusStream},
		{"vorbis only", cat(packets(7, 0, flagBOS, 0, []byte("\x01vorbis")), packets(7, 1, 0, 0, []byte("\x03vorbis"))), ErrNoOpusStream},
		{"invalid head: family 0 with 3 channels", packets(1, 0, flagBOS, 0, audiotest.OpusHead(3, 0)), opus.ErrInvalidHead},
		{"no tags", cat(packets(1, 0, flagBOS, 0, audiotest.OpusHead(2, 0)), packets(1, 1, 0, 0, fill(20, 0))), ErrInvalidTags},
		{"page lost", cat(start(), packets(1, 3, 0, 0, fill(10, 0))), ErrPageLost},
		{"continuation without an unfinished packet",
			cat(start(), page(1, 2, flagContinue, 0, []byte{10}, fill(10, 0))), ErrContinuation},
		{"unfinished packet on a page that does not continue it",
			cat(start(), page(1, 2, 0, -1, []byte{255}, fill(255, 0)), page(1, 3, 0, 0, []byte{10}, fill(10, 0))), ErrContinuation},
		{"unfinished packet at end of stream",
			cat(start(), page(1, 2, flagEOS, -1, []byte{255}, fill(255, 0))), ErrTruncatedPacket},
		{"unfinished packet at end of input",
			cat(start(), page(1, 2, 0, -1, []byte{255}, fill(255, 0))), ErrTruncatedPacket},
		{"packet too large", func() []byte {
			in := start()
			for i := range MaxPacketSize/(255*255) + 1 {
				flags := byte(flagContinue)
				if i == 0 {
					flags = 0
				}
				in = cat(in, page(1, uint32(2+i), flags, -1, bytes.Repeat([]byte{255}, 255), make([]byte, 255*255)))
			}
			return in
		}(), ErrPacketTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.in))
			_, err := readAll(t, r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadPacket error = %v, want %v", err, tt.want)
			}
			if _, again := r.ReadPacket(); again != err {
				t.Errorf("second ReadPacket error = %v, want the same %v", again, err)
			}
		})
	}
}

func TestReaderFFmpeg(t *testing.T) {
	tests := []struct {
		name     string
		channels int
		frameMs  int
	}{
		{"stereo 20 ms", 2, 20},
		{"mono 20 ms", 1, 20},
		{"stereo 60 ms", 2, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := audiotest.Ogg(t, 2, tt.channels, tt.frameMs)
			r := NewReader(bytes.NewReader(in))
			h, err := r.Head()
			if err != nil {
				t.Fatal(err)
			}
			if int(h.Channels) != tt.channels || h.MappingFamily != 0 || h.InputSampleRate != 48000 || h.Passthrough() != nil {
				t.Errorf("Head() = %+v, want %d channels, family 0, 48 kHz, passthrough", h, tt.channels)
			}
			got, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("ReadPacket error = %v, want io.EOF", err)
			}
			var total time.Duration
			for i, p := range got {
				d, err := opus.PacketDuration(p)
				if err != nil || d != time.Duration(tt.frameMs)*time.Millisecond {
					t.Fatalf("packet %d plays %v, %v; want %d ms", i, d, err, tt.frameMs)
				}
				total += d
			}
			// The encoder pads the end to a whole frame.
			if min, max := 2*time.Second, 2*time.Second+time.Duration(tt.frameMs)*time.Millisecond; total < min || total > max {
				t.Errorf("%d packets play %v, want between %v and %v", len(got), total, min, max)
			}
			if want := int64(2*48000 + int(h.PreSkip)); r.Granule() != want {
				t.Errorf("final Granule() = %d, want %d", r.Granule(), want)
			}
		})
	}
}

func TestReaderFFmpegMultichannel(t *testing.T) {
	in := audiotest.FFmpeg(t, nil, "x.ogg", "-f", "lavfi", "-i", "sine=f=440:d=1", "-ac", "6", "-ar", "48000",
		"-c:a", "libopus", "-mapping_family", "1", "OUT")
	r := NewReader(bytes.NewReader(in))
	h, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	if h.Channels != 6 || h.MappingFamily != 1 {
		t.Fatalf("Head() = %+v, want 6 channels in family 1", h)
	}
	if err := h.Passthrough(); !errors.Is(err, opus.ErrNotPassthrough) {
		t.Errorf("Passthrough() = %v, want ErrNotPassthrough", err)
	}
}

func FuzzOggReader(f *testing.F) {
	f.Add(cat(start(), packets(1, 2, flagEOS, 960, fill(100, 1), fill(300, 2))))
	f.Add(cat(start(), page(1, 2, 0, -1, []byte{255}, fill(255, 0)), page(1, 3, flagContinue, 960, []byte{3}, fill(3, 0))))
	f.Add(cat(packets(7, 0, flagBOS, 0, []byte("\x01vorbis")), start(), packets(1, 2, 0, 960, fill(10, 0))))
	f.Add(cat(start(), packets(1, 2, flagEOS, 960, fill(10, 0)), packets(9, 0, flagBOS, 0, audiotest.OpusHead(1, 0))))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for range len(in) + 1 { // each packet consumes at least one byte
			p, err := r.ReadPacket()
			if err != nil {
				return
			}
			if len(p) == 0 || len(p) > MaxPacketSize {
				t.Fatalf("packet of %d bytes", len(p))
			}
		}
		t.Fatal("more packets than input bytes")
	})
}

// bytewiseCRC is the Ogg CRC computed bit by bit, as the specification
// defines it: the reference crcUpdate's tables must agree with.
func bytewiseCRC(crc uint32, b []byte) uint32 {
	for _, x := range b {
		crc ^= uint32(x) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestCRCMatchesTheDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 70 {
		b := make([]byte, n*7)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		seed := rng.Uint32()
		if got, want := crcUpdate(seed, b), bytewiseCRC(seed, b); got != want {
			t.Fatalf("crcUpdate over %d bytes = %08x, want %08x", len(b), got, want)
		}
	}
}

func BenchmarkCRC(b *testing.B) {
	page := make([]byte, 4096)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		crcUpdate(0, page)
	}
}

func TestLastGranule(t *testing.T) {
	audio := func(seq uint32, flags byte, granule int64, seed byte) []byte {
		return packets(1, seq, flags, granule, fill(120, seed), fill(120, seed+1))
	}
	whole := cat(start(), audio(2, 0, 1272, 1), audio(3, flagEOS, 2232, 3))
	damaged := slices.Clone(whole)
	damaged[len(damaged)-5] ^= 0xff
	tests := []struct {
		name   string
		tail   []byte
		want   int64
		wantOK bool
	}{
		{"the last page", whole, 2232, true},
		{"a tail that starts inside a page", whole[len(whole)-300:], 2232, true},
		{"the last page damaged", damaged, 1272, true},
		{"the last page cut short", whole[:len(whole)-1], 1272, true},
		{"a last page without a granule", cat(whole, page(1, 4, 0, -1, []byte{255}, fill(255, 5))), 2232, true},
		{"another stream's page last", cat(whole, packets(2, 0, 0, 99999, fill(50, 7))), 2232, true},
		{"a packet that reads OggS", cat(start(), packets(1, 2, flagEOS, 960, append([]byte("OggS\x00\x00"), fill(100, 1)...))), 960, true},
		{"only the head's page", start()[:len(start())-1], 0, true},
		{"no whole page", whole[len(whole)-100:], 0, false},
		{"not Ogg", fill(4000, 9), 0, false},
		{"empty", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LastGranule(tt.tail, 1)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("LastGranule = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
