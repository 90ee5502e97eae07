package spotify

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/iddv/timmybot/app/music"
)

// idPattern is Spotify's base-62 ID; playlists' are 22 characters too, but
// older user playlists may be shorter, so only the alphabet is checked.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)

// IsLink reports whether raw is meant as a Spotify link or URI, valid or
// not, so that callers can answer with ParseLink's error instead of trying
// another source.
func IsLink(raw string) bool {
	if strings.HasPrefix(raw, "spotify:") {
		return true
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && strings.EqualFold(u.Hostname(), "open.spotify.com")
}

// ParseLink reads open.spotify.com/{track,album,playlist}/{id} links (with
// an intl-xx/ prefix and any query string) and spotify:{kind}:{id} URIs.
// Its errors are EINVALID with text for the user.
func ParseLink(raw string) (music.Link, error) {
	var parts []string
	if rest, ok := strings.CutPrefix(raw, "spotify:"); ok {
		parts = strings.Split(rest, ":")
	} else {
		u, err := url.Parse(raw)
		if err != nil || !IsLink(raw) {
			return music.Link{}, music.Errorf(music.EINVALID, "That is not a Spotify link.")
		}
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) > 0 && strings.HasPrefix(parts[0], "intl-") {
			parts = parts[1:]
		}
	}
	if len(parts) != 2 || !idPattern.MatchString(parts[1]) {
		return music.Link{}, music.Errorf(music.EINVALID, "That Spotify link does not name a track, album or playlist.")
	}
	switch kind := parts[0]; kind {
	case music.LinkTrack, music.LinkAlbum, music.LinkPlaylist:
		return music.Link{Kind: kind, ID: parts[1]}, nil
	case "artist", "show", "episode", "user":
		return music.Link{}, music.Errorf(music.EINVALID, "Spotify %s links cannot be played; paste a track, album or playlist link.", kind)
	}
	return music.Link{}, music.Errorf(music.EINVALID, "That Spotify link does not name a track, album or playlist.")
}
