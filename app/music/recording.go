package music

import (
	"fmt"
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
	Source   string        // "spotify", "deezer", "applemusic"
	// ArtworkURL is the cover image, already checked with Artwork; empty
	// when the source has none.
	ArtworkURL string
}

// Name is how users see the recording: "Artist, Artist - Title".
func (r Recording) Name() string {
	if len(r.Artists) == 0 {
		return r.Title
	}
	return strings.Join(r.Artists, ", ") + " - " + r.Title
}

// RecordingList is the recordings of an album or playlist, at most the
// maximum a caller asked for; Total is how many the source has, or
// TotalUnknown when it has more than the list holds but does not say how
// many.
type RecordingList struct {
	Recordings []Recording
	Total      int
	// Note, when not empty, tells the user how the source read the list
	// when that read was poorer than usual (a public page instead of the
	// API, with fewer tracks and no ISRCs).
	Note string
}

// TotalUnknown is the Total of a cut list whose source does not count.
const TotalUnknown = -1

// Truncated reports whether the list holds fewer recordings than its source.
func (l RecordingList) Truncated() bool {
	return l.Total == TotalUnknown || len(l.Recordings) < l.Total
}

// What a metadata source's link names.
const (
	LinkTrack    = "track"
	LinkAlbum    = "album"
	LinkPlaylist = "playlist"
)

// Link is a track, album or playlist of a metadata source, as a user
// pasted it.
type Link struct {
	Kind string // LinkTrack, LinkAlbum, LinkPlaylist
	ID   string
}

// DefaultMaxListTracks is how many tracks one album, playlist or set
// gives the queue unless the operator sets another bound.
const DefaultMaxListTracks = 50

// CutNote tells the user that a list gave only its first taken tracks,
// max being the bound; total is how many the list has, 0 or TotalUnknown
// when its source does not say.
func CutNote(taken, total, max int) string {
	if total > taken {
		return fmt.Sprintf("Only the first %d of its %d tracks were taken (the limit is %d).", taken, total, max)
	}
	return fmt.Sprintf("Only the first %d tracks were taken (the limit is %d).", taken, max)
}

// UnmatchedNote tells the user how many tracks of a list had no playable
// match; "" for none.
func UnmatchedNote(missing int) string {
	switch {
	case missing == 1:
		return "1 track had no playable match."
	case missing > 1:
		return fmt.Sprintf("%d tracks had no playable match.", missing)
	}
	return ""
}

// JoinNotes puts notes for the user one after the other, leaving out
// empty ones.
func JoinNotes(notes ...string) string {
	var kept []string
	for _, n := range notes {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, " ")
}
