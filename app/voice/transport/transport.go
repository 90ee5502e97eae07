// Package transport owns the UDP side of a Discord voice connection: RTP
// packets for 20 ms Opus frames, the two transport encryption modes Discord
// accepts today (aead_aes256_gcm_rtpsize, preferred, and
// aead_xchacha20_poly1305_rtpsize, always offered), and IP discovery packets.
//
// It does not own sockets, pacing or end-to-end (DAVE) encryption: the voice
// connection reads and writes the packets built here, and payloads handed to
// it are already DAVE protocol frames where DAVE is on.
//
// In the rtpsize modes the unencrypted header is the RTP header with its CSRCs
// and, when the X bit is set, the 4-byte extension preamble; it is the AEAD's
// additional data. The extension body and the payload are encrypted. A 32-bit
// big-endian packet counter is the first 4 bytes of the nonce (the rest zero)
// and is appended to the packet after the tag.
package transport

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// Encryption modes, by their voice gateway names.
const (
	ModeAES256GCM         = "aead_aes256_gcm_rtpsize"
	ModeXChaCha20Poly1305 = "aead_xchacha20_poly1305_rtpsize"
)

// KeySize is the size of the secret key of both modes.
const KeySize = 32

// RTP constants for Discord's Opus stream.
const (
	HeaderSize      = 12
	PayloadType     = 0x78
	FrameSamples    = 960 // 20 ms at 48 kHz
	counterSize     = 4
	rtpVersion2     = 0x80
	extensionBit    = 0x10
	paddingBit      = 0x20
	extensionPreamb = 4
	maxAEADOverhead = 16
)

// Packetizer turns one sender's frames into consecutive packets: each packet
// advances the sequence by 1, the timestamp by one 20 ms frame and the nonce
// counter by 1. It is not safe for concurrent use.
//
// It holds its numbers and its cipher's state in one value, and a sender
// keeps it inside its own state: each packet then reads one run of memory
// instead of following pointers, which counts with a thousand streams.
type Packetizer struct {
	header  Header
	counter uint32
	cipher  Cipher
}

// NewPacketizer starts numbering packets of ssrc at the given sequence and
// timestamp; random starting points are what RTP asks for. The packetizer
// seals with its own copy of c; both may be used, one goroutine each.
func NewPacketizer(c *Cipher, ssrc uint32, sequence uint16, timestamp uint32) Packetizer {
	return Packetizer{cipher: *c, header: Header{Sequence: sequence, Timestamp: timestamp, SSRC: ssrc}}
}

// Packet makes the next packet of pkt, which holds HeaderSize bytes of
// room and then the frame: the frame is encrypted where it lies, so a
// sender that builds its frame in the packet copies it nowhere else. The
// packet is in pkt's memory when pkt has room for the tag and counter.
func (p *Packetizer) Packet(pkt []byte) []byte {
	pkt = p.cipher.Seal(pkt, p.header, p.counter)
	p.header.Sequence++
	p.header.Timestamp += FrameSamples
	p.counter++
	return pkt
}

// ChooseMode picks the encryption mode from those the server offers:
// AES-256-GCM when offered, else XChaCha20-Poly1305.
func ChooseMode(offered []string) (string, error) {
	for _, want := range []string{ModeAES256GCM, ModeXChaCha20Poly1305} {
		if slices.Contains(offered, want) {
			return want, nil
		}
	}
	return "", fmt.Errorf("transport: no supported encryption mode among %q", offered)
}

// Header is the fixed RTP header of an outgoing packet.
type Header struct {
	Sequence  uint16
	Timestamp uint32
	SSRC      uint32
}

// Append appends the 12-byte header: version 2, no padding, no extension,
// no CSRCs, payload type 0x78.
func (h Header) Append(dst []byte) []byte {
	dst = append(dst, rtpVersion2, PayloadType)
	dst = binary.BigEndian.AppendUint16(dst, h.Sequence)
	dst = binary.BigEndian.AppendUint32(dst, h.Timestamp)
	return binary.BigEndian.AppendUint32(dst, h.SSRC)
}

// Cipher seals and opens packets of one session. It is not safe for
// concurrent use.
//
// A Cipher is a value without pointers to its own memory, so a copy is a
// second cipher of the same key (the AEAD itself keeps no state per call).
type Cipher struct {
	aead      cipher.AEAD
	nonceSize int
	nonce     [maxNonceSize]byte // counter in the first 4 bytes
	aad       [HeaderSize]byte
	mode      string
	// openNonce is Open's nonce buffer, apart from Seal's.
	openNonce [maxNonceSize]byte
}

// maxNonceSize is the longer nonce of the two modes, XChaCha20-Poly1305's.
const maxNonceSize = chacha20poly1305.NonceSizeX

// NewCipher returns the Cipher for a mode and the session description's
// secret key.
func NewCipher(mode string, key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("transport: %d-byte key, want %d", len(key), KeySize)
	}
	var aead cipher.AEAD
	switch mode {
	case ModeAES256GCM:
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("transport: %w", err)
		}
		if aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("transport: %w", err)
		}
	case ModeXChaCha20Poly1305:
		var err error
		if aead, err = chacha20poly1305.NewX(key); err != nil {
			return nil, fmt.Errorf("transport: %w", err)
		}
	default:
		return nil, fmt.Errorf("transport: unsupported mode %q", mode)
	}
	return &Cipher{mode: mode, aead: aead, nonceSize: aead.NonceSize()}, nil
}

// Mode returns the cipher's mode name.
func (c *Cipher) Mode() string { return c.mode }

// Seal encrypts the packet in pkt, which holds HeaderSize bytes of room and
// then the payload: it writes the header, seals the payload where it lies
// and appends the tag and the counter, in pkt's memory when it has room for
// them.
func (c *Cipher) Seal(pkt []byte, h Header, counter uint32) []byte {
	h.Append(c.aad[:0])
	copy(pkt, c.aad[:])
	binary.BigEndian.PutUint32(c.nonce[:], counter)
	pkt = slices.Grow(pkt, maxAEADOverhead+counterSize)
	payload := pkt[HeaderSize:]
	sealed := c.aead.Seal(payload[:0], c.nonce[:c.nonceSize], payload, c.aad[:])
	return binary.BigEndian.AppendUint32(pkt[:HeaderSize+len(sealed)], counter)
}

// Packet is an opened RTP packet. Slices alias the buffer passed to Open.
type Packet struct {
	Header    Header
	Counter   uint32
	Extension []byte // extension body (decrypted), if the X bit was set
	Payload   []byte
}

// Errors of Open.
var (
	ErrShortPacket = errors.New("transport: packet too short")
	ErrNotRTP      = errors.New("transport: not an RTP version 2 packet")
	ErrAuth        = errors.New("transport: packet authentication failed")
)

// Open authenticates and decrypts a packet; the plaintext is appended to
// buf, which Packet's slices then alias.
func (c *Cipher) Open(buf, packet []byte) (Packet, error) {
	var p Packet
	aadLen, err := unencryptedHeaderLen(packet)
	if err != nil {
		return p, err
	}
	overhead := c.aead.Overhead() + counterSize
	if len(packet) < aadLen+overhead {
		return p, ErrShortPacket
	}
	p.Header = Header{
		Sequence:  binary.BigEndian.Uint16(packet[2:]),
		Timestamp: binary.BigEndian.Uint32(packet[4:]),
		SSRC:      binary.BigEndian.Uint32(packet[8:]),
	}
	counterAt := len(packet) - counterSize
	p.Counter = binary.BigEndian.Uint32(packet[counterAt:])
	copy(c.openNonce[:], packet[counterAt:])
	plain, err := c.aead.Open(buf, c.openNonce[:c.nonceSize], packet[aadLen:counterAt], packet[:aadLen])
	if err != nil {
		return p, ErrAuth
	}
	plain = plain[len(buf):]
	if packet[0]&paddingBit != 0 {
		if len(plain) == 0 || int(plain[len(plain)-1]) > len(plain) {
			return p, fmt.Errorf("transport: bad padding: %w", ErrShortPacket)
		}
		plain = plain[:len(plain)-int(plain[len(plain)-1])]
	}
	if packet[0]&extensionBit != 0 {
		words := int(binary.BigEndian.Uint16(packet[aadLen-2:]))
		if 4*words > len(plain) {
			return p, fmt.Errorf("transport: extension of %d words: %w", words, ErrShortPacket)
		}
		p.Extension, plain = plain[:4*words], plain[4*words:]
	}
	p.Payload = plain
	return p, nil
}

// unencryptedHeaderLen returns the length of the header that rtpsize modes
// leave in clear: 12 bytes, the CSRCs, and the extension preamble.
func unencryptedHeaderLen(packet []byte) (int, error) {
	if len(packet) < HeaderSize {
		return 0, ErrShortPacket
	}
	if packet[0]&0xC0 != rtpVersion2 {
		return 0, ErrNotRTP
	}
	n := HeaderSize + 4*int(packet[0]&0x0F)
	if packet[0]&extensionBit != 0 {
		n += extensionPreamb
	}
	if len(packet) < n {
		return 0, ErrShortPacket
	}
	return n, nil
}
