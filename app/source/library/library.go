// Package library reads the music library of a user who linked their
// Spotify, YouTube or SoundCloud account: their playlists, a playlist's
// tracks, their liked tracks and (Spotify only) their top tracks, with the
// access token of their link, in each provider's documented wire format.
//
// It owns the requests and their paging up to a maximum, the note that says
// what was cut or not found, one wait on a 429's Retry-After when the
// deadline leaves room, and the translation of the providers' refusals into
// music.Error values a user can read. Spotify's recordings go to a Finder
// (the mirror) as Spotify links' do; YouTube videos and SoundCloud tracks
// become page tracks that yt-dlp plays at play time.
//
// It does not own the tokens or their refresh (a Tokens port: account
// linking), Discord, or enqueueing. No access token reaches an error or a
// log line.
package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/internal/retry"
)

// Collection is a list of a user's tracks that is not a playlist.
type Collection string

// The collections a user can play.
const (
	Liked Collection = "liked"
	Top   Collection = "top"
)

// Collections lists them, in the order the commands offer them.
var Collections = []Collection{Liked, Top}

// Playlist is one of a user's playlists at a service.
type Playlist struct {
	Service account.Service
	ID      string
	Name    string
	Tracks  int // as the service counts them
}

// Tokens returns a user's access token for a service: account linking.
type Tokens interface {
	AccessToken(ctx context.Context, user music.UserID, service account.Service) (string, error)
	// Rejected is told the provider refused accessToken and returns a
	// renewed one, or why the link no longer works.
	Rejected(ctx context.Context, user music.UserID, service account.Service, accessToken string) (string, error)
}

// Finder finds a playable track for a recording; mirror.Mirror fits it.
type Finder interface {
	Find(ctx context.Context, r music.Recording) (music.Track, error)
}

// Defaults of Config.
const (
	DefaultMaxPlaylists = 100
	DefaultTimeout      = 10 * time.Second
)

const (
	// maxBody bounds one answer: a page of 50 full Spotify tracks is ~200 kB.
	maxBody = 4 << 20
	// maxPages bounds the requests of one read, whatever the pages say.
	maxPages = 50
)

// Config configures a Library.
type Config struct {
	// Tokens gives the users' access tokens. Required.
	Tokens Tokens
	// APIURLs are the services' API bases (account.Provider.APIURL); a
	// service missing here cannot be read. Required.
	APIURLs map[account.Service]string
	// Finder mirrors Spotify's recordings. Required.
	Finder Finder
	// MaxTracks bounds the tracks taken from one list; the binary gives
	// it the same bound as every other list's. Default:
	// music.DefaultMaxListTracks.
	MaxTracks int
	// MaxPlaylists bounds the playlists listed per service. Default:
	// DefaultMaxPlaylists.
	MaxPlaylists int
	// HTTPClient makes the requests. Default: a client with DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock the rate-limit wait is measured on. Default: time.Now.
	Now func() time.Time
}

// Library reads users' libraries. It is safe for concurrent use.
type Library struct {
	cfg   Config
	sleep func(ctx context.Context, d time.Duration) error
}

// New checks cfg and returns a Library.
func New(cfg Config) (*Library, error) {
	if cfg.Tokens == nil || cfg.Finder == nil || len(cfg.APIURLs) == 0 {
		return nil, errors.New("library: tokens, a finder and the APIs' URLs are required")
	}
	if cfg.MaxTracks <= 0 {
		cfg.MaxTracks = music.DefaultMaxListTracks
	}
	if cfg.MaxPlaylists <= 0 {
		cfg.MaxPlaylists = DefaultMaxPlaylists
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Library{cfg: cfg, sleep: backoff.Sleep}, nil
}

// entry is one track of a list: a recording to mirror, or a page that
// yt-dlp plays.
type entry struct {
	rec  music.Recording
	page *music.Track
}

// entries is what a service read of a list: at most the maximum asked for.
type entries struct {
	items []entry
	total int  // the list's length as the service says, 0 when unknown
	more  bool // the service had more than items
}

// reader reads one service's API.
type reader interface {
	playlists(ctx context.Context, c *caller, max int) ([]Playlist, error)
	playlist(ctx context.Context, c *caller, id string, max int) (entries, error)
	collection(ctx context.Context, c *caller, which Collection, max int) (entries, error)
}

func readerFor(service account.Service) reader {
	switch service {
	case account.Spotify:
		return spotifyReader{}
	case account.YouTube:
		return youtubeReader{}
	case account.SoundCloud:
		return soundcloudReader{}
	}
	return nil
}

// caller makes one user's requests to one service.
type caller struct {
	lib     *Library
	user    music.UserID
	service account.Service
	base    string
	token   string
	renewed bool // the token was renewed after a 401 once already
}

func (l *Library) caller(ctx context.Context, user music.UserID, service account.Service) (*caller, reader, error) {
	if err := service.Validate(); err != nil {
		return nil, nil, err
	}
	base, ok := l.cfg.APIURLs[service]
	if !ok || base == "" {
		return nil, nil, music.Errorf(music.EUNAVAILABLE, "Reading %s libraries is not set up on this bot.", service.Title())
	}
	token, err := l.cfg.Tokens.AccessToken(ctx, user, service)
	if music.ErrorCode(err) == music.ENOTFOUND {
		return nil, nil, music.Errorf(music.ENOTFOUND, "You have not linked a %s account: link your account with /link first.", service.Title())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the %s access token: %w", service.Title(), err)
	}
	return &caller{lib: l, user: user, service: service, base: strings.TrimRight(base, "/"), token: token}, readerFor(service), nil
}

// Playlists lists the user's playlists at service, at most MaxPlaylists.
func (l *Library) Playlists(ctx context.Context, user music.UserID, service account.Service) ([]Playlist, error) {
	c, r, err := l.caller(ctx, user, service)
	if err != nil {
		return nil, err
	}
	list, err := r.playlists(ctx, c, l.cfg.MaxPlaylists)
	if err != nil {
		return nil, fmt.Errorf("listing the %s playlists: %w", service.Title(), err)
	}
	return list, nil
}

// PlaylistTracks reads up to MaxTracks tracks of the user's playlist id at
// service; note, when not empty, tells the user what was left out.
func (l *Library) PlaylistTracks(ctx context.Context, user music.UserID, service account.Service, id string) (tracks []music.Track, note string, err error) {
	c, r, err := l.caller(ctx, user, service)
	if err != nil {
		return nil, "", err
	}
	es, err := r.playlist(ctx, c, id, l.cfg.MaxTracks)
	if err != nil {
		return nil, "", fmt.Errorf("reading the %s playlist: %w", service.Title(), err)
	}
	return l.tracks(ctx, es, service.Title()+" playlist")
}

// CollectionTracks reads up to MaxTracks of the user's liked or top tracks
// at service.
func (l *Library) CollectionTracks(ctx context.Context, user music.UserID, service account.Service, which Collection) (tracks []music.Track, note string, err error) {
	c, r, err := l.caller(ctx, user, service)
	if err != nil {
		return nil, "", err
	}
	es, err := r.collection(ctx, c, which, l.cfg.MaxTracks)
	if err != nil {
		return nil, "", fmt.Errorf("reading the %s %s tracks: %w", service.Title(), which, err)
	}
	return l.tracks(ctx, es, fmt.Sprintf("list of your %s %s tracks", service.Title(), which))
}

// tracks mirrors the recordings among es and keeps its pages, in order. A
// list that finds nothing playable is an error; otherwise the note counts
// what was cut and what found no match. Each mirrored entry is reported to
// ctx's progress, counting those before it as done.
func (l *Library) tracks(ctx context.Context, es entries, what string) ([]music.Track, string, error) {
	var tracks []music.Track
	missing := 0
	for i, e := range es.items {
		if e.page != nil {
			tracks = append(tracks, *e.page)
			continue
		}
		t, err := l.cfg.Finder.Find(ctx, e.rec)
		if err == nil || music.ErrorCode(err) == music.ENOTFOUND {
			music.ReportProgress(ctx, i+1, len(es.items))
		}
		switch {
		case music.ErrorCode(err) == music.ENOTFOUND:
			missing++
		case err != nil:
			return nil, "", fmt.Errorf("mirroring the %s: %w", what, err)
		default:
			tracks = append(tracks, t)
		}
	}
	if len(tracks) == 0 {
		if len(es.items) == 0 {
			return nil, "", music.Errorf(music.ENOTFOUND, "That %s has no tracks that can be played.", what)
		}
		return nil, "", music.Errorf(music.ENOTFOUND, "No playable match was found for any track of that %s.", what)
	}
	return tracks, note(es, missing, l.cfg.MaxTracks), nil
}

func note(es entries, missing, max int) string {
	var cut string
	if es.more {
		cut = music.CutNote(len(es.items), es.total, max)
	}
	return music.JoinNotes(cut, music.UnmatchedNote(missing))
}

// refusal is what a service said when it refused a request.
type refusal struct {
	status int
	wait   time.Duration // Retry-After of a 429
	// message and reason are the service's words, never shown raw.
	message, reason string
}

// errorAnswer reads Spotify's ({"error":{"status","message"}}), Google's
// ({"error":{"code","message","errors":[{"reason"}]}}) and SoundCloud's
// ({"code","message","errors":[{"error_message"}]}) error bodies.
func errorAnswer(body []byte) (message, reason string) {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	var inner struct {
		Message string `json:"message"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if json.Unmarshal(e.Error, &inner) == nil {
		message = inner.Message
		if len(inner.Errors) > 0 {
			reason = inner.Errors[0].Reason
		}
	}
	if message == "" {
		message = e.Message
	}
	return message, reason
}

// get reads u (the service's API base + path and query) into out. what
// names the resource for the service's refusal messages. A 429 is waited
// out once when ctx's deadline leaves room.
func (c *caller) get(ctx context.Context, what, u string, out any) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("building a %s request: %w", c.service.Title(), err)
		}
		scheme := "Bearer "
		if c.service == account.SoundCloud {
			scheme = "OAuth " // SoundCloud's documented header
		}
		req.Header.Set("Authorization", scheme+c.token)
		req.Header.Set("Accept", "application/json")
		resp, err := c.lib.cfg.HTTPClient.Do(req)
		if err != nil {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err // its URL may carry a page token
			}
			return fmt.Errorf("reading %s %s: %w: %w", c.service.Title(), what,
				music.Errorf(music.EUNAVAILABLE, "%s cannot be reached right now; try again later.", c.service.Title()), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading %s %s: %w", c.service.Title(), what, err)
		}
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("decoding %s %s: %w", c.service.Title(), what, err)
			}
			return nil
		}
		ref := refusal{status: resp.StatusCode, wait: retry.After(resp.Header)}
		ref.message, ref.reason = errorAnswer(body)
		if ref.status == http.StatusUnauthorized && !c.renewed {
			// Revoked or replaced before its expiry: renewed once, a
			// refused renewal marking the link broken.
			c.renewed = true
			if c.token, err = c.lib.cfg.Tokens.Rejected(ctx, c.user, c.service, c.token); err != nil {
				return fmt.Errorf("renewing the %s access token: %w", c.service.Title(), err)
			}
			continue
		}
		if ref.status == http.StatusTooManyRequests && attempt == 0 {
			deadline, ok := ctx.Deadline()
			if !ok || !c.lib.cfg.Now().Add(ref.wait).After(deadline) {
				if err := c.lib.sleep(ctx, ref.wait); err != nil {
					return fmt.Errorf("waiting for %s's rate limit: %w", c.service.Title(), err)
				}
				continue
			}
		}
		return c.refused(what, ref)
	}
}

// refused turns a refusal into what the user is told.
func (c *caller) refused(what string, r refusal) error {
	name := c.service.Title()
	switch {
	case r.status == http.StatusUnauthorized:
		return music.Errorf(music.EINVALID, "Your %s link no longer works: run /link %s again.", name, c.service)
	case r.status == http.StatusTooManyRequests:
		return music.Errorf(music.EUNAVAILABLE, "%s is limiting the bot's requests; try again in %d seconds.", name, int(r.wait.Round(time.Second)/time.Second))
	case r.status == http.StatusForbidden && c.service == account.Spotify && strings.Contains(strings.ToLower(r.message), "registered"):
		return music.Errorf(music.EFORBIDDEN, "The bot's Spotify app is in development mode and your account is not on its list; ask the bot's owner to add you.")
	case r.status == http.StatusForbidden && c.service == account.Spotify && what == spotifyPlaylistItems:
		return music.Errorf(music.EFORBIDDEN, "Spotify lets the bot read only playlists you own or collaborate on, and that one is someone else's.")
	case r.status == http.StatusForbidden && c.service == account.YouTube && (r.reason == "quotaExceeded" || r.reason == "dailyLimitExceeded"):
		return music.Errorf(music.EUNAVAILABLE, "The bot's YouTube quota for today is used up; try again tomorrow.")
	case r.status == http.StatusForbidden:
		return music.Errorf(music.EFORBIDDEN, "%s does not let the bot read your %s.", name, what)
	case r.status == http.StatusNotFound:
		return music.Errorf(music.ENOTFOUND, "%s has no such %s (it may be private or removed).", name, what)
	}
	return music.Errorf(music.EUNAVAILABLE, "%s answered with an error (HTTP %d); try again later.", name, r.status)
}

// noTop is the answer for services without top tracks.
func noTop(service account.Service) error {
	return music.Errorf(music.EINVALID, "%s keeps no top tracks; play source:liked or one of your playlists instead.", service.Title())
}

// endpoint is c's API base + path + query.
func (c *caller) endpoint(path string, q url.Values) string {
	return c.base + path + "?" + q.Encode()
}
