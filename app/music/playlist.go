package music

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of saved playlists.
const (
	MaxPlaylistNameLen = 50  // runes
	MaxPlaylists       = 25  // per user
	MaxPlaylistTracks  = 500 // per playlist
)

// SavedPlaylist is a list of tracks a user saved under a name, whatever
// service the tracks come from. The bot keeps it; no service account is
// involved.
type SavedPlaylist struct {
	User   UserID
	Name   string
	Tracks []Track
	// SavedAt is when the playlist was saved, stamped by the store.
	SavedAt time.Time
}

// PlaylistSummary describes a saved playlist without its tracks.
type PlaylistSummary struct {
	Name    string
	Tracks  int
	SavedAt time.Time
}

// PlaylistName checks a playlist name as a user typed it and returns it
// with surrounding spaces removed. Names are compared exactly after that.
func PlaylistName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	switch {
	case !utf8.ValidString(name):
		return "", Errorf(EINVALID, "A playlist name must be valid text.")
	case name == "":
		return "", Errorf(EINVALID, "A playlist needs a name.")
	case utf8.RuneCountInString(name) > MaxPlaylistNameLen:
		return "", Errorf(EINVALID, "A playlist name can be at most %d characters.", MaxPlaylistNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", Errorf(EINVALID, "A playlist name cannot contain control characters.")
	}
	return name, nil
}

// Validate checks a playlist before it is stored.
func (p SavedPlaylist) Validate() error {
	if err := p.User.Validate(); err != nil {
		return err
	}
	if name, err := PlaylistName(p.Name); err != nil {
		return err
	} else if name != p.Name {
		return Errorf(EINVALID, "A playlist name cannot start or end with spaces.")
	}
	switch {
	case len(p.Tracks) == 0:
		return Errorf(EINVALID, "A playlist needs at least one track.")
	case len(p.Tracks) > MaxPlaylistTracks:
		return Errorf(EINVALID, "A playlist can hold at most %d tracks; this one has %d.", MaxPlaylistTracks, len(p.Tracks))
	}
	for _, t := range p.Tracks {
		if err := t.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// PlaylistNotFound is the error for a name the user has no playlist under.
// The playlist errors live here so that every store says the same.
func PlaylistNotFound(name string) error {
	return Errorf(ENOTFOUND, "You have no playlist named %q.", name)
}

// PlaylistExists is the error for saving over a playlist without overwrite.
func PlaylistExists(name string) error {
	return Errorf(ECONFLICT, "You already have a playlist named %q: save with `overwrite:true` to replace it.", name)
}

// TooManyPlaylists is the error for saving a new playlist beyond MaxPlaylists.
func TooManyPlaylists() error {
	return Errorf(EINVALID, "You can keep at most %d playlists: delete one first.", MaxPlaylists)
}

// PlaylistStore keeps each user's saved playlists.
//
// Errors: EINVALID for bad IDs, names, tracks or bounds (TooManyPlaylists),
// ENOTFOUND for a name the user has no playlist under (PlaylistNotFound),
// ECONFLICT for a name taken when overwrite is false (PlaylistExists) or
// for a change that lost to concurrent ones too often, EUNAVAILABLE when the
// backend cannot be reached.
type PlaylistStore interface {
	// SavePlaylist stores p under its name, replacing a playlist of that
	// name only when overwrite is true.
	SavePlaylist(ctx context.Context, p SavedPlaylist, overwrite bool) error
	// Playlist returns the user's playlist called name.
	Playlist(ctx context.Context, user UserID, name string) (SavedPlaylist, error)
	// Playlists lists the user's playlists ordered by name (byte order).
	Playlists(ctx context.Context, user UserID) ([]PlaylistSummary, error)
	// DeletePlaylist removes the user's playlist called name.
	DeletePlaylist(ctx context.Context, user UserID, name string) error
	// DeletePlaylists removes every playlist of the user and returns how
	// many there were.
	DeletePlaylists(ctx context.Context, user UserID) (deleted int, err error)
}
