package music

import (
	"net/url"
	"time"
	"unicode/utf8"
)

// Limits that keep one queue entry well inside a DynamoDB item and a Discord
// embed field.
const (
	MaxTitleLen = 256  // runes
	MaxURLLen   = 2048 // bytes
	MaxQueueLen = 10000
)

// Track is something playable. URL is where the audio (or the page a source
// resolves to audio) lives; Title is what users see.
type Track struct {
	Title       string
	URL         string
	Duration    time.Duration // zero when unknown (live streams, unprobed URLs)
	Source      string        // "http", "youtube", "soundcloud", "spotify" ...
	RequestedBy UserID
}

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
	}
	return nil
}

// ParseAudioURL accepts an absolute http(s) URL with a host and returns it
// normalised; anything else is an EINVALID error that says what is wrong.
func ParseAudioURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, Errorf(EINVALID, "That URL is too long (at most %d characters).", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, Errorf(EINVALID, "%q is not an http(s) URL.", Truncate(raw, 100))
	}
	return u, nil
}
