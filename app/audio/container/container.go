// Package container tells which container a byte stream is in from its first
// bytes, so a caller can pick a demuxer before reading further.
//
// It does not read streams or parse containers: the ogg and webm packages do.
package container

import "bytes"

// Kind is a container format.
type Kind int

// The kinds Sniff tells apart.
const (
	Unknown Kind = iota
	Ogg
	// Matroska includes WebM, its subset: both start with an EBML header.
	Matroska
)

// SniffLen is how many bytes Sniff needs to tell every kind apart.
const SniffLen = 4

var (
	oggMagic  = []byte("OggS")
	ebmlMagic = []byte{0x1a, 0x45, 0xdf, 0xa3}
)

// Sniff returns the kind of container whose stream starts with first, or
// Unknown when first is shorter than SniffLen or matches no kind.
func Sniff(first []byte) Kind {
	switch {
	case bytes.HasPrefix(first, oggMagic):
		return Ogg
	case bytes.HasPrefix(first, ebmlMagic):
		return Matroska
	}
	return Unknown
}

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Ogg:
		return "ogg"
	case Matroska:
		return "matroska"
	}
	return "unknown"
}
