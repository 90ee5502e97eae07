// Package links turns a pasted Spotify, Deezer or Apple Music link (a
// track, an album, a playlist) into playable tracks: it reads the
// recordings from the source's API and has them mirrored, a few at once,
// cutting long lists at a maximum and saying so.
//
// It owns the choice of source for a link, the "not set up" answer for
// sources the bot has no client for, the bound on concurrent mirroring,
// and the note that tells the user what was cut or not found. It does not
// read the APIs or search itself (spotify, deezer, applemusic and mirror
// do), nor enqueue.
package links

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/applemusic"
	"github.com/iddv/timmybot/app/source/deezer"
	"github.com/iddv/timmybot/app/source/spotify"
)

// Defaults of Config.
const (
	// DefaultConcurrency is how many tracks of one link are mirrored at
	// once: each is a yt-dlp search or two, which yt-dlp's own limit also
	// bounds across links.
	DefaultConcurrency = 4
)

// catalog is what a metadata source offers; spotify.Client and
// deezer.Client fit it.
type catalog interface {
	Track(ctx context.Context, id string) (music.Recording, error)
	AlbumTracks(ctx context.Context, id string, max int) (music.RecordingList, error)
	PlaylistTracks(ctx context.Context, id string, max int) (music.RecordingList, error)
}

var (
	_ catalog = (*spotify.Client)(nil)
	_ catalog = (*deezer.Client)(nil)
	_ catalog = appleStorefront{}
)

// appleStorefront is the Apple Music catalog of one storefront, the one a
// link was shared from.
type appleStorefront struct {
	client     *applemusic.Client
	storefront string
}

func (a appleStorefront) Track(ctx context.Context, id string) (music.Recording, error) {
	return a.client.Track(ctx, a.storefront, id)
}

func (a appleStorefront) AlbumTracks(ctx context.Context, id string, max int) (music.RecordingList, error) {
	return a.client.AlbumTracks(ctx, a.storefront, id, max)
}

func (a appleStorefront) PlaylistTracks(ctx context.Context, id string, max int) (music.RecordingList, error) {
	return a.client.PlaylistTracks(ctx, a.storefront, id, max)
}

// Finder finds a playable track for a recording; mirror.Mirror fits it.
type Finder interface {
	Find(ctx context.Context, r music.Recording) (music.Track, error)
}

// Config configures a Resolver.
type Config struct {
	// Spotify reads Spotify links. Default: none; Spotify links are then
	// answered with "not set up".
	Spotify *spotify.Client
	// Deezer reads Deezer links. Required.
	Deezer *deezer.Client
	// AppleMusic reads Apple Music links. Default: none; they are then
	// answered with "not set up".
	AppleMusic *applemusic.Client
	// Finder mirrors each recording. Required.
	Finder Finder
	// MaxTracks bounds the tracks of one album or playlist. Default:
	// music.DefaultMaxListTracks.
	MaxTracks int
	// Concurrency bounds the tracks of one link mirrored at once. Default:
	// DefaultConcurrency.
	Concurrency int
}

// Resolver resolves links. It is safe for concurrent use when its parts are.
type Resolver struct {
	cfg Config
}

// New checks cfg and returns a resolver.
func New(cfg Config) (*Resolver, error) {
	if cfg.Deezer == nil || cfg.Finder == nil {
		return nil, errors.New("links: a Deezer client and a finder are required")
	}
	if cfg.MaxTracks <= 0 {
		cfg.MaxTracks = music.DefaultMaxListTracks
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	return &Resolver{cfg: cfg}, nil
}

// Handles reports whether query is meant as a Spotify, Deezer or Apple
// Music link.
func (r *Resolver) Handles(query string) bool {
	return spotify.IsLink(query) || deezer.IsLink(query) || applemusic.IsLink(query)
}

// Resolve reads the link in query and mirrors its recordings; note, when
// not empty, tells the user what was left out. A single track that finds
// no match is an error; an album or playlist keeps the tracks that do and
// notes the others, failing only when none does.
func (r *Resolver) Resolve(ctx context.Context, query string) (tracks []music.Track, note string, err error) {
	name, link, cat, err := r.parse(strings.TrimSpace(query))
	if err != nil {
		return nil, "", err
	}
	if link.Kind == music.LinkTrack {
		rec, err := cat.Track(ctx, link.ID)
		if err != nil {
			return nil, "", fmt.Errorf("reading the %s track: %w", name, err)
		}
		t, err := r.cfg.Finder.Find(ctx, rec)
		if err != nil {
			return nil, "", fmt.Errorf("mirroring the %s track: %w", name, err)
		}
		return []music.Track{t}, "", nil
	}
	read := cat.AlbumTracks
	if link.Kind == music.LinkPlaylist {
		read = cat.PlaylistTracks
	}
	list, err := read(ctx, link.ID, r.cfg.MaxTracks)
	if err != nil {
		return nil, "", fmt.Errorf("reading the %s %s: %w", name, link.Kind, err)
	}
	tracks, missing, err := r.mirrorAll(ctx, list.Recordings)
	if err != nil {
		return nil, "", fmt.Errorf("mirroring the %s %s: %w", name, link.Kind, err)
	}
	if len(tracks) == 0 {
		return nil, "", music.Errorf(music.ENOTFOUND, "No playable match was found for any track of that %s %s.", name, link.Kind)
	}
	return tracks, noteFor(list, missing, r.cfg.MaxTracks), nil
}

// mirrorAll finds a track for each recording, at most Concurrency at once,
// and returns those found in the recordings' order with the number that
// had no match, reporting each find to ctx's music.Progress. The first
// other failure stops the finds still running and is returned.
func (r *Resolver) mirrorAll(ctx context.Context, recs []music.Recording) (tracks []music.Track, missing int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make([]music.Track, len(recs))
	errs := make([]error, len(recs))
	var (
		failOnce sync.Once
		failure  error
		doneMu   sync.Mutex // one progress report at a time, in order
		done     int
	)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, len(recs)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					// The feed may still hand one out after a stop.
					return
				}
				found[i], errs[i] = r.cfg.Finder.Find(ctx, recs[i])
				if errs[i] != nil && music.ErrorCode(errs[i]) != music.ENOTFOUND {
					failOnce.Do(func() { failure = errs[i]; cancel() })
					continue
				}
				doneMu.Lock()
				done++
				music.ReportProgress(ctx, done, len(recs))
				doneMu.Unlock()
			}
		})
	}
feed:
	for i := range recs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if failure != nil {
		return nil, 0, failure
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	for i, t := range found {
		if errs[i] != nil {
			missing++
			continue
		}
		tracks = append(tracks, t)
	}
	return tracks, missing, nil
}

// parse picks the source of a link.
func (r *Resolver) parse(query string) (string, music.Link, catalog, error) {
	if spotify.IsLink(query) {
		if r.cfg.Spotify == nil {
			return "", music.Link{}, nil, music.Errorf(music.EUNAVAILABLE, "Spotify links are not set up on this bot: its owner has not configured Spotify app credentials.")
		}
		link, err := spotify.ParseLink(query)
		return "Spotify", link, r.cfg.Spotify, err
	}
	if applemusic.IsLink(query) {
		if r.cfg.AppleMusic == nil {
			return "", music.Link{}, nil, music.Errorf(music.EUNAVAILABLE, "Apple Music links are not set up on this bot.")
		}
		link, err := applemusic.ParseLink(query)
		return "Apple Music", link.Link, appleStorefront{r.cfg.AppleMusic, link.Storefront}, err
	}
	link, err := deezer.ParseLink(query)
	return "Deezer", link, r.cfg.Deezer, err
}

func noteFor(list music.RecordingList, missing, max int) string {
	var cut string
	if list.Truncated() {
		cut = music.CutNote(len(list.Recordings), list.Total, max)
	}
	return music.JoinNotes(list.Note, cut, music.UnmatchedNote(missing))
}
