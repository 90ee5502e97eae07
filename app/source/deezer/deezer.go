// Package deezer reads the metadata of Deezer tracks, albums and playlists
// through Deezer's public API, which needs no credentials and gives each
// track's ISRC, and parses the links users paste.
//
// It owns the paging of album and playlist tracks up to a caller's maximum
// and the translation of Deezer's errors (which arrive with HTTP 200 and an
// "error" object) into music.Error values a user can read.
//
// It plays nothing: Deezer's full audio is for its own apps, so callers
// hand the music.Recording values it returns to a mirror. Short links
// (link.deezer.com) need a redirect followed and are not read here.
package deezer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Defaults of Config.
const (
	DefaultAPIURL  = "https://api.deezer.com"
	DefaultTimeout = 10 * time.Second
)

const (
	pageSize = 100
	maxBody  = 4 << 20
)

// Deezer's error codes that are not the user's doing.
const (
	errQuota    = 4   // "Quota limit exceeded"
	errNotFound = 800 // "no data"
)

// Config configures a Client.
type Config struct {
	// APIURL serves /track/{id} and the rest. Default: DefaultAPIURL.
	APIURL string
	// HTTPClient makes the requests. Default: a client with DefaultTimeout.
	HTTPClient *http.Client
}

// Client reads Deezer metadata. It is safe for concurrent use.
type Client struct {
	api  string
	http *http.Client
}

// New returns a client.
func New(cfg Config) *Client {
	c := &Client{api: strings.TrimRight(cfg.APIURL, "/"), http: cfg.HTTPClient}
	if c.api == "" {
		c.api = DefaultAPIURL
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	return c
}

var linkPath = regexp.MustCompile(`^/(?:[a-z]{2}(?:-[a-z]{2})?/)?(track|album|playlist|artist)/([0-9]{1,20})/?$`)

// IsLink reports whether raw is meant as a Deezer link, valid or not.
func IsLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return host == "deezer.com" || host == "www.deezer.com"
}

// ParseLink reads www.deezer.com/[lang/]{track,album,playlist}/{id} links
// with any query string. Its errors are EINVALID with text for the user.
func ParseLink(raw string) (music.Link, error) {
	if !IsLink(raw) {
		return music.Link{}, music.Errorf(music.EINVALID, "That is not a Deezer link.")
	}
	u, _ := url.Parse(raw)
	m := linkPath.FindStringSubmatch(u.Path)
	switch {
	case m == nil:
		return music.Link{}, music.Errorf(music.EINVALID, "That Deezer link does not name a track, album or playlist.")
	case m[1] == "artist":
		return music.Link{}, music.Errorf(music.EINVALID, "Deezer artist links cannot be played; paste a track, album or playlist link.")
	}
	return music.Link{Kind: m[1], ID: m[2]}, nil
}

// Track reads one track.
func (c *Client) Track(ctx context.Context, id string) (music.Recording, error) {
	var t trackObject
	if err := c.get(ctx, "track", "/track/"+url.PathEscape(id), nil, &t); err != nil {
		return music.Recording{}, err
	}
	return t.recording(), nil
}

// AlbumTracks reads up to max tracks of an album.
func (c *Client) AlbumTracks(ctx context.Context, id string, max int) (music.RecordingList, error) {
	return c.pages(ctx, "album", "/album/"+url.PathEscape(id)+"/tracks", max)
}

// PlaylistTracks reads up to max tracks of a playlist, skipping those
// Deezer marks unreadable.
func (c *Client) PlaylistTracks(ctx context.Context, id string, max int) (music.RecordingList, error) {
	return c.pages(ctx, "playlist", "/playlist/"+url.PathEscape(id)+"/tracks", max)
}

func (c *Client) pages(ctx context.Context, kind, path string, max int) (music.RecordingList, error) {
	var list music.RecordingList
	skipped := 0
	for index := 0; len(list.Recordings) < max; index += pageSize {
		var page struct {
			Data  []trackObject `json:"data"`
			Total int           `json:"total"`
			Next  string        `json:"next"`
		}
		q := url.Values{"index": {strconv.Itoa(index)}, "limit": {strconv.Itoa(pageSize)}}
		if err := c.get(ctx, kind, path, q, &page); err != nil {
			return music.RecordingList{}, err
		}
		list.Total = page.Total
		for _, t := range page.Data {
			if t.Readable != nil && !*t.Readable {
				skipped++
				continue
			}
			if len(list.Recordings) < max {
				list.Recordings = append(list.Recordings, t.recording())
			}
		}
		if page.Next == "" || len(page.Data) == 0 {
			break
		}
	}
	// Skipped items do not count in Total: they could never be played.
	list.Total -= skipped
	return list, nil
}

type trackObject struct {
	Title    string `json:"title"`
	Duration int64  `json:"duration"` // seconds
	ISRC     string `json:"isrc"`
	Readable *bool  `json:"readable"`
	Artist   struct {
		Name string `json:"name"`
	} `json:"artist"`
	Contributors []struct {
		Name string `json:"name"`
	} `json:"contributors"`
	MD5Image string `json:"md5_image"`
	Album    struct {
		CoverXL  string `json:"cover_xl"`
		CoverBig string `json:"cover_big"`
	} `json:"album"`
}

// md5Image is the form of a Deezer image hash; only this goes into a URL.
var md5Image = regexp.MustCompile(`^[0-9a-f]{32}$`)

// artwork is the album's cover, else the image Deezer's CDN serves for the
// track's image hash (album tracks carry only the hash), else "".
func (t trackObject) artwork() string {
	for _, u := range []string{t.Album.CoverXL, t.Album.CoverBig} {
		if u = music.Artwork(u); u != "" {
			return u
		}
	}
	if md5Image.MatchString(t.MD5Image) {
		return "https://cdn-images.dzcdn.net/images/cover/" + t.MD5Image + "/1000x1000-000000-80-0-0.jpg"
	}
	return ""
}

func (t trackObject) recording() music.Recording {
	r := music.Recording{Title: t.Title, Duration: time.Duration(t.Duration) * time.Second, ISRC: strings.ToUpper(t.ISRC), Source: "deezer", ArtworkURL: t.artwork()}
	for _, a := range t.Contributors {
		r.Artists = append(r.Artists, a.Name)
	}
	if len(r.Artists) == 0 && t.Artist.Name != "" {
		r.Artists = []string{t.Artist.Name}
	}
	return r
}

// get reads one API resource into out. kind names it in messages.
func (c *Client) get(ctx context.Context, kind, path string, query url.Values, out any) error {
	u := c.api + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("building a deezer request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reading a deezer %s: %w: %w", kind, music.Errorf(music.EUNAVAILABLE, "Deezer cannot be reached right now; try again later."), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("reading a deezer %s: %w", kind, err)
	}
	if resp.StatusCode != http.StatusOK {
		return music.Errorf(music.EUNAVAILABLE, "Deezer answered with an error (HTTP %d); try again later.", resp.StatusCode)
	}
	var failure struct {
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &failure); err != nil {
		return fmt.Errorf("decoding a deezer %s: %w", kind, err)
	}
	if e := failure.Error; e != nil {
		switch e.Code {
		case errNotFound:
			return music.Errorf(music.ENOTFOUND, "Deezer has no such %s (it may be private or removed).", kind)
		case errQuota:
			return music.Errorf(music.EUNAVAILABLE, "Deezer is limiting the bot's requests; try again in a few seconds.")
		}
		return fmt.Errorf("deezer %s: %s %d %s: %w", kind, e.Type, e.Code, music.Truncate(e.Message, 200),
			music.Errorf(music.EUNAVAILABLE, "Deezer answered with an error; try again later."))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decoding a deezer %s: %w", kind, err)
	}
	return nil
}
