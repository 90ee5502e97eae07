package music

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits that keep one queue entry well inside a DynamoDB item and a Discord
// embed field.
const (
	MaxTitleLen = 256  // runes
	MaxURLLen   = 2048 // bytes
	MaxQueueLen = 10000
	// MaxArtworkURLLen is the longest image URL Discord accepts in an embed.
	MaxArtworkURLLen = 2048 // bytes
)

// Track is something playable. URL is where the audio (or the page a source
// resolves to audio) lives; Title is what users see.
type Track struct {
	Title       string
	URL         string
	Duration    time.Duration // zero when unknown (live streams, unprobed URLs)
	Source      string        // "http", "youtube", "soundcloud", "spotify" ...
	RequestedBy UserID
	ArtworkURL  string // cover or thumbnail image; empty when the source has none
}

// Autoplay is the RequestedBy of tracks the player queued itself when the
// queue ran out; it is no Discord user.
const Autoplay UserID = "autoplay"

// Validate checks the bounds every store relies on.
func (t Track) Validate() error {
	switch {
	case t.URL == "":
		return Errorf(EINVALID, "A track needs a URL.")
	case len(t.URL) > MaxURLLen:
		return Errorf(EINVALID, "That URL is too long (at most %d characters).", MaxURLLen)
	case !utf8.ValidString(t.Title) || !utf8.ValidString(t.URL):
		return Errorf(EINVALID, "Track text must be valid UTF-8.")
	case utf8.RuneCountInString(t.Title) > MaxTitleLen:
		return Errorf(EINVALID, "That title is too long (at most %d characters).", MaxTitleLen)
	case t.Duration < 0:
		return Errorf(EINVALID, "A track cannot have a negative duration.")
	case t.ArtworkURL != "" && Artwork(t.ArtworkURL) == "":
		return Errorf(EINVALID, "A track's artwork must be an http(s) URL of at most %d characters.", MaxArtworkURLLen)
	}
	return nil
}

// CheckDuration refuses a track whose known duration d is longer than
// max, before it is queued; max 0 is no limit.
func CheckDuration(d, max time.Duration) error {
	if max > 0 && d > max {
		return Errorf(EINVALID, "That track is longer than the %s limit.", DurationLimit(max))
	}
	return nil
}

// DurationLimit names a duration limit as users read it: "2-hour",
// "10-minute", "1h30m".
func DurationLimit(max time.Duration) string {
	h, m := int(max/time.Hour), int(max%time.Hour/time.Minute)
	switch {
	case m == 0 && h > 0:
		return strconv.Itoa(h) + "-hour"
	case h == 0:
		return strconv.Itoa(m) + "-minute"
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// Artwork returns raw if it can be shown as a track's image: an absolute
// http(s) URL with a host, of at most MaxArtworkURLLen bytes of UTF-8.
// Anything else yields "": artwork is optional, so sources drop what they
// cannot show rather than fail the track.
func Artwork(raw string) string {
	if raw == "" || len(raw) > MaxArtworkURLLen || !utf8.ValidString(raw) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return raw
}

// ParseAudioURL accepts an absolute http(s) URL whose host is a DNS name or
// an IP address in its usual notation, and refuses anything else with an
// EINVALID error that says what is wrong. Messages never repeat the URL, so
// credentials pasted by mistake are never shown back.
//
// It checks only what can be seen in the text: whether an address is one the
// bot may reach is decided by the fetcher (a policy on IP literals here, and
// on every address it connects to).
func ParseAudioURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, Errorf(EINVALID, "That URL is too long (at most %d characters).", MaxURLLen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, Errorf(EINVALID, "That is not a valid URL.")
	case u.Scheme == "":
		return nil, Errorf(EINVALID, "That is not a full URL; it must start with http:// or https://.")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, Errorf(EINVALID, "Only http:// and https:// URLs can be played, not %s:.", Truncate(u.Scheme, 20))
	case u.User != nil:
		return nil, Errorf(EINVALID, "URLs with a user name or password are not accepted; remove the part before the @.")
	case u.Host == "" || u.Hostname() == "":
		return nil, Errorf(EINVALID, "That URL has no host.")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, Errorf(EINVALID, "That URL's port %s is out of range (1-65535).", Truncate(port, 10))
		}
	}
	if err := checkHost(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkHost refuses hosts that resolvers read differently from people:
// numbers in other notations (0x7f000001, 2130706433, 127.1, 0177.0.0.1) that
// getaddrinfo turns into addresses, names of this machine, names without a
// dot that search domains turn into internal names, and anything that is not
// a plain ASCII DNS name.
func checkHost(u *url.URL) error {
	host := strings.ToLower(u.Hostname())
	if strings.HasPrefix(u.Host, "[") {
		if strings.Contains(host, "%") {
			return Errorf(EINVALID, "That URL names a network interface (an IPv6 zone), which TimmyBot does not fetch.")
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return Errorf(EINVALID, "That URL's IPv6 address is not valid.")
		}
		return nil
	}
	name := strings.TrimSuffix(host, ".")
	labels := strings.Split(name, ".")
	if endsInNumber(labels[len(labels)-1]) {
		if addr, err := netip.ParseAddr(host); err != nil || !addr.Is4() {
			return Errorf(EINVALID, "That URL's host is a numeric host in an unusual notation; write an address as four decimal numbers, such as 192.0.2.1.")
		}
		return nil
	}
	for _, label := range labels {
		if !isDNSLabel(label) {
			return Errorf(EINVALID, "That URL's host is not a valid DNS name (letters, digits, hyphens and dots; international names in their xn-- form).")
		}
	}
	switch {
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		return Errorf(EINVALID, "That URL points at this machine (localhost), which TimmyBot does not fetch.")
	case len(labels) < 2:
		return Errorf(EINVALID, "That URL's host %q is not a public host name.", Truncate(name, 64))
	}
	return nil
}

// endsInNumber reports whether a host's last label is a number (decimal,
// octal or 0x hex), which URL parsers and resolvers read as an IPv4 address.
func endsInNumber(label string) bool {
	digits, base := label, "0123456789"
	if rest, ok := strings.CutPrefix(digits, "0x"); ok {
		digits, base = rest, "0123456789abcdef"
	} else if digits == "" {
		return false
	}
	return strings.Trim(digits, base) == ""
}

func isDNSLabel(label string) bool {
	if label == "" || len(label) > 63 {
		return false
	}
	for _, c := range []byte(label) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
