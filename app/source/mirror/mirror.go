// Package mirror finds a playable track for a recording that a
// metadata-only source (Spotify, Deezer) described: it searches a Searcher
// for the quoted ISRC first, then for "artist - title", scores what comes
// back against the recording, and takes the best candidate above a
// threshold. Matches are kept in a music.TrackCache until an expiry, so
// that the second play of a song needs no search.
//
// It owns the queries, the scoring and the cache keys. It does not search
// itself (the Searcher, yt-dlp's search in production, does), nor resolve
// the chosen page to audio.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Candidate is one search result.
type Candidate struct {
	Title    string
	Uploader string
	Duration time.Duration // zero when unknown
	URL      string
	// ArtworkURL is the result's thumbnail, checked with music.Artwork;
	// empty when it has none.
	ArtworkURL string
}

// Searcher finds up to n candidates for a query.
type Searcher interface {
	Search(ctx context.Context, query string, n int) ([]Candidate, error)
}

// Defaults of Config.
const (
	DefaultTTL     = 7 * 24 * time.Hour
	DefaultResults = 5
)

// Config configures a Mirror.
type Config struct {
	Searcher Searcher // required
	Cache    music.TrackCache
	// TTL is how long a match stays cached. Default: DefaultTTL.
	TTL time.Duration
	// Results is how many candidates each search asks for. Default:
	// DefaultResults.
	Results int
	// Now is the clock for cache expiry. Default: time.Now.
	Now func() time.Time
	// Logger receives cache failures, which do not fail a match. Default:
	// discard.
	Logger *slog.Logger
}

// Mirror matches recordings to playable tracks. It is safe for concurrent
// use when its Searcher and Cache are.
type Mirror struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a mirror.
func New(cfg Config) (*Mirror, error) {
	if cfg.Searcher == nil {
		return nil, errors.New("mirror: a searcher is required")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Results <= 0 {
		cfg.Results = DefaultResults
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mirror{cfg: cfg, log: log}, nil
}

// Find returns a playable track for r: its URL is the chosen candidate's
// page, its title r's name, its source r's source. ENOTFOUND when no
// candidate scores well enough.
func (m *Mirror) Find(ctx context.Context, r music.Recording) (music.Track, error) {
	key := cacheKey(r)
	if m.cfg.Cache != nil && music.ValidateCacheKey(key) == nil {
		t, err := m.cfg.Cache.CachedTrack(ctx, key)
		if err == nil {
			// Entries are shared by ISRC across sources.
			t.Source = r.Source
			if r.ArtworkURL != "" {
				t.ArtworkURL = r.ArtworkURL
			}
			return t, nil
		}
		if music.ErrorCode(err) != music.ENOTFOUND {
			m.log.Warn("reading the mirror cache", slog.Any("err", err))
		}
	}
	best, err := m.search(ctx, r)
	if err != nil {
		return music.Track{}, err
	}
	// The recording's own artwork is the album's cover; a video's
	// thumbnail stands in only when the source has none.
	t := music.Track{Title: music.Truncate(r.Name(), music.MaxTitleLen), URL: best.URL, Duration: best.Duration, Source: r.Source, ArtworkURL: r.ArtworkURL}
	if t.Duration == 0 {
		t.Duration = r.Duration
	}
	if t.ArtworkURL == "" {
		t.ArtworkURL = best.ArtworkURL
	}
	if err := t.Validate(); err != nil {
		return music.Track{}, fmt.Errorf("mirroring %q: %w", r.Name(), err)
	}
	if m.cfg.Cache != nil && music.ValidateCacheKey(key) == nil {
		if err := m.cfg.Cache.CacheTrack(ctx, key, t, m.cfg.Now().Add(m.cfg.TTL)); err != nil {
			m.log.Warn("writing the mirror cache", slog.Any("err", err))
		}
	}
	return t, nil
}

// search runs the ISRC query, then the text query, and returns the best
// candidate above the threshold.
func (m *Mirror) search(ctx context.Context, r music.Recording) (Candidate, error) {
	var queries []string
	if r.ISRC != "" {
		queries = append(queries, `"`+r.ISRC+`"`)
	}
	queries = append(queries, textQuery(r))
	for _, q := range queries {
		cands, err := m.cfg.Searcher.Search(ctx, q, m.cfg.Results)
		if err != nil {
			return Candidate{}, fmt.Errorf("searching for %q: %w", q, err)
		}
		if best, ok := choose(r, cands); ok {
			return best, nil
		}
	}
	return Candidate{}, music.Errorf(music.ENOTFOUND, "No playable match was found for %s.", music.Truncate(r.Name(), 100))
}

func textQuery(r music.Recording) string {
	if len(r.Artists) == 0 {
		return r.Title
	}
	return r.Artists[0] + " - " + r.Title
}

// cacheKey is the ISRC when known, so that a song from Spotify and Deezer
// share one entry, and otherwise the artists, title and duration.
func cacheKey(r music.Recording) string {
	if r.ISRC != "" {
		return "mirror:isrc:" + r.ISRC
	}
	return "mirror:text:" + strings.ToLower(r.Name()) + ":" + strconv.FormatInt(int64(r.Duration/time.Second), 10)
}
