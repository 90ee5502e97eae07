// Package lrclib finds a track's lyrics on LRCLIB, a public lyrics service,
// and parses its synced lyrics (LRC: "[mm:ss.xx] line").
//
// It owns the HTTP requests to LRCLIB: a fixed, configured base URL, never a
// user's URL, fetched through a plain http.Client with a timeout and a bound
// on the answer's size. It does not know about Discord or the player: what
// part of the lyrics to show is the caller's choice (Window helps).
package lrclib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Defaults of Config.
const (
	DefaultBaseURL = "https://lrclib.net"
	DefaultTimeout = 5 * time.Second
)

// maxBody bounds an answer: a search returns at most 20 tracks with lyrics.
const maxBody = 4 << 20

// ErrNotFound is the user's message when LRCLIB has no lyrics for a track.
var ErrNotFound = music.Errorf(music.ENOTFOUND, "No lyrics found for this track.")

// errUnavailable is the user's message when LRCLIB fails or cannot be reached.
var errUnavailable = music.Errorf(music.EUNAVAILABLE, "The lyrics service is not answering right now; try again in a minute.")

// Config configures a Client.
type Config struct {
	// BaseURL is LRCLIB's address. Default: DefaultBaseURL.
	BaseURL string
	// Timeout bounds one request. Default: DefaultTimeout.
	Timeout time.Duration
	// UserAgent names the bot to LRCLIB, as its documentation asks.
	// Default: "TimmyBot".
	UserAgent string
}

// Client asks LRCLIB for lyrics. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	agent string
	http  *http.Client
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "TimmyBot"
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("lyrics base URL %q: must be an http(s) URL", cfg.BaseURL)
	}
	return &Client{base: base, agent: cfg.UserAgent, http: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Query names the track whose lyrics are wanted.
type Query struct {
	Title    string // the queue's title, often "Artist - Track (Official Video)"
	Artist   string // "" when unknown: then taken from Title when it has " - "
	Duration time.Duration
}

// Line is one line of synced lyrics.
type Line struct {
	At   time.Duration
	Text string
}

// Lyrics are a track's lyrics as LRCLIB has them.
type Lyrics struct {
	Track, Artist string
	Duration      time.Duration
	Instrumental  bool
	Plain         string
	Synced        []Line // empty when LRCLIB has only plain lyrics
}

// record is LRCLIB's JSON for one track.
type record struct {
	TrackName    string  `json:"trackName"`
	ArtistName   string  `json:"artistName"`
	Duration     float64 `json:"duration"`
	Instrumental bool    `json:"instrumental"`
	PlainLyrics  string  `json:"plainLyrics"`
	SyncedLyrics string  `json:"syncedLyrics"`
}

func (r record) lyrics() Lyrics {
	return Lyrics{
		Track: r.TrackName, Artist: r.ArtistName, Duration: time.Duration(r.Duration * float64(time.Second)),
		Instrumental: r.Instrumental, Plain: strings.TrimSpace(r.PlainLyrics), Synced: ParseLRC(r.SyncedLyrics),
	}
}

func (r record) hasLyrics() bool {
	return r.Instrumental || strings.TrimSpace(r.PlainLyrics) != "" || strings.TrimSpace(r.SyncedLyrics) != ""
}

// Find looks the track up by artist, name and duration when the title names
// an artist, and otherwise, or when that finds nothing, searches for the
// title. It returns ErrNotFound when neither has lyrics.
func (c *Client) Find(ctx context.Context, q Query) (Lyrics, error) {
	artist, track := q.Artist, cleanTitle(q.Title)
	if a, t, ok := strings.Cut(track, " - "); ok && artist == "" {
		artist, track = strings.TrimSpace(a), strings.TrimSpace(t)
	}
	if track == "" {
		return Lyrics{}, ErrNotFound
	}
	if artist != "" {
		v := url.Values{"track_name": {track}, "artist_name": {artist}}
		if q.Duration > 0 {
			v.Set("duration", strconv.Itoa(int(q.Duration.Round(time.Second)/time.Second)))
		}
		var rec record
		found, err := c.get(ctx, "/api/get", v, &rec)
		if err != nil {
			return Lyrics{}, err
		}
		if found && rec.hasLyrics() {
			return rec.lyrics(), nil
		}
	}
	var recs []record
	if _, err := c.get(ctx, "/api/search", url.Values{"q": {strings.TrimSpace(artist + " " + track)}}, &recs); err != nil {
		return Lyrics{}, err
	}
	for _, rec := range recs {
		if rec.hasLyrics() {
			return rec.lyrics(), nil
		}
	}
	return Lyrics{}, ErrNotFound
}

// get fetches path with query v into out; found is false on a 404.
func (c *Client) get(ctx context.Context, path string, v url.Values, out any) (found bool, err error) {
	u := *c.base
	u.Path += path
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("lyrics request: %w", err)
	}
	req.Header.Set("User-Agent", c.agent)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, errors.Join(errUnavailable, fmt.Errorf("asking LRCLIB: %w", err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode != http.StatusOK:
		return false, errors.Join(errUnavailable, fmt.Errorf("LRCLIB %s: status %s", path, resp.Status))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return false, errors.Join(errUnavailable, fmt.Errorf("reading LRCLIB's %s answer: %w", path, err))
	}
	return true, nil
}

// noise are the parts of video titles that are not the track's name.
var noise = regexp.MustCompile(`(?i)\s*[(\[][^)\]]*(official|video|audio|lyrics?|visuali[sz]er|remaster(ed)?|hd|hq|4k)[^)\]]*[)\]]`)

// cleanTitle drops "(Official Video)" and the like from a title.
func cleanTitle(title string) string {
	return strings.TrimSpace(noise.ReplaceAllString(title, ""))
}

// stamp is one LRC time tag, "[01:02.34]" or "[01:02]" or "[01:02.345]".
var stamp = regexp.MustCompile(`^\[(\d{1,3}):(\d{2})(?:[.:](\d{1,3}))?\]`)

// ParseLRC reads synced lyrics: lines with one or more time tags, sorted by
// time. Lines without a tag (metadata such as "[ar:...]") are dropped.
func ParseLRC(s string) []Line {
	var lines []Line
	for _, raw := range strings.Split(s, "\n") {
		raw = strings.TrimSpace(raw)
		var times []time.Duration
		for {
			m := stamp.FindStringSubmatch(raw)
			if m == nil {
				break
			}
			times = append(times, tagTime(m[1], m[2], m[3]))
			raw = raw[len(m[0]):]
		}
		text := strings.TrimSpace(raw)
		for _, at := range times {
			lines = append(lines, Line{At: at, Text: text})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].At < lines[j].At })
	return lines
}

func tagTime(mins, secs, frac string) time.Duration {
	m, _ := strconv.Atoi(mins)
	s, _ := strconv.Atoi(secs)
	d := time.Duration(m)*time.Minute + time.Duration(s)*time.Second
	if frac != "" {
		f, _ := strconv.Atoi(frac)
		for i := len(frac); i < 3; i++ {
			f *= 10
		}
		d += time.Duration(f) * time.Millisecond
	}
	return d
}

// Window returns the synced lines around pos: up to before lines ahead of
// the current one, the current one, and up to after lines past it. current
// is the index in the result of the line being sung, -1 when pos is before
// the first line.
func Window(lines []Line, pos time.Duration, before, after int) (window []Line, current int) {
	cur := sort.Search(len(lines), func(i int) bool { return lines[i].At > pos }) - 1
	from := max(cur-before, 0)
	to := min(max(cur, 0)+after+1, len(lines))
	if cur < 0 {
		return lines[:to], -1
	}
	return lines[from:to], cur - from
}
