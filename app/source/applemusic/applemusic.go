// Package applemusic reads the metadata of Apple Music songs, albums and
// playlists, and parses the links users paste.
//
// With a developer token (a JWT the operator signs with a MusicKit key) it
// reads the Apple Music API, which gives each song's ISRC. Without one it
// reads songs and albums through the public iTunes Lookup API, which gives
// no ISRC, and refuses playlists, which only the Apple Music API serves.
//
// It owns the paging of album and playlist tracks (Apple's "next" links,
// followed only on the API's own host) up to a caller's maximum, one wait
// on a 429's Retry-After when the context's deadline leaves room for it,
// and the translation of Apple's refusals into music.Error values a user
// can read; a token Apple refuses is also logged for the operator, never
// the token itself.
//
// It plays nothing: Apple serves its audio only to its own players, so
// callers hand the music.Recording values it returns to a mirror. It does
// not make or renew the developer token.
package applemusic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/internal/retry"
)

// Defaults of Config.
const (
	DefaultAPIURL    = "https://api.music.apple.com"
	DefaultLookupURL = "https://itunes.apple.com"
	DefaultTimeout   = 10 * time.Second
)

const (
	// maxBody bounds one response: a page of 100 songs is ~300 kB.
	maxBody = 4 << 20
	// lookupLimit is the most songs the Lookup API returns for one album.
	lookupLimit = 200
	// Source is the music.Recording Source of what this package reads.
	Source = "applemusic"
)

// Config configures a Client.
type Config struct {
	// Token is the developer token. Default: none; songs and albums are
	// then read through the Lookup API, and playlists refused.
	Token string
	// APIURL serves /v1/catalog/... Default: DefaultAPIURL.
	APIURL string
	// LookupURL serves /lookup. Default: DefaultLookupURL.
	LookupURL string
	// HTTPClient makes the requests. Default: a client with DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock that judges whether a wait fits a deadline.
	// Default: time.Now.
	Now func() time.Time
	// Logger hears of a refused token, for the operator. Default: discard.
	Logger *slog.Logger
}

// Client reads Apple Music metadata. It is safe for concurrent use.
type Client struct {
	cfg   Config
	http  *http.Client
	log   *slog.Logger
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client.
func New(cfg Config) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.LookupURL == "" {
		cfg.LookupURL = DefaultLookupURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.LookupURL = strings.TrimRight(cfg.LookupURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient, log: cfg.Logger, sleep: backoff.Sleep}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Track reads one song of storefront.
func (c *Client) Track(ctx context.Context, storefront, id string) (music.Recording, error) {
	if c.cfg.Token == "" {
		songs, err := c.lookup(ctx, "song", storefront, id)
		if err != nil {
			return music.Recording{}, err
		}
		if len(songs) == 0 {
			return music.Recording{}, notFound("song", storefront)
		}
		return songs[0], nil
	}
	var doc document
	if err := c.get(ctx, "song", storefront, "/v1/catalog/"+url.PathEscape(storefront)+"/songs/"+url.PathEscape(id), &doc); err != nil {
		return music.Recording{}, err
	}
	if len(doc.Data) == 0 || doc.Data[0].Type != "songs" {
		return music.Recording{}, notFound("song", storefront)
	}
	return doc.Data[0].Attributes.recording(), nil
}

// AlbumTracks reads up to max songs of an album of storefront.
func (c *Client) AlbumTracks(ctx context.Context, storefront, id string, max int) (music.RecordingList, error) {
	if c.cfg.Token == "" {
		songs, err := c.lookup(ctx, "album", storefront, id)
		if err != nil {
			return music.RecordingList{}, err
		}
		if len(songs) == 0 {
			return music.RecordingList{}, notFound("album", storefront)
		}
		return music.RecordingList{Recordings: songs[:min(len(songs), max)], Total: len(songs)}, nil
	}
	return c.catalogList(ctx, "album", storefront, "/v1/catalog/"+url.PathEscape(storefront)+"/albums/"+url.PathEscape(id), max)
}

// PlaylistTracks reads up to max songs of a playlist of storefront. It
// needs the developer token.
func (c *Client) PlaylistTracks(ctx context.Context, storefront, id string, max int) (music.RecordingList, error) {
	if c.cfg.Token == "" {
		return music.RecordingList{}, music.Errorf(music.EUNAVAILABLE, "Apple Music playlists need an Apple Music developer token, which this bot's owner has not configured; song and album links work without one.")
	}
	return c.catalogList(ctx, "playlist", storefront, "/v1/catalog/"+url.PathEscape(storefront)+"/playlists/"+url.PathEscape(id), max)
}

// catalogList reads an album or playlist and the pages of its tracks
// relationship until max songs or the last page. Music videos are skipped
// and not counted: they could never be mirrored.
func (c *Client) catalogList(ctx context.Context, kind, storefront, path string, max int) (music.RecordingList, error) {
	var doc document
	if err := c.get(ctx, kind, storefront, path, &doc); err != nil {
		return music.RecordingList{}, err
	}
	if len(doc.Data) == 0 {
		return music.RecordingList{}, notFound(kind, storefront)
	}
	trackCount := doc.Data[0].Attributes.TrackCount
	page := doc.Data[0].Relationships.Tracks
	var list music.RecordingList
	seen := 0
	for {
		for _, r := range page.Data {
			if r.Type != "songs" {
				continue
			}
			seen++
			if len(list.Recordings) < max {
				list.Recordings = append(list.Recordings, r.Attributes.recording())
			}
		}
		if page.Next == "" {
			list.Total = seen
			return list, nil
		}
		if len(list.Recordings) >= max {
			// Only an album says how many tracks it has.
			list.Total = music.TotalUnknown
			if trackCount > seen {
				list.Total = trackCount
			}
			return list, nil
		}
		next, err := c.nextPath(page.Next)
		if err != nil {
			return music.RecordingList{}, err
		}
		page = relationship{}
		if err := c.get(ctx, kind, storefront, next, &page); err != nil {
			return music.RecordingList{}, err
		}
	}
}

// nextPath checks that a "next" link stays on the API, where the token
// may go, and returns its path and query.
func (c *Client) nextPath(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/v1/catalog/") {
		return "", fmt.Errorf("apple music answered a next page %q off its catalog: %w", music.Truncate(next, 200),
			music.Errorf(music.EUNAVAILABLE, "Apple Music answered strangely; try again later."))
	}
	return u.RequestURI(), nil
}

// document is the Apple Music API's answer for a resource.
type document struct {
	Data []resource `json:"data"`
}

type resource struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	Attributes    attributes `json:"attributes"`
	Relationships struct {
		Tracks relationship `json:"tracks"`
	} `json:"relationships"`
}

type relationship struct {
	Data []resource `json:"data"`
	Next string     `json:"next"`
}

type attributes struct {
	Name             string `json:"name"`
	ArtistName       string `json:"artistName"`
	DurationInMillis int64  `json:"durationInMillis"`
	ISRC             string `json:"isrc"`
	TrackCount       int    `json:"trackCount"`
	Artwork          struct {
		URL string `json:"url"`
	} `json:"artwork"`
}

func (a attributes) recording() music.Recording {
	return newRecording(a.Name, a.ArtistName, a.DurationInMillis, a.ISRC, sizeArtwork(a.Artwork.URL))
}

// artworkSize fills an artwork template's {w}x{h}: wide enough for an
// embed, far smaller than the 3000-pixel originals.
var artworkSize = strings.NewReplacer("{w}", "600", "{h}", "600", "{c}", "bb", "{f}", "jpg")

// sizeArtwork turns an artwork URL template into a URL, or "" when it has
// placeholders this does not know.
func sizeArtwork(template string) string {
	u := artworkSize.Replace(template)
	if strings.ContainsAny(u, "{}") {
		return ""
	}
	return music.Artwork(u)
}

func newRecording(title, artist string, ms int64, isrc, artwork string) music.Recording {
	r := music.Recording{Title: title, Duration: time.Duration(ms) * time.Millisecond, ISRC: strings.ToUpper(isrc), Source: Source, ArtworkURL: artwork}
	if artist != "" {
		r.Artists = []string{artist}
	}
	return r
}

// lookup reads a song, or an album's songs sold in storefront, through the
// Lookup API.
func (c *Client) lookup(ctx context.Context, kind, storefront, id string) ([]music.Recording, error) {
	q := url.Values{"id": {id}, "entity": {"song"}, "country": {storefront}, "limit": {strconv.Itoa(lookupLimit)}}
	var out struct {
		Results []struct {
			WrapperType     string `json:"wrapperType"`
			Kind            string `json:"kind"`
			TrackName       string `json:"trackName"`
			ArtistName      string `json:"artistName"`
			TrackTimeMillis int64  `json:"trackTimeMillis"`
			ArtworkURL100   string `json:"artworkUrl100"`
		} `json:"results"`
	}
	if err := c.do(ctx, kind, storefront, c.cfg.LookupURL+"/lookup?"+q.Encode(), "", &out); err != nil {
		return nil, err
	}
	// A song's ID answers the song first, an album's the album (a
	// "collection") and then its tracks: an ID of the other kind is not
	// what the link said.
	first := "track"
	if kind == "album" {
		first = "collection"
	}
	if len(out.Results) == 0 || out.Results[0].WrapperType != first {
		return nil, nil
	}
	var songs []music.Recording
	for _, r := range out.Results {
		// Music videos are tracks of another kind.
		if r.WrapperType == "track" && (r.Kind == "" || r.Kind == "song") {
			songs = append(songs, newRecording(r.TrackName, r.ArtistName, r.TrackTimeMillis, "", music.Artwork(r.ArtworkURL100)))
		}
	}
	return songs, nil
}

// get reads one API resource into out with the developer token.
func (c *Client) get(ctx context.Context, kind, storefront, path string, out any) error {
	return c.do(ctx, kind, storefront, c.cfg.APIURL+path, c.cfg.Token, out)
}

// do GETs u (with the token, when not "") into out, waiting out one 429.
// kind and storefront name what was asked for in messages.
func (c *Client) do(ctx context.Context, kind, storefront, u, token string, out any) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("building an apple music request: %w", err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("reading an apple music %s: %w: %w", kind, music.Errorf(music.EUNAVAILABLE, "Apple Music cannot be reached right now; try again later."), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading an apple music %s: %w", kind, err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("decoding an apple music %s: %w", kind, err)
			}
			return nil
		case resp.StatusCode == http.StatusTooManyRequests && attempt == 0:
			wait := retry.After(resp.Header)
			if deadline, ok := ctx.Deadline(); ok && c.cfg.Now().Add(wait).After(deadline) {
				return refusal(kind, storefront, token != "", resp.StatusCode, wait)
			}
			if err := c.sleep(ctx, wait); err != nil {
				return fmt.Errorf("waiting for apple music's rate limit: %w", err)
			}
			continue
		case token != "" && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
			c.log.Error("Apple Music refused the developer token (TIMMYBOT_APPLE_MUSIC_TOKEN): it is invalid, expired or revoked; make a new one as README.md explains",
				slog.Int("status", resp.StatusCode), slog.String("detail", errorTitle(body)))
		}
		return refusal(kind, storefront, token != "", resp.StatusCode, retry.After(resp.Header))
	}
}

// errorTitle is the title of the first error in an Apple Music error
// body, for the log.
func errorTitle(body []byte) string {
	var e struct {
		Errors []struct {
			Title string `json:"title"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return music.Truncate(e.Errors[0].Title, 200)
}

func notFound(kind, storefront string) error {
	return music.Errorf(music.ENOTFOUND, "Apple Music has no such %s in its %s storefront (it may be removed, or not sold there).", kind, strings.ToUpper(storefront))
}

// refusal is what the user is told for a response that is not 200.
func refusal(kind, storefront string, withToken bool, status int, wait time.Duration) error {
	switch status {
	case http.StatusNotFound:
		return notFound(kind, storefront)
	case http.StatusUnauthorized, http.StatusForbidden:
		if !withToken {
			return music.Errorf(music.EUNAVAILABLE, "Apple's public lookup refused the bot's request; try again later.")
		}
		return music.Errorf(music.EUNAVAILABLE, "Apple Music refused the bot's developer token; the bot owner needs to make a new one.")
	case http.StatusTooManyRequests:
		return music.Errorf(music.EUNAVAILABLE, "Apple Music is limiting the bot's requests; try again in %d seconds.", int(wait.Round(time.Second)/time.Second))
	}
	return music.Errorf(music.EUNAVAILABLE, "Apple Music answered with an error (HTTP %d); try again later.", status)
}
