// Package spotify reads the metadata of Spotify tracks, albums and
// playlists through the Web API with the app's client credentials, or,
// when the app has none or the API refuses, from the public embed page
// that Spotify serves for players on other sites; and it parses the links
// and URIs users paste.
//
// It owns the app token (requested from the accounts service with Basic
// auth and reused until shortly before it expires), the paging of album and
// playlist tracks up to a caller's maximum, one wait on a 429's Retry-After
// when the context's deadline leaves room for it, and the translation of
// Spotify's refusals into music.Error values a user can read: among them
// the 403 that development-mode apps get for playlists their owner neither
// owns nor collaborates on. Those refusals, and a playlist's 404 (how the
// API hides Spotify's own playlists from new apps), are answered from the
// embed page of /embed/{kind}/{id}: its Next.js data lists at most
// EmbedCap tracks with title, artists and duration but no ISRC, so such
// lists carry EmbedNote for the user. A private playlist has no embed page.
//
// It plays nothing: Spotify serves no audio to third parties, so callers
// hand the music.Recording values it returns to a mirror. It does not do
// user sign-in (OAuth for a user's own library lives with account linking).
package spotify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/internal/retry"
)

// Defaults of Config.
const (
	DefaultAccountsURL = "https://accounts.spotify.com"
	DefaultAPIURL      = "https://api.spotify.com"
	DefaultTimeout     = 10 * time.Second
)

const (
	// pageSize is the largest limit albums/{id}/tracks and
	// playlists/{id}/items accept.
	pageSize = 50
	// maxBody bounds one response: a page of 50 full tracks is ~200 kB.
	maxBody = 4 << 20
	// tokenMargin renews a token this long before Spotify says it expires,
	// so a request never leaves with a token about to lapse.
	tokenMargin = time.Minute
)

// Config configures a Client.
type Config struct {
	// ClientID and ClientSecret are the app's credentials, both or neither.
	// Default: none; everything is then read from the embed pages.
	ClientID, ClientSecret string
	// AccountsURL serves /api/token. Default: DefaultAccountsURL.
	AccountsURL string
	// APIURL serves /v1/... Default: DefaultAPIURL.
	APIURL string
	// EmbedURL serves /embed/{kind}/{id}. Default: DefaultEmbedURL.
	EmbedURL string
	// HTTPClient makes the requests; the bot passes one that cannot reach
	// internal addresses. Default: a client with DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock for token expiry. Default: time.Now.
	Now func() time.Time
}

// Client reads Spotify metadata. It is safe for concurrent use.
type Client struct {
	cfg   Config
	http  *http.Client
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if (cfg.ClientID == "") != (cfg.ClientSecret == "") {
		return nil, errors.New("spotify: set both a client ID and a secret, or neither")
	}
	if cfg.AccountsURL == "" {
		cfg.AccountsURL = DefaultAccountsURL
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.EmbedURL == "" {
		cfg.EmbedURL = DefaultEmbedURL
	}
	cfg.AccountsURL = strings.TrimRight(cfg.AccountsURL, "/")
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.EmbedURL = strings.TrimRight(cfg.EmbedURL, "/")
	c := &Client{cfg: cfg, http: cfg.HTTPClient, now: cfg.Now, sleep: backoff.Sleep}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Track reads one track.
func (c *Client) Track(ctx context.Context, id string) (music.Recording, error) {
	list, err := c.read(ctx, music.LinkTrack, id, 1, func() (music.RecordingList, error) {
		var t TrackObject
		if err := c.get(ctx, "track", "/v1/tracks/"+url.PathEscape(id), nil, &t); err != nil {
			return music.RecordingList{}, err
		}
		return music.RecordingList{Recordings: []music.Recording{t.Recording()}, Total: 1}, nil
	})
	if err != nil {
		return music.Recording{}, err
	}
	return list.Recordings[0], nil
}

// AlbumTracks reads up to max tracks of an album. Album tracks are
// Spotify's simplified objects: they carry no ISRC.
func (c *Client) AlbumTracks(ctx context.Context, id string, max int) (music.RecordingList, error) {
	return c.read(ctx, music.LinkAlbum, id, max, func() (music.RecordingList, error) {
		return c.pages(ctx, "album", "/v1/albums/"+url.PathEscape(id)+"/tracks", max, func(raw json.RawMessage) (*TrackObject, error) {
			var t TrackObject
			err := json.Unmarshal(raw, &t)
			return &t, err
		})
	})
}

// PlaylistTracks reads up to max tracks of a playlist, skipping episodes
// and items Spotify no longer has.
func (c *Client) PlaylistTracks(ctx context.Context, id string, max int) (music.RecordingList, error) {
	return c.read(ctx, music.LinkPlaylist, id, max, func() (music.RecordingList, error) {
		return c.pages(ctx, "playlist", "/v1/playlists/"+url.PathEscape(id)+"/items", max, func(raw json.RawMessage) (*TrackObject, error) {
			var it PlaylistItem
			if err := json.Unmarshal(raw, &it); err != nil {
				return nil, err
			}
			return it.Playable(), nil
		})
	})
}

// read asks the API through api, or the embed page of kind/id when the
// app has no credentials or the API refuses as fallsBack says.
func (c *Client) read(ctx context.Context, kind, id string, max int, api func() (music.RecordingList, error)) (music.RecordingList, error) {
	if c.cfg.ClientID == "" {
		return c.embed(ctx, kind, id, max)
	}
	list, err := api()
	if !fallsBack(kind, err) {
		return list, err
	}
	list, embedErr := c.embed(ctx, kind, id, max)
	if embedErr != nil {
		return music.RecordingList{}, fmt.Errorf("reading the embed page after the API refused (%v): %w", err, embedErr)
	}
	return list, nil
}

// pages reads the pages of path until max tracks, the last page, or an
// error. Each item is decoded by item, which returns nil to skip it.
func (c *Client) pages(ctx context.Context, kind, path string, max int, item func(json.RawMessage) (*TrackObject, error)) (music.RecordingList, error) {
	var list music.RecordingList
	skipped := 0
	for offset := 0; len(list.Recordings) < max; offset += pageSize {
		var page struct {
			Items []json.RawMessage `json:"items"`
			Total int               `json:"total"`
			Next  *string           `json:"next"`
		}
		q := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}
		if err := c.get(ctx, kind, path, q, &page); err != nil {
			return music.RecordingList{}, err
		}
		list.Total = page.Total
		for _, raw := range page.Items {
			t, err := item(raw)
			if err != nil {
				return music.RecordingList{}, fmt.Errorf("decoding a spotify %s item: %w", kind, err)
			}
			if t == nil {
				skipped++
				continue
			}
			if len(list.Recordings) < max {
				list.Recordings = append(list.Recordings, t.Recording())
			}
		}
		if page.Next == nil || len(page.Items) == 0 {
			break
		}
	}
	// Skipped items do not count in Total: they could never be played.
	list.Total -= skipped
	return list, nil
}

// PlaylistItem is an item of a playlist's items as the Web API sends it:
// the track under "item" since 2026, under "track" before.
type PlaylistItem struct{ Item, Track *TrackObject }

// Playable returns the item's track, nil for an episode or a track Spotify
// no longer has.
func (it PlaylistItem) Playable() *TrackObject {
	t := it.Item
	if t == nil {
		t = it.Track
	}
	if t == nil || (t.Type != "" && t.Type != "track") {
		return nil
	}
	return t
}

// TrackObject is the Web API's track object, as far as TimmyBot reads it.
type TrackObject struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	DurationMS int64  `json:"duration_ms"`
	Artists    []struct {
		Name string `json:"name"`
	} `json:"artists"`
	ExternalIDs struct {
		ISRC string `json:"isrc"`
	} `json:"external_ids"`
	// Album is absent from an album's own (simplified) track objects.
	Album struct {
		Images []Image `json:"images"`
	} `json:"album"`
}

// Image is an image object of the Web API; lists of them come widest first.
type Image struct {
	URL string `json:"url"`
}

// Artwork is the first image of images that can be shown, or "".
func Artwork(images []Image) string {
	for _, im := range images {
		if u := music.Artwork(im.URL); u != "" {
			return u
		}
	}
	return ""
}

// Recording is what the track says of its recording.
func (t TrackObject) Recording() music.Recording {
	r := music.Recording{
		Title:    t.Name,
		Duration: time.Duration(t.DurationMS) * time.Millisecond,
		ISRC:     strings.ToUpper(t.ExternalIDs.ISRC),
		Source:   "spotify",
		// The widest image: Discord scales a thumbnail down itself.
		ArtworkURL: Artwork(t.Album.Images),
	}
	for _, a := range t.Artists {
		r.Artists = append(r.Artists, a.Name)
	}
	return r
}

// get reads one API resource into out. kind names it in messages.
func (c *Client) get(ctx context.Context, kind, path string, query url.Values, out any) error {
	u := c.cfg.APIURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("building a spotify request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("reading a spotify %s: %w: %w", kind, music.Errorf(music.EUNAVAILABLE, "Spotify cannot be reached right now; try again later."), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading a spotify %s: %w", kind, err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("decoding a spotify %s: %w", kind, err)
			}
			return nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			c.forgetToken(token)
			continue
		case resp.StatusCode == http.StatusTooManyRequests && attempt == 0:
			wait := retry.After(resp.Header)
			if deadline, ok := ctx.Deadline(); ok && c.now().Add(wait).After(deadline) {
				return refusal(kind, resp.StatusCode, wait)
			}
			if err := c.sleep(ctx, wait); err != nil {
				return fmt.Errorf("waiting for spotify's rate limit: %w", err)
			}
			continue
		}
		return refusal(kind, resp.StatusCode, retry.After(resp.Header))
	}
}

// refusal is what the user is told for a response that is not 200.
func refusal(kind string, status int, wait time.Duration) error {
	switch {
	case status == http.StatusNotFound || status == http.StatusBadRequest:
		return music.Errorf(music.ENOTFOUND, "Spotify has no such %s (it may be private, removed or not available here).", kind)
	case status == http.StatusForbidden && kind == "playlist":
		return music.Errorf(music.EFORBIDDEN, "Spotify does not let this bot read that playlist: apps in development mode can read only playlists their owner owns or collaborates on. Try an album or track link, or a playlist of the bot owner's.")
	case status == http.StatusForbidden:
		return music.Errorf(music.EFORBIDDEN, "Spotify does not let this bot read that %s.", kind)
	case status == http.StatusTooManyRequests:
		return music.Errorf(music.EUNAVAILABLE, "Spotify is limiting the bot's requests; try again in %d seconds.", int(wait.Round(time.Second)/time.Second))
	case status == http.StatusUnauthorized:
		return music.Errorf(music.EUNAVAILABLE, "Spotify refused the bot's credentials; the bot owner needs to check its Spotify app.")
	}
	return music.Errorf(music.EUNAVAILABLE, "Spotify answered with an error (HTTP %d); try again later.", status)
}
