package music

import (
	"strings"
	"time"
)

// Recording is what a metadata-only source (Spotify, Deezer) says a song
// is. It is not playable: a mirror finds a Track for it elsewhere.
type Recording struct {
	Title    string
	Artists  []string
	Duration time.Duration // zero when the source does not say
	ISRC     string        // empty when the source does not say
	Source   string        // "spotify", "deezer"
}

// Name is how users see the recording: "Artist, Artist - Title".
func (r Recording) Name() string {
	if len(r.Artists) == 0 {
		return r.Title
	}
	return strings.Join(r.Artists, ", ") + " - " + r.Title
}
