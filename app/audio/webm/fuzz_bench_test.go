package webm

import (
	"bytes"
	"testing"

	"github.com/iddv/timmybot/app/audio/internal/audiotest"
)

func FuzzWebMReader(f *testing.F) {
	tracks := meta(1_000_000, opusTrack(1, audiotest.OpusHead(2, 0)))
	a := packet(10, 1)
	f.Add(stream(tracks, el(idCluster, uintEl(idTimestamp, 0), el(idSimpleBlock, block(1, 0, 0x80, a...)))))
	f.Add(stream(tracks, unsized(idCluster, el(idSimpleBlock, block(1, 0, 0x82, cat([]byte{1, 10}, a, a)...)))))
	f.Add(stream(tracks, unsized(idCluster, el(idSimpleBlock, block(1, 0, 0x86, cat([]byte{1, 0x8a}, a, a)...)))))
	f.Add(stream(tracks, el(idCluster, el(idBlockGroup, el(idBlock, block(1, 0, 0x84, cat([]byte{1}, a, a)...))))))
	f.Add(stream(el(idCues, el(idCuePoint, uintEl(idCueTime, 0), el(idCueTrackPos, uintEl(idCueTrack, 1), uintEl(idCueClusterPos, 0)))), tracks))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			return
		}
		// Each packet has at least one byte of its own, so there are fewer
		// packets than input bytes.
		for range len(in) + 1 {
			p, _, err := r.ReadPacket()
			if err != nil {
				return
			}
			if len(p) == 0 || len(p) > MaxBlockSize {
				t.Fatalf("packet of %d bytes", len(p))
			}
		}
		t.Fatal("more packets than input bytes")
	})
}

// BenchmarkReader reads a stream of 20 ms packets of 160 bytes, in clusters
// of 50 blocks, and reports packets per second and allocations per packet.
func BenchmarkReader(b *testing.B) {
	var clusters [][]byte
	for c := range 60 {
		blocks := [][]byte{uintEl(idTimestamp, uint64(c*1000))}
		for i := range 50 {
			blocks = append(blocks, el(idSimpleBlock, block(1, int16(i*20), 0x80, packet(160, byte(i))...)))
		}
		clusters = append(clusters, el(idCluster, blocks...))
	}
	in := stream(append([][]byte{meta(1_000_000, opusTrack(1, audiotest.OpusHead(2, 0)))}, clusters...)...)
	const packets = 60 * 50
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	src := bytes.NewReader(in)
	for b.Loop() {
		src.Reset(in)
		r, err := NewReader(src)
		if err != nil {
			b.Fatal(err)
		}
		for range packets {
			if _, _, err := r.ReadPacket(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		src.Reset(in)
		r, _ := NewReader(src)
		for range packets {
			r.ReadPacket()
		}
	}))/packets, "allocs/packet")
}
