package transport

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
)

// DiscoverySize is the size of an IP discovery request and response.
const DiscoverySize = 74

const (
	discoveryRequest  = 1
	discoveryResponse = 2
	discoveryBodyLen  = 70
	discoveryAddrLen  = 64
)

// AppendDiscoveryRequest appends the IP discovery request for ssrc.
func AppendDiscoveryRequest(dst []byte, ssrc uint32) []byte {
	return appendDiscovery(dst, discoveryRequest, ssrc, "", 0)
}

// AppendDiscoveryResponse appends the response a voice server sends: the
// address and port it saw the request come from.
func AppendDiscoveryResponse(dst []byte, ssrc uint32, addr netip.AddrPort) []byte {
	return appendDiscovery(dst, discoveryResponse, ssrc, addr.Addr().String(), addr.Port())
}

func appendDiscovery(dst []byte, typ uint16, ssrc uint32, ip string, port uint16) []byte {
	dst = binary.BigEndian.AppendUint16(dst, typ)
	dst = binary.BigEndian.AppendUint16(dst, discoveryBodyLen)
	dst = binary.BigEndian.AppendUint32(dst, ssrc)
	var addr [discoveryAddrLen]byte
	copy(addr[:discoveryAddrLen-1], ip) // keep a terminating NUL
	dst = append(dst, addr[:]...)
	return binary.BigEndian.AppendUint16(dst, port)
}

// ParseDiscoveryRequest returns the SSRC of an IP discovery request.
func ParseDiscoveryRequest(b []byte) (uint32, error) {
	ssrc, _, _, err := parseDiscovery(b, discoveryRequest)
	return ssrc, err
}

// ParseDiscoveryResponse returns the external address in an IP discovery
// response and the SSRC it answers.
func ParseDiscoveryResponse(b []byte) (uint32, netip.AddrPort, error) {
	ssrc, ip, port, err := parseDiscovery(b, discoveryResponse)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return 0, netip.AddrPort{}, fmt.Errorf("transport: discovery address: %w", err)
	}
	return ssrc, netip.AddrPortFrom(addr, port), nil
}

func parseDiscovery(b []byte, typ uint16) (uint32, string, uint16, error) {
	if len(b) != DiscoverySize {
		return 0, "", 0, fmt.Errorf("transport: %d-byte discovery packet", len(b))
	}
	if got := binary.BigEndian.Uint16(b); got != typ {
		return 0, "", 0, fmt.Errorf("transport: discovery type %d, want %d", got, typ)
	}
	if n := binary.BigEndian.Uint16(b[2:]); n != discoveryBodyLen {
		return 0, "", 0, fmt.Errorf("transport: discovery length %d", n)
	}
	addr := b[8 : 8+discoveryAddrLen]
	if i := bytes.IndexByte(addr, 0); i >= 0 {
		addr = addr[:i]
	}
	return binary.BigEndian.Uint32(b[4:]), string(addr), binary.BigEndian.Uint16(b[72:]), nil
}
