// Package spotifytest is a test double of Spotify's accounts service, Web
// API and embed pages: an httptest server on loopback that issues
// client-credentials tokens and answers /v1/tracks/{id},
// /v1/albums/{id}/tracks and /v1/playlists/{id}/items in Spotify's
// documented JSON, with its refusals: 401 for a bad or expired token, 403
// for what a development-mode app may not read, 404 for unknown IDs, 429
// with Retry-After on demand. /embed/{track,album,playlist}/{id} serves the
// same catalog as the public embed page does: HTML whose Next.js data
// script holds the entity with at most 100 tracks, 404 for private
// playlists and unknown IDs.
//
// It is for tests only; it implements no more of Spotify than the spotify
// package uses.
package spotifytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Track is a track as the fake serves it.
type Track struct {
	ID         string
	Name       string
	Artists    []string
	DurationMS int64
	ISRC       string // served only in full track objects, as Spotify does
	Episode    bool   // served as a podcast episode in playlists
	// AlbumImages are the URLs of the album's images, widest first, served
	// only in full track objects, as Spotify does.
	AlbumImages []string
}

// Server is the fake. Set its fields before the first request; read the
// counters after.
type Server struct {
	*httptest.Server
	ClientID, ClientSecret string

	mu         sync.Mutex
	tracks     map[string]Track
	albums     map[string][]Track
	playlists  map[string][]*Track // nil entries are removed tracks
	forbidden  map[string]bool
	forbidAll  bool
	private    map[string]bool
	editorial  map[string]bool
	pages      map[string]page // raw embed pages by kind/id
	embeds     []string
	rateLimits []int // Retry-After seconds of the next API answers
	tokens     int
	valid      map[string]bool
	requests   []string
	legacy     bool
}

// New starts a fake that accepts the given credentials and closes it when
// the test ends.
func New(t testing.TB, clientID, clientSecret string) *Server {
	t.Helper()
	s := &Server{
		ClientID: clientID, ClientSecret: clientSecret,
		tracks: map[string]Track{}, albums: map[string][]Track{}, playlists: map[string][]*Track{},
		forbidden: map[string]bool{}, valid: map[string]bool{}, private: map[string]bool{}, editorial: map[string]bool{}, pages: map[string]page{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/token", s.token)
	mux.HandleFunc("GET /v1/tracks/{id}", s.track)
	mux.HandleFunc("GET /v1/albums/{id}/tracks", s.album)
	mux.HandleFunc("GET /v1/playlists/{id}/items", s.playlist)
	mux.HandleFunc("GET /embed/{kind}/{id}", s.embed)
	s.Server = httptest.NewServer(s.authorized(mux))
	t.Cleanup(s.Close)
	return s
}

// AddTrack serves t at /v1/tracks/{t.ID}.
func (s *Server) AddTrack(t Track) { s.mu.Lock(); s.tracks[t.ID] = t; s.mu.Unlock() }

// AddAlbum serves tracks at /v1/albums/{id}/tracks.
func (s *Server) AddAlbum(id string, tracks []Track) {
	s.mu.Lock()
	s.albums[id] = tracks
	s.mu.Unlock()
}

// AddPlaylist serves items at /v1/playlists/{id}/items; a nil item is a
// track Spotify no longer has.
func (s *Server) AddPlaylist(id string, items []*Track) {
	s.mu.Lock()
	s.playlists[id] = items
	s.mu.Unlock()
}

// ForbidPlaylist makes the playlist answer 403, as for a development-mode
// app whose owner neither owns nor collaborates on it.
func (s *Server) ForbidPlaylist(id string) { s.mu.Lock(); s.forbidden[id] = true; s.mu.Unlock() }

// ForbidAll makes every API read answer 403, as Spotify answers a
// development-mode app it no longer serves (its owner without Premium).
func (s *Server) ForbidAll(on bool) { s.mu.Lock(); s.forbidAll = on; s.mu.Unlock() }

// EditorialPlaylist makes the API answer 404 for the playlist, as it does
// for Spotify's own playlists to apps made since November 2024; its embed
// page stays public.
func (s *Server) EditorialPlaylist(id string) { s.mu.Lock(); s.editorial[id] = true; s.mu.Unlock() }

// PrivatePlaylist makes the playlist's embed page answer 404, as Spotify's
// does for a private playlist. The API still serves it to its owner.
func (s *Server) PrivatePlaylist(id string) { s.mu.Lock(); s.private[id] = true; s.mu.Unlock() }

// SetEmbedPage serves body with status at /embed/{kind}/{id} instead of
// the page the catalog makes, to stand for pages Spotify changed or broke.
func (s *Server) SetEmbedPage(kind, id string, status int, body []byte) {
	s.mu.Lock()
	s.pages[kind+"/"+id] = page{status, body}
	s.mu.Unlock()
}

// EmbedRequests are the embed pages' paths, in order.
func (s *Server) EmbedRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.embeds...)
}

// LegacyItems makes playlist items carry their track under "track", as
// Spotify's did before 2026, instead of "item".
func (s *Server) LegacyItems(on bool) { s.mu.Lock(); s.legacy = on; s.mu.Unlock() }

// RateLimit makes the next API answers 429s with these Retry-After seconds.
func (s *Server) RateLimit(seconds ...int) {
	s.mu.Lock()
	s.rateLimits = append(s.rateLimits, seconds...)
	s.mu.Unlock()
}

// ExpireTokens makes every token issued so far answer 401.
func (s *Server) ExpireTokens() { s.mu.Lock(); clear(s.valid); s.mu.Unlock() }

// Tokens is how many tokens were issued.
func (s *Server) Tokens() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tokens }

// Requests are the API requests' paths with their queries, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != s.ClientID || secret != s.ClientSecret || r.PostFormValue("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "Invalid client"})
		return
	}
	s.mu.Lock()
	s.tokens++
	tok := "token-" + strconv.Itoa(s.tokens)
	s.valid[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// authorized checks the bearer token and applies rate limits to /v1.
func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RequestURI())
		valid := s.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		forbidAll := s.forbidAll
		limit := -1
		if valid && len(s.rateLimits) > 0 {
			limit, s.rateLimits = s.rateLimits[0], s.rateLimits[1:]
		}
		s.mu.Unlock()
		switch {
		case !valid:
			apiError(w, http.StatusUnauthorized, "The access token expired")
		case limit >= 0:
			w.Header().Set("Retry-After", strconv.Itoa(limit))
			apiError(w, http.StatusTooManyRequests, "API rate limit exceeded")
		case forbidAll:
			apiError(w, http.StatusForbidden, "Forbidden")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t, ok := s.tracks[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "Resource not found")
		return
	}
	writeJSON(w, http.StatusOK, full(t))
}

func (s *Server) album(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	tracks, ok := s.albums[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "Resource not found")
		return
	}
	items := make([]any, len(tracks))
	for i, t := range tracks {
		items[i] = simplified(t)
	}
	writePage(w, r, items)
}

func (s *Server) playlist(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	items, ok := s.playlists[id]
	forbidden := s.forbidden[id]
	ok = ok && !s.editorial[id]
	field := "item"
	if s.legacy {
		field = "track"
	}
	s.mu.Unlock()
	switch {
	case forbidden:
		apiError(w, http.StatusForbidden, "Forbidden")
		return
	case !ok:
		apiError(w, http.StatusNotFound, "Resource not found")
		return
	}
	out := make([]any, len(items))
	for i, t := range items {
		var item any
		switch {
		case t == nil:
		case t.Episode:
			item = map[string]any{"type": "episode", "name": t.Name, "duration_ms": t.DurationMS, "id": t.ID}
		default:
			item = full(*t)
		}
		out[i] = map[string]any{"added_at": "2026-01-01T00:00:00Z", "is_local": false, field: item}
	}
	writePage(w, r, out)
}

// writePage serves the offset/limit page of items as a paging object.
func writePage(w http.ResponseWriter, r *http.Request, items []any) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 50 {
		apiError(w, http.StatusBadRequest, "Invalid limit")
		return
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	end := min(offset+limit, len(items))
	page := []any{}
	if offset < len(items) {
		page = items[offset:end]
	}
	var next any
	if end < len(items) {
		next = fmt.Sprintf("https://api.spotify.com%s?offset=%d&limit=%d", r.URL.Path, end, limit)
	}
	writeJSON(w, http.StatusOK, map[string]any{"href": r.URL.String(), "items": page, "limit": limit, "offset": offset, "total": len(items), "next": next, "previous": nil})
}

func simplified(t Track) map[string]any {
	artists := make([]any, len(t.Artists))
	for i, a := range t.Artists {
		artists[i] = map[string]any{"name": a, "type": "artist"}
	}
	return map[string]any{"type": "track", "id": t.ID, "name": t.Name, "duration_ms": t.DurationMS, "artists": artists, "uri": "spotify:track:" + t.ID}
}

func full(t Track) map[string]any {
	m := simplified(t)
	m["external_ids"] = map[string]any{"isrc": t.ISRC}
	images := make([]any, len(t.AlbumImages))
	for i, u := range t.AlbumImages {
		side := 640 >> i
		images[i] = map[string]any{"url": u, "width": side, "height": side}
	}
	m["album"] = map[string]any{"type": "album", "name": t.Name, "images": images}
	return m
}

func apiError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
