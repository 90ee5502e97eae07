package library

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/spotify"
)

// spotifyPageSize is the largest limit the Web API's lists accept.
const spotifyPageSize = 50

// spotifyPlaylistItems names playlist items in requests and refusals: the
// one resource development mode refuses for playlists of others.
const spotifyPlaylistItems = "playlist"

// spotifyReader reads /v1/me/playlists, /v1/playlists/{id}/items,
// /v1/me/tracks and /v1/me/top/tracks.
type spotifyReader struct{}

// spotifyPage is the Web API's paging object.
type spotifyPage struct {
	Items []json.RawMessage `json:"items"`
	Total int               `json:"total"`
	Next  *string           `json:"next"`
}

// spotifyPages reads path's pages by offset until max items, the last page
// (next is null) or an error, handing each item to take, which reports
// whether it kept it.
func spotifyPages(ctx context.Context, c *caller, what, path string, max int, take func(json.RawMessage) (bool, error)) (total int, more bool, err error) {
	kept, offset := 0, 0
	for n := 0; n < maxPages; n++ {
		var page spotifyPage
		q := url.Values{"limit": {strconv.Itoa(spotifyPageSize)}, "offset": {strconv.Itoa(offset)}}
		if err := c.get(ctx, what, c.endpoint(path, q), &page); err != nil {
			return 0, false, err
		}
		total = page.Total
		for i, raw := range page.Items {
			if kept == max {
				return total, true, nil
			}
			ok, err := take(raw)
			if err != nil {
				return 0, false, fmt.Errorf("decoding a Spotify %s item %d: %w", what, offset+i, err)
			}
			if ok {
				kept++
			}
		}
		if page.Next == nil || len(page.Items) == 0 {
			return total, false, nil
		}
		if kept == max {
			return total, true, nil
		}
		// The next page starts after this one, however long the service
		// made it.
		offset += len(page.Items)
	}
	return total, true, nil
}

func (spotifyReader) playlists(ctx context.Context, c *caller, max int) ([]Playlist, error) {
	var out []Playlist
	_, _, err := spotifyPages(ctx, c, "playlists", "/v1/me/playlists", max, func(raw json.RawMessage) (bool, error) {
		var p struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			// The count is under "items" since 2026, "tracks" before.
			Items, Tracks *struct {
				Total int `json:"total"`
			}
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.ID == "" {
			return false, err
		}
		count := p.Items
		if count == nil {
			count = p.Tracks
		}
		pl := Playlist{Service: c.service, ID: p.ID, Name: p.Name}
		if count != nil {
			pl.Tracks = count.Total
		}
		out = append(out, pl)
		return true, nil
	})
	return out, err
}

func (spotifyReader) playlist(ctx context.Context, c *caller, id string, max int) (entries, error) {
	return spotifyRecordings(ctx, c, spotifyPlaylistItems, "/v1/playlists/"+url.PathEscape(id)+"/items", max, func(raw json.RawMessage) (*spotify.TrackObject, error) {
		var it spotify.PlaylistItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, err
		}
		return it.Playable(), nil
	})
}

func (spotifyReader) collection(ctx context.Context, c *caller, which Collection, max int) (entries, error) {
	switch which {
	case Liked:
		// Saved tracks: {"added_at", "track"}.
		return spotifyRecordings(ctx, c, "liked tracks", "/v1/me/tracks", max, func(raw json.RawMessage) (*spotify.TrackObject, error) {
			var it spotify.PlaylistItem
			if err := json.Unmarshal(raw, &it); err != nil {
				return nil, err
			}
			return it.Playable(), nil
		})
	case Top:
		return spotifyRecordings(ctx, c, "top tracks", "/v1/me/top/tracks", max, func(raw json.RawMessage) (*spotify.TrackObject, error) {
			var t spotify.TrackObject
			if err := json.Unmarshal(raw, &t); err != nil {
				return nil, err
			}
			return &t, nil
		})
	}
	return entries{}, music.Errorf(music.EINVALID, "There is no %q list of tracks.", music.Truncate(string(which), 20))
}

// spotifyRecordings reads the recordings of a list of tracks; decode
// returns nil for an item that is not a playable track, which does not
// count.
func spotifyRecordings(ctx context.Context, c *caller, what, path string, max int, decode func(json.RawMessage) (*spotify.TrackObject, error)) (entries, error) {
	var es entries
	skipped := 0
	total, more, err := spotifyPages(ctx, c, what, path, max, func(raw json.RawMessage) (bool, error) {
		t, err := decode(raw)
		if err != nil {
			return false, err
		}
		if t == nil {
			skipped++
			return false, nil
		}
		es.items = append(es.items, entry{rec: t.Recording()})
		return true, nil
	})
	if err != nil {
		return entries{}, err
	}
	es.total, es.more = total-skipped, more
	return es, nil
}
