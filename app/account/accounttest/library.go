package accounttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/iddv/timmybot/app/account"
)

// This file is the fake's music libraries: each provider's library API at
// its real paths, in its documented JSON, paged as the provider pages
// (Spotify by offset with a "next" URL, YouTube by nextPageToken,
// SoundCloud by next_href), with the refusals the providers answer.

// Item is a track in a fake library. Spotify serves Title, Artists, ISRC
// and DurationMS; YouTube serves ID as the video ID and Title; SoundCloud
// serves Title, DurationMS and URL as the permalink_url.
type Item struct {
	ID         string
	Title      string
	Artists    []string
	ISRC       string
	DurationMS int64
	URL        string
	// Gone serves the item as one the provider no longer has (a Spotify
	// item without a track, a YouTube "Deleted video").
	Gone bool
}

// Playlist is a playlist in a fake library.
type Playlist struct {
	ID, Name string
	Items    []Item
	// Foreign makes Spotify refuse its items with 403, as development-mode
	// apps are refused playlists the user neither owns nor collaborates on.
	Foreign bool
}

// Library is one service's library of the linked user.
type Library struct {
	Playlists []Playlist
	Liked     []Item
	Top       []Item // Spotify only
}

// Refusal is an answer the fake gives instead of the library's.
type Refusal int

// The refusals.
const (
	// Unregistered is Spotify's 403 for a user a development-mode app has
	// not added.
	Unregistered Refusal = iota + 1
	// QuotaExceeded is YouTube's 403 when the app's daily quota is spent.
	QuotaExceeded
	// RateLimited is a 429 with Retry-After: 1.
	RateLimited
	// Unauthorized is a 401: the token no longer works.
	Unauthorized
)

// libraryPageSize is the fake's largest page; tests make it small to see
// paging.
const libraryPageSize = 50

// SetLibrary serves lib as the linked user's library at service.
func (p *Provider) SetLibrary(service account.Service, lib Library) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.libraries == nil {
		p.libraries = map[account.Service]Library{}
	}
	p.libraries[service] = lib
}

// SetPageSize makes every library page at most n items.
func (p *Provider) SetPageSize(n int) {
	p.mu.Lock()
	p.pageSize = n
	p.mu.Unlock()
}

// Refuse answers the next library request at service with r.
func (p *Provider) Refuse(service account.Service, r Refusal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refusals == nil {
		p.refusals = map[account.Service][]Refusal{}
	}
	p.refusals[service] = append(p.refusals[service], r)
}

// AccessToken issues a valid access token without a link, for tests of
// library reading alone.
func (p *Provider) AccessToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	tok := p.newSecret("access")
	p.tokens[tok] = true
	return tok
}

// LibraryRequests returns the library requests served so far, as path and
// query, in order.
func (p *Provider) LibraryRequests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.libraryRequests...)
}

// Verifiers returns the PKCE verifiers the token endpoint received, for
// leak checks.
func (p *Provider) Verifiers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.verifiers...)
}

// libraryRoutes adds the library endpoints to mux.
func (p *Provider) libraryRoutes(mux *http.ServeMux) {
	for path, h := range map[string]func(*http.Request, Library) (any, int, bool){
		"/v1/me/playlists":          p.spotifyPlaylists,
		"/v1/playlists/{id}/items":  p.spotifyPlaylistItems,
		"/v1/me/tracks":             p.spotifyLiked,
		"/v1/me/top/tracks":         p.spotifyTop,
		"/youtube/v3/playlists":     p.youtubePlaylists,
		"/youtube/v3/playlistItems": p.youtubePlaylistItems,
		"/youtube/v3/videos":        p.youtubeLiked,
		"/me/playlists":             p.soundcloudPlaylists,
		"/playlists/{id}/tracks":    p.soundcloudPlaylistTracks,
		"/me/likes/tracks":          p.soundcloudLiked,
	} {
		service := account.Spotify
		switch {
		case strings.HasPrefix(path, "/youtube/"):
			service = account.YouTube
		case !strings.HasPrefix(path, "/v1/"):
			service = account.SoundCloud
		}
		mux.HandleFunc("GET "+path, p.libraryHandler(service, h))
	}
}

// libraryHandler checks the token (SoundCloud's "OAuth" scheme, the
// others' "Bearer"), answers a pending refusal, then the library.
func (p *Provider) libraryHandler(service account.Service, h func(*http.Request, Library) (any, int, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme := "Bearer "
		if service == account.SoundCloud {
			scheme = "OAuth "
		}
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), scheme)
		p.mu.Lock()
		p.libraryRequests = append(p.libraryRequests, r.URL.RequestURI())
		valid := tok != "" && p.tokens[tok]
		var refusal Refusal
		if q := p.refusals[service]; len(q) > 0 {
			refusal, p.refusals[service] = q[0], q[1:]
		}
		lib := p.libraries[service]
		p.mu.Unlock()
		if !valid {
			refusal = Unauthorized
		}
		switch refusal {
		case Unauthorized:
			apiError(w, http.StatusUnauthorized, "invalid_token", "The access token expired")
			return
		case RateLimited:
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "rateLimitExceeded", "API rate limit exceeded")
			return
		case Unregistered:
			apiError(w, http.StatusForbidden, "forbidden", "User not registered in the Developer Dashboard")
			return
		case QuotaExceeded:
			apiError(w, http.StatusForbidden, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.")
			return
		}
		body, status, ok := h(r, lib)
		if !ok {
			apiError(w, status, strings.ToLower(http.StatusText(status)), http.StatusText(status))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
}

// apiError answers in the shape all three read: {"error": {"code",
// "status", "message", "errors": [{"reason"}]}}, Google's and Spotify's
// (SoundCloud's readers look at the status only).
func apiError(w http.ResponseWriter, status int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "status": status, "message": message, "errors": []any{map[string]string{"reason": reason, "message": message}},
	}})
}

// window is the page at offset of n items: its bounds and whether more
// follow.
func (p *Provider) window(r *http.Request, offset, n int) (from, to int, more bool) {
	p.mu.Lock()
	size := p.pageSize
	p.mu.Unlock()
	if size <= 0 {
		size = libraryPageSize
	}
	for _, key := range []string{"limit", "maxResults"} {
		if v, err := strconv.Atoi(r.URL.Query().Get(key)); err == nil && v > 0 && v < size {
			size = v
		}
	}
	from = min(max(offset, 0), n)
	to = min(from+size, n)
	return from, to, to < n
}

func (p *Provider) base(r *http.Request) string { return "http://" + r.Host }

// spotifyPaging is the Web API's paging object for items[from:to] of n.
func (p *Provider) spotifyPaging(r *http.Request, n int, items func(from, to int) []any) any {
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	from, to, more := p.window(r, offset, n)
	page := map[string]any{"items": items(from, to), "total": n, "offset": from, "limit": to - from, "next": nil}
	if more {
		q := r.URL.Query()
		q.Set("offset", strconv.Itoa(to))
		page["next"] = p.base(r) + r.URL.Path + "?" + q.Encode()
	}
	return page
}

func spotifyTrack(it Item) any {
	artists := []any{}
	for _, a := range it.Artists {
		artists = append(artists, map[string]string{"name": a})
	}
	return map[string]any{"type": "track", "id": it.ID, "name": it.Title, "duration_ms": it.DurationMS, "artists": artists,
		"external_ids": map[string]string{"isrc": it.ISRC}}
}

func (p *Provider) spotifyPlaylists(r *http.Request, lib Library) (any, int, bool) {
	return p.spotifyPaging(r, len(lib.Playlists), func(from, to int) []any {
		var out []any
		for _, pl := range lib.Playlists[from:to] {
			out = append(out, map[string]any{"id": pl.ID, "name": pl.Name, "type": "playlist", "collaborative": false,
				"items": map[string]any{"total": len(pl.Items), "href": p.base(r) + "/v1/playlists/" + pl.ID + "/items"}})
		}
		return out
	}), 0, true
}

func findPlaylist(lib Library, id string) (Playlist, bool) {
	for _, pl := range lib.Playlists {
		if pl.ID == id {
			return pl, true
		}
	}
	return Playlist{}, false
}

func (p *Provider) spotifyPlaylistItems(r *http.Request, lib Library) (any, int, bool) {
	pl, ok := findPlaylist(lib, r.PathValue("id"))
	if !ok {
		return nil, http.StatusNotFound, false
	}
	if pl.Foreign {
		return nil, http.StatusForbidden, false
	}
	return p.spotifyPaging(r, len(pl.Items), func(from, to int) []any {
		var out []any
		for _, it := range pl.Items[from:to] {
			var track any
			if !it.Gone {
				track = spotifyTrack(it)
			}
			out = append(out, map[string]any{"added_at": "2026-01-02T03:04:05Z", "is_local": false, "item": track})
		}
		return out
	}), 0, true
}

func (p *Provider) spotifyLiked(r *http.Request, lib Library) (any, int, bool) {
	return p.spotifyPaging(r, len(lib.Liked), func(from, to int) []any {
		var out []any
		for _, it := range lib.Liked[from:to] {
			out = append(out, map[string]any{"added_at": "2026-01-02T03:04:05Z", "track": spotifyTrack(it)})
		}
		return out
	}), 0, true
}

func (p *Provider) spotifyTop(r *http.Request, lib Library) (any, int, bool) {
	return p.spotifyPaging(r, len(lib.Top), func(from, to int) []any {
		var out []any
		for _, it := range lib.Top[from:to] {
			out = append(out, spotifyTrack(it))
		}
		return out
	}), 0, true
}

// youtubePaging is a Data API list answer for items[from:to] of n; the
// page token is the offset, opaque to the client.
func (p *Provider) youtubePaging(r *http.Request, kind string, n int, items func(from, to int) []any) any {
	offset := 0
	if tok := r.URL.Query().Get("pageToken"); tok != "" {
		offset, _ = strconv.Atoi(strings.TrimPrefix(tok, "CAUQ"))
	}
	from, to, more := p.window(r, offset, n)
	page := map[string]any{"kind": "youtube#" + kind + "ListResponse", "items": items(from, to),
		"pageInfo": map[string]int{"totalResults": n, "resultsPerPage": to - from}}
	if more {
		page["nextPageToken"] = "CAUQ" + strconv.Itoa(to)
	}
	return page
}

func (p *Provider) youtubePlaylists(r *http.Request, lib Library) (any, int, bool) {
	if r.URL.Query().Get("mine") != "true" {
		return nil, http.StatusBadRequest, false
	}
	return p.youtubePaging(r, "playlist", len(lib.Playlists), func(from, to int) []any {
		var out []any
		for _, pl := range lib.Playlists[from:to] {
			out = append(out, map[string]any{"kind": "youtube#playlist", "id": pl.ID,
				"snippet": map[string]any{"title": pl.Name}, "contentDetails": map[string]int{"itemCount": len(pl.Items)}})
		}
		return out
	}), 0, true
}

func (p *Provider) youtubePlaylistItems(r *http.Request, lib Library) (any, int, bool) {
	pl, ok := findPlaylist(lib, r.URL.Query().Get("playlistId"))
	if !ok {
		return nil, http.StatusNotFound, false
	}
	return p.youtubePaging(r, "playlistItem", len(pl.Items), func(from, to int) []any {
		var out []any
		for i, it := range pl.Items[from:to] {
			title := it.Title
			if it.Gone {
				title = "Deleted video"
			}
			out = append(out, map[string]any{"kind": "youtube#playlistItem", "id": fmt.Sprintf("item%d", from+i),
				"snippet":        map[string]any{"title": title, "position": from + i, "resourceId": map[string]string{"kind": "youtube#video", "videoId": it.ID}},
				"contentDetails": map[string]string{"videoId": it.ID}})
		}
		return out
	}), 0, true
}

func (p *Provider) youtubeLiked(r *http.Request, lib Library) (any, int, bool) {
	if r.URL.Query().Get("myRating") != "like" {
		return nil, http.StatusBadRequest, false
	}
	return p.youtubePaging(r, "video", len(lib.Liked), func(from, to int) []any {
		var out []any
		for _, it := range lib.Liked[from:to] {
			out = append(out, map[string]any{"kind": "youtube#video", "id": it.ID, "snippet": map[string]any{"title": it.Title},
				"contentDetails": map[string]string{"duration": fmt.Sprintf("PT%dM%dS", it.DurationMS/60000, it.DurationMS/1000%60)}})
		}
		return out
	}), 0, true
}

// soundcloudPaging is a linked_partitioning answer for items[from:to] of n,
// the cursor in next_href's query.
func (p *Provider) soundcloudPaging(r *http.Request, n int, items func(from, to int) []any) any {
	offset, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	from, to, more := p.window(r, offset, n)
	page := map[string]any{"collection": items(from, to)}
	if more {
		q := r.URL.Query()
		q.Set("cursor", strconv.Itoa(to))
		page["next_href"] = p.base(r) + r.URL.Path + "?" + q.Encode()
	}
	return page
}

func soundcloudTrack(it Item) any {
	return map[string]any{"kind": "track", "id": it.ID, "urn": "soundcloud:tracks:" + it.ID, "title": it.Title, "duration": it.DurationMS,
		"permalink_url": it.URL, "user": map[string]string{"username": strings.Join(it.Artists, ", ")}}
}

func (p *Provider) soundcloudPlaylists(r *http.Request, lib Library) (any, int, bool) {
	return p.soundcloudPaging(r, len(lib.Playlists), func(from, to int) []any {
		var out []any
		for _, pl := range lib.Playlists[from:to] {
			id, err := strconv.Atoi(pl.ID) // SoundCloud's IDs are numbers
			var jsonID any = id
			if err != nil {
				jsonID = pl.ID
			}
			out = append(out, map[string]any{"kind": "playlist", "id": jsonID, "title": pl.Name, "track_count": len(pl.Items)})
		}
		return out
	}), 0, true
}

func (p *Provider) soundcloudPlaylistTracks(r *http.Request, lib Library) (any, int, bool) {
	pl, ok := findPlaylist(lib, r.PathValue("id"))
	if !ok {
		return nil, http.StatusNotFound, false
	}
	return p.soundcloudPaging(r, len(pl.Items), func(from, to int) []any {
		var out []any
		for _, it := range pl.Items[from:to] {
			out = append(out, soundcloudTrack(it))
		}
		return out
	}), 0, true
}

func (p *Provider) soundcloudLiked(r *http.Request, lib Library) (any, int, bool) {
	return p.soundcloudPaging(r, len(lib.Liked), func(from, to int) []any {
		var out []any
		for _, it := range lib.Liked[from:to] {
			out = append(out, soundcloudTrack(it))
		}
		return out
	}), 0, true
}
