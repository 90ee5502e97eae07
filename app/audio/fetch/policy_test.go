package fetch

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

const (
	msgLoopback    = "That URL leads to a loopback address, which TimmyBot does not fetch."
	msgLinkLocal   = "That URL leads to a link-local (cloud metadata) address, which TimmyBot does not fetch."
	msgPrivate     = "That URL leads to a private address, which TimmyBot does not fetch."
	msgNotation    = "That URL's host is a numeric host in an unusual notation; write an address as four decimal numbers, such as 192.0.2.1."
	msgCredentials = "URLs with a user name or password are not accepted; remove the part before the @."
	msgLocalhost   = "That URL points at this machine (localhost), which TimmyBot does not fetch."
)

func TestCheckURLRefuses(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		// The URLs the issue lists.
		{"metadata", "http://169.254.169.254/", msgLinkLocal},
		{"mapped metadata", "http://[::ffff:169.254.169.254]/", msgLinkLocal},
		{"hex", "http://0x7f000001/", msgNotation},
		{"short dotted", "http://127.1/", msgNotation},
		{"decimal", "http://2130706433/", msgNotation},
		{"localhost", "http://localhost/", msgLocalhost},
		{"host before @", "https://example.com@127.0.0.1/", msgCredentials},
		{"ECS credentials", "http://169.254.170.2/v2/credentials", msgLinkLocal},
		{"metrics port", "http://127.0.0.1:8080/metrics", msgLoopback},
		// IP literals of every refused kind.
		{"IPv6 loopback", "http://[::1]/", msgLoopback},
		{"IPv6 unspecified", "http://[::]/", "That URL leads to an unspecified address, which TimmyBot does not fetch."},
		{"IPv6 link-local", "http://[fe80::1]/", "That URL leads to a link-local address, which TimmyBot does not fetch."},
		{"IPv6 zone", "http://[fe80::1%25eth0]/", "That URL names a network interface (an IPv6 zone), which TimmyBot does not fetch."},
		{"unique local", "http://[fc00::1]/", "That URL leads to a private (unique local) address, which TimmyBot does not fetch."},
		{"AWS IPv6 metadata", "http://[fd00:ec2::254]/", "That URL leads to a private (unique local) address, which TimmyBot does not fetch."},
		{"IPv6 multicast", "http://[ff02::1]/", "That URL leads to a multicast address, which TimmyBot does not fetch."},
		{"CGNAT", "http://100.64.0.1/", "That URL leads to a shared (CGNAT) address, which TimmyBot does not fetch."},
		{"multicast", "http://224.0.0.1/", "That URL leads to a multicast address, which TimmyBot does not fetch."},
		{"unspecified", "http://0.0.0.0/", "That URL leads to an unspecified (this network) address, which TimmyBot does not fetch."},
		{"broadcast", "http://255.255.255.255/", "That URL leads to a reserved address, which TimmyBot does not fetch."},
		{"10/8", "http://10.1.2.3/", msgPrivate},
		{"172.16/12", "http://172.31.255.254/", msgPrivate},
		{"192.168/16", "http://192.168.0.1/", msgPrivate},
		{"loopback other than .1", "http://127.0.0.2/", msgLoopback},
		{"mapped loopback", "http://[::ffff:127.0.0.1]/", msgLoopback},
		{"mapped loopback in hex", "http://[::ffff:7f00:1]/", msgLoopback},
		{"NAT64 metadata", "http://[64:ff9b::a9fe:a9fe]/", msgLinkLocal},
		{"NAT64 metadata dotted", "http://[64:ff9b::169.254.169.254]/", msgLinkLocal},
		{"6to4 metadata", "http://[2002:a9fe:a9fe::]/", msgLinkLocal},
		{"6to4 private", "http://[2002:0a00:0001::1]/", msgPrivate},
		{"IPv4-compatible", "http://[::127.0.0.1]/", "That URL leads to an IPv4-compatible IPv6 address, which TimmyBot does not fetch."},
		{"IPv4-compatible public", "http://[::8.8.8.8]/", "That URL leads to an IPv4-compatible IPv6 address, which TimmyBot does not fetch."},
		{"Teredo", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "That URL leads to a Teredo tunnel address, which TimmyBot does not fetch."},
		{"local NAT64", "http://[64:ff9b:1::a00:1]/", "That URL leads to a local NAT64 address, which TimmyBot does not fetch."},
		// Numbers in the notations getaddrinfo accepts.
		{"octal", "http://0177.0.0.1/", msgNotation},
		{"octal single", "http://017700000001/", msgNotation},
		{"hex dotted", "http://0x7f.0x0.0x0.0x1/", msgNotation},
		{"mixed", "http://0x7f.1/", msgNotation},
		{"metadata decimal", "http://2852039166/", msgNotation},
		{"leading zero", "http://127.000.000.001/", msgNotation},
		{"five parts", "http://1.2.3.4.5/", msgNotation},
		{"bare 0x", "http://0x/", msgNotation},
		{"name ending in a number", "http://example.123/", msgNotation},
		{"trailing dot address", "http://127.0.0.1./", msgNotation},
		{"uppercase hex", "http://0X7F000001/", msgNotation},
		// Names.
		{"trailing dot localhost", "http://localhost./", msgLocalhost},
		{"uppercase localhost", "http://LocalHost/", msgLocalhost},
		{"sub.localhost", "http://metrics.localhost/", msgLocalhost},
		{"dotless", "http://metadata/", `That URL's host "metadata" is not a public host name.`},
		{"fullwidth localhost", "http://ｌｏｃａｌｈｏｓｔ/", "That URL's host is not a valid DNS name (letters, digits, hyphens and dots; international names in their xn-- form)."},
		{"empty label", "http://example..com/", "That URL's host is not a valid DNS name (letters, digits, hyphens and dots; international names in their xn-- form)."},
		{"uppercase scheme, loopback", "HTTP://127.0.0.1/", msgLoopback},
		{"uppercase scheme, metadata", "HTTPS://169.254.169.254/latest/meta-data/", msgLinkLocal},
		// Schemes and shapes.
		{"file", "file:///etc/passwd", "Only http:// and https:// URLs can be played, not file:."},
		{"gopher", "gopher://example.com/", "Only http:// and https:// URLs can be played, not gopher:."},
		{"ftp", "ftp://example.com/a.mp3", "Only http:// and https:// URLs can be played, not ftp:."},
		{"data", "data:audio/mpeg;base64,AAAA", "Only http:// and https:// URLs can be played, not data:."},
		{"javascript", "javascript:alert(1)", "Only http:// and https:// URLs can be played, not javascript:."},
		{"no scheme", "//example.com/a.mp3", "That is not a full URL; it must start with http:// or https://."},
		{"opaque", "http:example.com", "That URL has no host."},
		{"no host", "http:///a.mp3", "That URL has no host."},
		{"port only", "http://:80/", "That URL has no host."},
		{"port zero", "http://example.com:0/", "That URL's port 0 is out of range (1-65535)."},
		{"port too big", "http://example.com:65536/", "That URL's port 65536 is out of range (1-65535)."},
		{"not a URL", "http://exa mple.com/", "That is not a valid URL."},
		{"user and password", "http://user:hunter2@example.com/a.mp3", msgCredentials},
		{"user only", "https://token-abc@example.com/a.mp3", msgCredentials},
		{"empty userinfo", "http://@example.com/", msgCredentials},
		{"too long", "http://example.com/" + strings.Repeat("a", music.MaxURLLen), "That URL is too long (at most 2048 characters)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := CheckURL(tt.url)
			if music.ErrorCode(err) != music.EINVALID {
				t.Fatalf("CheckURL(%q) = %v, %v; want an EINVALID error", tt.url, u, err)
			}
			if got := music.ErrorMessage(err); got != tt.want {
				t.Errorf("CheckURL(%q) message\n got: %s\nwant: %s", tt.url, got, tt.want)
			}
			for _, secret := range []string{"hunter2", "token-abc"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("CheckURL(%q) error %q repeats the credentials", tt.url, err)
				}
			}
		})
	}
}

func TestCheckURLAccepts(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"https name", "https://cdn.example.com/music/song.mp3"},
		{"uppercase scheme and host", "HTTPS://CDN.Example.COM/a.ogg"},
		{"trailing dot name", "https://example.com./a.ogg"},
		{"port", "http://radio.example.net:8000/stream"},
		{"public IPv4", "http://8.8.8.8/a.mp3"},
		{"public IPv6", "http://[2606:4700:4700::1111]/a.mp3"},
		{"NAT64 of a public address", "http://[64:ff9b::808:808]/a.mp3"},
		{"6to4 of a public address", "http://[2002:808:808::1]/a.mp3"},
		{"punycode", "https://xn--e1afmkfd.xn--p1ai/a.mp3"},
		{"digits in labels", "https://1e100.net/a.mp3"},
		{"underscore", "https://my_host.example.org/a.mp3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := CheckURL(tt.url)
			if err != nil {
				t.Fatalf("CheckURL(%q) = %v", tt.url, err)
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				t.Errorf("CheckURL(%q).Scheme = %q", tt.url, u.Scheme)
			}
		})
	}
}

func TestPolicyAllow(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.0.0/16")}}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"64:ff9b::7f00:1", true},
		{"10.1.2.3", true},
		{"127.0.0.2", false},
		{"::1", false},
		{"10.2.0.1", false},
		{"169.254.169.254", false},
		{"93.184.215.14", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := p.CheckAddr(netip.MustParseAddr(tt.addr))
			if (err == nil) != tt.allowed {
				t.Errorf("CheckAddr(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
			}
		})
	}
	if _, err := (Policy{}).CheckURL("http://127.0.0.1/"); err == nil {
		t.Error("the default policy allows loopback")
	}
}
