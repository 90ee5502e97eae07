package ytdlp

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/iddv/timmybot/app/music"
)

// Bounds of Related: a mix is read only this far (yt-dlp pages through
// it otherwise), a search asks for this many results.
const (
	relatedMixEntries     = 25
	relatedSearchResults  = 10
	youtubeVideoURLPrefix = "https://www.youtube.com/watch?v="
)

// videoID is what a YouTube video id looks like.
var videoID = regexp.MustCompile(`^[A-Za-z0-9_-]{11}$`)

// Related finds tracks to play after seed for autoplay, leaving out seed
// and those played reports. A YouTube video's tracks are its mix, the
// playlist YouTube builds of similar videos
// (watch?v=ID&list=RDID, read flat, its first 25 entries). Any other
// track (a file, a SoundCloud page) is searched for by its title, leaving
// out results that look like the same song again. Both run yt-dlp like
// Search: one process, in a slot, with the timeout.
//
// A mirrored Spotify or Deezer track has a YouTube video's URL, so it gets
// that video's mix: a search by its "artist - title" finds mostly other
// uploads of the same song.
func (r *Resolver) Related(ctx context.Context, seed music.Track, played func(music.Track) bool) ([]music.Track, error) {
	if played == nil {
		played = func(music.Track) bool { return false }
	}
	if id, ok := youtubeID(seed.URL); ok {
		return r.mix(ctx, id, played)
	}
	words := searchableTitle(seed.Title, r.cfg.MaxQueryLen)
	if words == "" {
		return nil, nil // nothing to search for
	}
	found, err := r.Search(ctx, words, relatedSearchResults)
	if err != nil {
		return nil, err
	}
	var related []music.Track
	for _, t := range found {
		if t.URL != seed.URL && !played(t) && !sameSong(seed.Title, t.Title) {
			related = append(related, t)
		}
	}
	return related, nil
}

// mix reads the mix of video id.
func (r *Resolver) mix(ctx context.Context, id string, played func(music.Track) bool) ([]music.Track, error) {
	input := youtubeVideoURLPrefix + id + "&list=RD" + id
	entries, err := r.flatList(ctx, input, relatedMixEntries, "--yes-playlist", "--playlist-end", strconv.Itoa(relatedMixEntries))
	if err != nil {
		return nil, err
	}
	var related []music.Track
	for _, t := range entries {
		if entryID, _ := youtubeID(t.URL); entryID != id && !played(t) {
			related = append(related, t)
		}
	}
	return related, nil
}

// youtubeID returns the video id of a YouTube video's URL: watch?v=ID,
// youtu.be/ID, /shorts/ID, /embed/ID, /live/ID, on www., m. and music.
func youtubeID(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, sub := range []string{"www.", "m.", "music."} {
		host = strings.TrimPrefix(host, sub)
	}
	var id string
	switch host {
	case "youtu.be":
		id = strings.TrimPrefix(u.Path, "/")
	case "youtube.com", "youtube-nocookie.com":
		if u.Path == "/watch" {
			id = u.Query().Get("v")
			break
		}
		for _, prefix := range []string{"/shorts/", "/embed/", "/live/"} {
			if rest, ok := strings.CutPrefix(u.Path, prefix); ok {
				id = rest
			}
		}
	}
	return id, videoID.MatchString(id)
}

// searchableTitle is a track's title as search words: control characters
// as spaces, cut to max runes; "" for a title that is only a URL, as
// untitled files have.
func searchableTitle(title string, max int) string {
	title = strings.TrimSpace(strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, title))
	if _, err := url.ParseRequestURI(title); err == nil && !strings.ContainsRune(title, ' ') {
		return ""
	}
	return strings.TrimSpace(string([]rune(title)[:min(len([]rune(title)), max)]))
}

// sameSong reports whether a result's title contains the seed's, letters
// and digits compared: "Never Gonna Give You Up (Official Video)" is the
// song "Never Gonna Give You Up" again.
func sameSong(seed, result string) bool {
	s, r := songWords(seed), songWords(result)
	return s != "" && strings.Contains(r, s)
}

func songWords(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	}), " ")
}
