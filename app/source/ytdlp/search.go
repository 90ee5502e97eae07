package ytdlp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/iddv/timmybot/app/music"
)

// Defaults of the search settings of Config.
const (
	DefaultSearchPrefix = "ytsearch"
	DefaultMaxQueryLen  = 200
	MaxSearchResults    = 25
)

// searchPrefix is what a yt-dlp search prefix looks like: "ytsearch",
// "scsearch".
var searchPrefix = regexp.MustCompile(`^[a-z0-9]+search$`)

// checkSearch validates the search settings of cfg, filling in defaults.
func checkSearch(cfg *Config) error {
	if cfg.SearchPrefix == "" {
		cfg.SearchPrefix = DefaultSearchPrefix
	}
	if cfg.MaxQueryLen <= 0 {
		cfg.MaxQueryLen = DefaultMaxQueryLen
	}
	if !searchPrefix.MatchString(cfg.SearchPrefix) {
		return fmt.Errorf("yt-dlp search prefix %q: want letters and digits ending in \"search\", such as ytsearch or scsearch", cfg.SearchPrefix)
	}
	return nil
}

// Search asks yt-dlp for the first n (1 to MaxSearchResults) results for
// words, as queue entries of their pages (Duration zero when unknown). The words go after "--" as one argument behind the configured
// prefix and count, so nothing in them can become an option or change the
// count: "ytsearch99999:x" searches for that text.
func (r *Resolver) Search(ctx context.Context, words string, n int) ([]music.Track, error) {
	words, err := r.checkQuery(words)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > MaxSearchResults {
		return nil, fmt.Errorf("search for %d results: want 1 to %d", n, MaxSearchResults)
	}
	tracks, err := r.flatList(ctx, r.cfg.SearchPrefix+strconv.Itoa(n)+":"+words, n)
	if err != nil {
		return nil, searchFailed(err, words)
	}
	return tracks, nil
}

// flatList runs yt-dlp on input (after "--"), listing a playlist or search
// results without resolving each entry, with extra arguments before
// "--"; it keeps the first n entries with an http(s) URL.
func (r *Resolver) flatList(ctx context.Context, input string, n int, extra ...string) ([]music.Track, error) {
	out, err := r.runCounted(ctx, func(cookies string) []string {
		return r.withCommon(append(flatListArgs(), extra...), cookies, input)
	})
	if err != nil {
		return nil, err
	}
	results, err := parseResults(out, n)
	if err != nil {
		r.failures.add(ReasonOther)
		return nil, &Failure{Reason: ReasonOther, Cause: err}
	}
	return results, nil
}

// flatListArgs are the fixed arguments of a run that lists a playlist or
// search results without resolving each entry.
func flatListArgs() []string {
	return []string{"--ignore-config", "--flat-playlist", "--dump-single-json", "--no-warnings", "--socket-timeout", "10"}
}

// checkQuery trims words and refuses empty, overlong or control-character
// queries before any process starts.
func (r *Resolver) checkQuery(words string) (string, error) {
	words = strings.TrimSpace(words)
	switch {
	case words == "":
		return "", music.Errorf(music.EINVALID, "Give some words to search for.")
	case !utf8.ValidString(words) || strings.ContainsFunc(words, unicode.IsControl):
		return "", music.Errorf(music.EINVALID, "Search words cannot contain control characters.")
	case utf8.RuneCountInString(words) > r.cfg.MaxQueryLen:
		return "", music.Errorf(music.EINVALID, "That search is too long (at most %d characters).", r.cfg.MaxQueryLen)
	}
	return words, nil
}

// playlist is the part of yt-dlp's flat playlist JSON that Search and
// Tracks read. Count is how many entries the list has, when yt-dlp says.
type playlist struct {
	Type    string `json:"_type"`
	Count   int    `json:"playlist_count"`
	Entries []struct {
		Title      string      `json:"title"`
		URL        string      `json:"url"`
		WebpageURL string      `json:"webpage_url"`
		Duration   float64     `json:"duration"`
		Thumbnail  string      `json:"thumbnail"`
		Thumbnails []thumbnail `json:"thumbnails"`
	} `json:"entries"`
}

// parseResults reads a flat playlist, keeping the entries with an http(s)
// URL, at most n.
func parseResults(b []byte, n int) ([]music.Track, error) {
	p, err := readPlaylist(b)
	if err != nil {
		return nil, err
	}
	results, _, _ := p.tracks(n, func(*url.URL) bool { return true })
	return results, nil
}

func readPlaylist(b []byte) (playlist, error) {
	var p playlist
	if err := json.Unmarshal(b, &p); err != nil {
		return playlist{}, fmt.Errorf("reading yt-dlp's JSON: %w", err)
	}
	if p.Type != "playlist" {
		return playlist{}, fmt.Errorf("yt-dlp returned a %q, not a list", p.Type)
	}
	return p, nil
}

// tracks makes queue entries of the first n entries whose page, an
// http(s) URL, keep accepts. The page drops any #fragment: yt-dlp's own
// data rides there (#__youtubedl_smuggle= on a feed's items), no part of
// the page. refused counts the entries left out for their URL; more says
// that an accepted entry was left out past n.
func (p playlist) tracks(n int, keep func(*url.URL) bool) (tracks []music.Track, refused int, more bool) {
	tracks = []music.Track{}
	for _, e := range p.Entries {
		page := e.WebpageURL
		if page == "" {
			page = e.URL
		}
		page, _, _ = strings.Cut(page, "#")
		u, err := music.ParseAudioURL(page)
		switch {
		case err != nil || !keep(u):
			refused++
			continue
		case len(tracks) == n:
			more = true
			continue
		}
		title := e.Title
		if title == "" {
			title = page
		}
		tracks = append(tracks, music.Track{
			Title: music.Truncate(title, music.MaxTitleLen), URL: page,
			Duration: time.Duration(max(e.Duration, 0) * float64(time.Second)), Source: Source,
			ArtworkURL: artwork(e.Thumbnail, e.Thumbnails),
		})
	}
	return tracks, refused, more
}
