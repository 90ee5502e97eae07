package library

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/ytdlp"
)

// soundcloudPageSize is the limit asked of each SoundCloud page.
const soundcloudPageSize = 50

// soundcloudReader reads SoundCloud's API: /me/playlists,
// /playlists/{id}/tracks and /me/likes/tracks. SoundCloud has no top
// tracks.
type soundcloudReader struct{}

// soundcloudPage is a linked_partitioning answer.
type soundcloudPage struct {
	Collection []json.RawMessage `json:"collection"`
	NextHref   string            `json:"next_href"`
}

// soundcloudPages reads path's pages, following next_href, until max
// items, the last page or an error. next_href must stay on the API's own
// scheme and host: the token goes nowhere else. The items kept so far are
// reported to ctx's progress after each page.
func soundcloudPages(ctx context.Context, c *caller, what, path string, q url.Values, max int, take func(json.RawMessage) (bool, error)) (more bool, err error) {
	q.Set("linked_partitioning", "true")
	q.Set("limit", strconv.Itoa(soundcloudPageSize))
	next := c.endpoint(path, q)
	base, err := url.Parse(c.base)
	if err != nil {
		return false, fmt.Errorf("the SoundCloud API URL: %w", err)
	}
	kept := 0
	for n := 0; n < maxPages; n++ {
		var page soundcloudPage
		if err := c.get(ctx, what, next, &page); err != nil {
			return false, err
		}
		for i, raw := range page.Collection {
			if kept == max {
				return true, nil
			}
			ok, err := take(raw)
			if err != nil {
				return false, fmt.Errorf("decoding a SoundCloud %s item %d: %w", what, i, err)
			}
			if ok {
				kept++
			}
		}
		music.ReportProgress(ctx, kept, 0) // SoundCloud's pages say no total
		if page.NextHref == "" || len(page.Collection) == 0 {
			return false, nil
		}
		if kept == max {
			return true, nil
		}
		u, err := url.Parse(page.NextHref)
		if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
			return false, music.Errorf(music.EUNAVAILABLE, "SoundCloud answered with a next page elsewhere than its API; try again later.")
		}
		next = u.String()
	}
	return true, nil
}

// soundcloudID is an ID SoundCloud sends as a number or a string.
type soundcloudID string

func (id *soundcloudID) UnmarshalJSON(b []byte) error {
	*id = soundcloudID(strings.Trim(string(bytes.TrimSpace(b)), `"`))
	return nil
}

func (soundcloudReader) playlists(ctx context.Context, c *caller, max int) ([]Playlist, error) {
	var out []Playlist
	q := url.Values{"show_tracks": {"false"}}
	_, err := soundcloudPages(ctx, c, "playlists", "/me/playlists", q, max, func(raw json.RawMessage) (bool, error) {
		var p struct {
			ID         soundcloudID `json:"id"`
			Title      string       `json:"title"`
			TrackCount int          `json:"track_count"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.ID == "" {
			return false, err
		}
		out = append(out, Playlist{Service: c.service, ID: string(p.ID), Name: p.Title, Tracks: p.TrackCount})
		return true, nil
	})
	return out, err
}

func (soundcloudReader) playlist(ctx context.Context, c *caller, id string, max int) (entries, error) {
	return soundcloudTracks(ctx, c, "playlist", "/playlists/"+url.PathEscape(id)+"/tracks", max)
}

func (soundcloudReader) collection(ctx context.Context, c *caller, which Collection, max int) (entries, error) {
	if which != Liked {
		return entries{}, noTop(c.service)
	}
	return soundcloudTracks(ctx, c, "liked tracks", "/me/likes/tracks", max)
}

// soundcloudArtwork is a track's artwork at 500x500: SoundCloud's
// artwork_url names its 100x100 "large" size, and the same image comes in
// others by name.
func soundcloudArtwork(raw string) string {
	return music.Artwork(strings.Replace(raw, "-large.", "-t500x500.", 1))
}

// soundcloudTracks reads a list of tracks as page tracks: each one's
// permalink_url, which yt-dlp plays as it does a pasted SoundCloud link.
func soundcloudTracks(ctx context.Context, c *caller, what, path string, limit int) (entries, error) {
	var es entries
	more, err := soundcloudPages(ctx, c, what, path, url.Values{}, limit, func(raw json.RawMessage) (bool, error) {
		var t struct {
			Title        string `json:"title"`
			DurationMS   int64  `json:"duration"`
			PermalinkURL string `json:"permalink_url"`
			ArtworkURL   string `json:"artwork_url"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return false, err
		}
		if t.PermalinkURL == "" {
			return false, nil
		}
		es.items = append(es.items, entry{page: &music.Track{
			Title: music.Truncate(t.Title, music.MaxTitleLen), URL: t.PermalinkURL,
			Duration: time.Duration(max(t.DurationMS, 0)) * time.Millisecond, Source: ytdlp.Source,
			ArtworkURL: soundcloudArtwork(t.ArtworkURL),
		}})
		return true, nil
	})
	if err != nil {
		return entries{}, err
	}
	es.more = more
	return es, nil
}
