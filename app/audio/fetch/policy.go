// Package fetch is the only way TimmyBot reads a user-supplied URL: a URL
// check, an HTTP client whose dialer refuses every address the bot must not
// reach, a body (of a whole file or one byte range of it) that resumes a
// dropped download at the byte where it broke, a loopback relay that lets ffmpeg read a user URL without opening it
// itself, and the limits on what one user request may cost.
//
// The guard is the dialer: it checks the address of every connection after
// DNS, on the first request and on every redirect, so neither a DNS answer
// that changes between check and connect (rebinding) nor a redirect can lead
// the bot to loopback, private, link-local (cloud metadata), shared (CGNAT),
// multicast or reserved addresses, written in any notation or embedded in
// IPv6. CheckURL is only a first filter that gives a clear message early.
//
// It does not decode, transcode or pace audio, and it does not resolve pages
// (YouTube, SoundCloud) to audio URLs; those are other packages' jobs.
package fetch

import (
	"net/netip"
	"net/url"

	"github.com/iddv/timmybot/app/music"
)

// Policy says which addresses the bot may connect to besides public ones.
type Policy struct {
	// Allow lists networks an operator opened on purpose, such as an audio
	// host on the bot's own LAN. Write IPv4 networks as IPv4 (10.1.2.0/24).
	// Default: none, only public addresses are reached.
	Allow []netip.Prefix
}

// CheckURL checks a URL from a user with the default policy (no networks
// allowed besides public ones). See Policy.CheckURL.
func CheckURL(raw string) (*url.URL, error) {
	return Policy{}.CheckURL(raw)
}

// CheckURL parses raw as music.ParseAudioURL does and, when its host is an IP
// address, refuses it unless the policy permits it. Refusals are
// music.EINVALID errors whose message says why and never repeats the URL.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := music.ParseAudioURL(raw)
	if err != nil {
		return nil, err
	}
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := p.CheckAddr(addr); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// CheckAddr refuses an address the bot must not connect to: one in a
// special-purpose range, directly, IPv4-mapped (::ffff:a.b.c.d) or embedded
// in NAT64 (64:ff9b::/96) or 6to4 (2002::/16), unless the policy allows it.
func (p Policy) CheckAddr(addr netip.Addr) error {
	addr = addr.WithZone("").Unmap()
	for _, allowed := range p.Allow {
		if allowed.Contains(addr) {
			return nil
		}
	}
	if embedded, ok := embeddedIPv4(addr); ok {
		return p.CheckAddr(embedded)
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(addr) {
			return music.Errorf(music.EINVALID, "That URL leads to %s address, which TimmyBot does not fetch.", r.kind)
		}
	}
	return nil
}

// embeddedIPv4 returns the IPv4 address that the translation prefixes carry,
// so that 64:ff9b::a9fe:a9fe is judged as 169.254.169.254.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if !addr.Is6() {
		return netip.Addr{}, false
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// refusedRanges are the special-purpose registries of IANA (IPv4 and IPv6)
// minus what is globally reachable, named for the message users see.
var refusedRanges = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (this network)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a reserved (6to4 relay)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a reserved (benchmarking)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved"},
	{netip.MustParsePrefix("::/128"), "an unspecified"},
	{netip.MustParsePrefix("::1/128"), "a loopback"},
	// IPv4-compatible addresses (::a.b.c.d) are deprecated and never routed.
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible IPv6"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64"},
	{netip.MustParsePrefix("100::/64"), "a discard-only"},
	// Teredo hides its IPv4 addresses obfuscated; no audio host needs it.
	{netip.MustParsePrefix("2001::/32"), "a Teredo tunnel"},
	{netip.MustParsePrefix("2001:2::/48"), "a reserved (benchmarking)"},
	{netip.MustParsePrefix("2001:10::/28"), "a reserved (ORCHID)"},
	{netip.MustParsePrefix("2001:20::/28"), "a reserved (ORCHID)"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local)"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast"},
}
