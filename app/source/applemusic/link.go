package applemusic

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/iddv/timmybot/app/music"
)

// Link is what an Apple Music link names, in the storefront (a country,
// "us") it was shared from.
type Link struct {
	Storefront string
	music.Link
}

var (
	storefrontPattern = regexp.MustCompile(`^[a-z]{2}$`)
	catalogID         = regexp.MustCompile(`^[0-9]{1,20}$`)
	playlistID        = regexp.MustCompile(`^pl\.[0-9A-Za-z-]{1,64}$`)
)

// IsLink reports whether raw is meant as an Apple Music link, valid or
// not, so that callers can answer with ParseLink's error instead of trying
// another source.
func IsLink(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && strings.EqualFold(u.Hostname(), "music.apple.com")
}

// ParseLink reads music.apple.com/{storefront}/song/[slug/]{id},
// /album/[slug/]{id} (one song of it with ?i={songId}) and
// /playlist/[slug/]pl.{id} links. Its errors are EINVALID with text for
// the user.
func ParseLink(raw string) (Link, error) {
	if !IsLink(raw) {
		return Link{}, music.Errorf(music.EINVALID, "That is not an Apple Music link.")
	}
	u, _ := url.Parse(raw)
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	invalid := music.Errorf(music.EINVALID, "That Apple Music link does not name a song, album or playlist.")
	if len(parts) < 3 || len(parts) > 4 || !storefrontPattern.MatchString(strings.ToLower(parts[0])) {
		return Link{}, invalid
	}
	link := Link{Storefront: strings.ToLower(parts[0])}
	id := parts[len(parts)-1]
	switch kind := parts[1]; kind {
	case "song":
		link.Kind = music.LinkTrack
	case "album":
		link.Kind = music.LinkAlbum
		if song := u.Query().Get("i"); song != "" {
			if !catalogID.MatchString(song) {
				return Link{}, invalid
			}
			link.Kind, id = music.LinkTrack, song
		}
	case "playlist":
		if !playlistID.MatchString(id) {
			return Link{}, invalid
		}
		link.Kind, link.ID = music.LinkPlaylist, id
		return link, nil
	case "artist", "music-video", "station", "curator", "radio":
		return Link{}, music.Errorf(music.EINVALID, "Apple Music %s links cannot be played; paste a song, album or playlist link.", kind)
	default:
		return Link{}, invalid
	}
	if !catalogID.MatchString(id) {
		return Link{}, invalid
	}
	link.ID = id
	return link, nil
}
