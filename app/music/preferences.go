package music

import (
	"context"
	"time"
)

// Bounds of a user's preferences.
const (
	MaxVolume        = 200 // percent
	maxSourceNameLen = 32
)

// Preferences are one user's settings. The zero value of a field means "use
// the default", so a user who never saved anything has zero Preferences.
type Preferences struct {
	User UserID
	// Volume in percent, 1..MaxVolume; 0 means the default (100).
	Volume int
	// Source is the source searched for plain-text queries ("youtube",
	// "soundcloud", ...); "" means the default.
	Source string
	// Quiet turns off the now-playing message for playback the user
	// starts; false (the default) posts it.
	Quiet bool
	// UpdatedAt is when the preferences were saved, stamped by the store.
	UpdatedAt time.Time
}

// Validate checks preferences before they are stored.
func (p Preferences) Validate() error {
	if err := p.User.Validate(); err != nil {
		return err
	}
	if p.Volume < 0 || p.Volume > MaxVolume {
		return Errorf(EINVALID, "The volume must be between 1 and %d.", MaxVolume)
	}
	if len(p.Source) > maxSourceNameLen {
		return Errorf(EINVALID, "That source name is too long.")
	}
	return nil
}

// PreferenceStore keeps each user's preferences.
//
// Errors: EINVALID for bad IDs or values, EUNAVAILABLE when the backend
// cannot be reached.
type PreferenceStore interface {
	// Preferences returns the user's saved preferences, or zero Preferences
	// (with User set) when the user saved none.
	Preferences(ctx context.Context, user UserID) (Preferences, error)
	// SetPreferences replaces the user's preferences.
	SetPreferences(ctx context.Context, p Preferences) error
	// DeletePreferences deletes the user's preferences and reports whether
	// there were any.
	DeletePreferences(ctx context.Context, user UserID) (existed bool, err error)
}
