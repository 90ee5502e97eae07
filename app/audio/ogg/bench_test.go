package ogg

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReader reads a stream of 20 ms packets of 160 bytes, 50 to a
// page, with one packet continued across each page boundary, and reports
// packets per second and allocations per packet.
func BenchmarkReader(b *testing.B) {
	in := start()
	for pg := range 60 {
		var lacing, body []byte
		flags := byte(0)
		if pg > 0 { // the end of the packet begun on the page before
			flags = flagContinue
			lacing, body = append(lacing, 60), append(body, fill(60, 9)...)
		}
		for i := range 49 {
			lacing, body = append(lacing, 160), append(body, fill(160, byte(i))...)
		}
		if pg < 59 { // a packet continued on the next page
			lacing, body = append(lacing, 255), append(body, fill(255, 7)...)
		}
		in = cat(in, page(1, uint32(2+pg), flags, int64(pg*960*50), lacing, body))
	}
	packets := countPackets(b, in)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	src := bytes.NewReader(in)
	for b.Loop() {
		src.Reset(in)
		r := NewReader(src)
		for range packets {
			if _, err := r.ReadPacket(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		src.Reset(in)
		r := NewReader(src)
		for range packets {
			r.ReadPacket()
		}
	}))/float64(packets), "allocs/packet")
}

func countPackets(b *testing.B, in []byte) int {
	b.Helper()
	r := NewReader(bytes.NewReader(in))
	n := 0
	for {
		if _, err := r.ReadPacket(); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			return n
		}
		n++
	}
}
