// Package opus reads the two things a passthrough player needs to know about
// Opus without decoding it: how long a packet plays (RFC 6716 §3.1, from the
// TOC byte and the frame count) and the identification header, OpusHead
// (RFC 7845 §5.1), that Ogg pages and Matroska CodecPrivate carry.
//
// It does not decode, encode or validate audio, and it knows no containers:
// the ogg and webm packages hand it bytes.
package opus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrInvalidPacket is wrapped by every refusal of PacketDuration.
var ErrInvalidPacket = errors.New("invalid opus packet")

// MaxPacketDuration is the longest an Opus packet may play (RFC 6716 §3.2.5).
const MaxPacketDuration = 120 * time.Millisecond

// frameDurations maps a TOC configuration number (0-31) to the duration of
// each frame (RFC 6716 §3.1, Table 2), in units of 2.5 ms so it is exact.
var frameDurations = [32]uint8{
	4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 16, 24, // SILK NB, MB, WB: 10, 20, 40, 60 ms
	4, 8, 4, 8, // Hybrid SWB, FB: 10, 20 ms
	1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, // CELT NB, WB, SWB, FB: 2.5, 5, 10, 20 ms
}

const quarterTick = 2500 * time.Microsecond

// PacketDuration returns how long packet plays: the duration of one frame,
// from the configuration in the TOC byte, times the number of frames, from
// its frame-count code (one for code 0, two for codes 1 and 2, the count byte
// for code 3). It checks only what the duration depends on, so a packet it
// accepts may still fail to decode.
func PacketDuration(packet []byte) (time.Duration, error) {
	if len(packet) == 0 {
		return 0, fmt.Errorf("%w: empty packet", ErrInvalidPacket)
	}
	toc := packet[0]
	frame := int(frameDurations[toc>>3])
	var frames int
	switch toc & 3 {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0, fmt.Errorf("%w: code 3 packet without a frame count byte", ErrInvalidPacket)
		}
		frames = int(packet[1] & 0x3f)
		if frames == 0 {
			return 0, fmt.Errorf("%w: code 3 packet with zero frames", ErrInvalidPacket)
		}
	}
	d := time.Duration(frame*frames) * quarterTick
	if d > MaxPacketDuration {
		return 0, fmt.Errorf("%w: %d frames of %v play %v, more than %v", ErrInvalidPacket,
			frames, time.Duration(frame)*quarterTick, d, MaxPacketDuration)
	}
	return d, nil
}

// Errors returned by ParseHead and Head.Passthrough.
var (
	ErrInvalidHead    = errors.New("invalid OpusHead")
	ErrNotPassthrough = errors.New("opus stream cannot be passed through")
)

// HeadSize is the size of an OpusHead with channel mapping family 0.
const HeadSize = 19

// Head is the Opus identification header (RFC 7845 §5.1).
type Head struct {
	Version  uint8
	Channels uint8
	// PreSkip is the number of 48 kHz samples to drop from the start of the
	// decoded stream.
	PreSkip uint16
	// InputSampleRate is the rate of the encoder's input, for information:
	// Opus always decodes at 48 kHz.
	InputSampleRate uint32
	// OutputGain is the gain to apply when decoding, in Q7.8 dB. A player
	// that passes packets through does not apply it.
	OutputGain int16
	// MappingFamily 0 is mono or stereo in one Opus stream; other families
	// carry several streams in each packet.
	MappingFamily uint8
}

// ParseHead parses an OpusHead packet. It refuses a header that RFC 7845
// forbids: a wrong magic, an incompatible major version, zero channels, or
// mapping family 0 with more than two channels.
func ParseHead(b []byte) (Head, error) {
	if len(b) < HeadSize {
		return Head{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrInvalidHead, len(b), HeadSize)
	}
	if string(b[:8]) != "OpusHead" {
		return Head{}, fmt.Errorf("%w: magic %q, want \"OpusHead\"", ErrInvalidHead, b[:8])
	}
	h := Head{
		Version:         b[8],
		Channels:        b[9],
		PreSkip:         binary.LittleEndian.Uint16(b[10:]),
		InputSampleRate: binary.LittleEndian.Uint32(b[12:]),
		OutputGain:      int16(binary.LittleEndian.Uint16(b[16:])),
		MappingFamily:   b[18],
	}
	switch {
	case h.Version>>4 != 0:
		return Head{}, fmt.Errorf("%w: version %d, want major version 0", ErrInvalidHead, h.Version)
	case h.Channels == 0:
		return Head{}, fmt.Errorf("%w: zero channels", ErrInvalidHead)
	case h.MappingFamily == 0 && h.Channels > 2:
		return Head{}, fmt.Errorf("%w: mapping family 0 with %d channels", ErrInvalidHead, h.Channels)
	case h.MappingFamily != 0 && len(b) < HeadSize+2+int(h.Channels):
		return Head{}, fmt.Errorf("%w: mapping family %d without its %d-channel mapping table",
			ErrInvalidHead, h.MappingFamily, h.Channels)
	}
	return h, nil
}

// Passthrough reports whether packets of this stream can go to a voice
// client unchanged: only mapping family 0 (mono or stereo, one Opus stream
// per packet) can. The error wraps ErrNotPassthrough and says why not.
func (h Head) Passthrough() error {
	if h.MappingFamily != 0 {
		return fmt.Errorf("%w: channel mapping family %d with %d channels", ErrNotPassthrough, h.MappingFamily, h.Channels)
	}
	if h.Channels < 1 || h.Channels > 2 {
		return fmt.Errorf("%w: %d channels", ErrNotPassthrough, h.Channels)
	}
	return nil
}

// AppendBinary appends h as an OpusHead packet of mapping family 0, the
// only family whose header has no channel mapping table.
func (h Head) AppendBinary(b []byte) ([]byte, error) {
	if h.MappingFamily != 0 {
		return b, fmt.Errorf("%w: writing mapping family %d", ErrInvalidHead, h.MappingFamily)
	}
	b = append(b, "OpusHead"...)
	b = append(b, h.Version, h.Channels)
	b = binary.LittleEndian.AppendUint16(b, h.PreSkip)
	b = binary.LittleEndian.AppendUint32(b, h.InputSampleRate)
	b = binary.LittleEndian.AppendUint16(b, uint16(h.OutputGain))
	return append(b, h.MappingFamily), nil
}
