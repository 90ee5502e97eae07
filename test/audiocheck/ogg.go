package audiocheck

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Opus over Ogg (RFC 7845): the stream's serial number, the decoder's
// pre-skip (libopus's look-ahead at 48 kHz), and how many packets go in
// one page.
const (
	serial         = 0x54696d6d
	preSkip        = 312
	packetsPerPage = 50
)

// OggOpus wraps raw stereo Opus packets in an Ogg Opus stream: an OpusHead
// page, an OpusTags page, then the audio in pages of up to one second, each
// with its granule position (samples at 48 kHz up to its last packet) and
// CRC, the last marked end of stream.
func OggOpus(packets [][]byte) ([]byte, error) {
	var out bytes.Buffer
	head := []byte("OpusHead\x01\x02")
	head = binary.LittleEndian.AppendUint16(head, preSkip)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0) // output gain 0, channel mapping family 0
	tags := []byte("OpusTags")
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len("audiocheck")))
	tags = append(tags, "audiocheck"...)
	tags = binary.LittleEndian.AppendUint32(tags, 0) // no comments
	sequence := uint32(0)
	page := func(flags byte, granule uint64, packets [][]byte) {
		out.Write(oggPage(flags, granule, sequence, packets))
		sequence++
	}
	page(flagBeginning, 0, [][]byte{head})
	page(0, 0, [][]byte{tags})
	var granule uint64
	for start := 0; start < len(packets); start += packetsPerPage {
		batch := packets[start:min(start+packetsPerPage, len(packets))]
		for i, p := range batch {
			samples, err := PacketSamples(p)
			if err != nil {
				return nil, fmt.Errorf("packet %d: %w", start+i, err)
			}
			granule += uint64(samples)
		}
		flags := byte(0)
		if start+packetsPerPage >= len(packets) {
			flags = flagEnd
		}
		page(flags, granule, batch)
	}
	return out.Bytes(), nil
}

const (
	flagBeginning = 0x02
	flagEnd       = 0x04
)

// oggPage builds one page holding whole packets; they must fit the 255
// lacing values of one page (50 packets of 20 ms Opus do).
func oggPage(flags byte, granule uint64, sequence uint32, packets [][]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for ; n >= 255; n -= 255 {
			lacing = append(lacing, 255)
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	b := []byte("OggS\x00")
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, granule)
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, sequence)
	b = binary.LittleEndian.AppendUint32(b, 0) // CRC, filled in below
	b = append(b, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, body...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	return b
}

// crcTable is Ogg's CRC-32: polynomial 0x04c11db7, most significant bit
// first, no reflection, initial value and final XOR zero.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>24)^c]
	}
	return crc
}

// PacketSamples is the duration of an Opus packet in samples at 48 kHz, read
// from its TOC byte (RFC 6716 section 3.1).
func PacketSamples(packet []byte) (int, error) {
	if len(packet) == 0 {
		return 0, fmt.Errorf("empty opus packet")
	}
	config := packet[0] >> 3
	var frame int // samples per frame at 48 kHz
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch packet[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0, fmt.Errorf("opus packet of code 3 without a frame count")
		}
		frames = int(packet[1] & 0x3f)
	}
	return frames * frame, nil
}
