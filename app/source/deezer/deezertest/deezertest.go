// Package deezertest is a test double of Deezer's public API: an httptest
// server on loopback that answers /track/{id}, /album/{id}/tracks and
// /playlist/{id}/tracks in Deezer's documented JSON, paged by index and
// limit, with its refusals as Deezer sends them: HTTP 200 and an "error"
// object (800 "no data" for unknown IDs, 4 "Quota limit exceeded" on
// demand).
//
// It is for tests only; it implements no more of Deezer than the deezer
// package uses.
package deezertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// Track is a track as the fake serves it.
type Track struct {
	ID         int64
	Title      string
	Artist     string
	Featuring  []string // further contributors, served only by /track/{id}
	Duration   int      // seconds
	ISRC       string
	Unreadable bool // not available in the listener's country
	// CoverXL and CoverBig are the album's cover URLs, served as the
	// track's album object when set; MD5Image is the track's image hash.
	CoverXL, CoverBig, MD5Image string
}

// Server is the fake.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	tracks   map[string]Track
	lists    map[string][]Track // "album/ID" or "playlist/ID"
	quota    int                // the next answers that are quota errors
	requests []string
}

// New starts a fake and closes it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{tracks: map[string]Track{}, lists: map[string][]Track{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /track/{id}", s.track)
	mux.HandleFunc("GET /album/{id}/tracks", s.list("album"))
	mux.HandleFunc("GET /playlist/{id}/tracks", s.list("playlist"))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// AddTrack serves t at /track/{t.ID}.
func (s *Server) AddTrack(t Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tracks[strconv.FormatInt(t.ID, 10)] = t
}

// AddList serves tracks at /{kind}/{id}/tracks; kind is "album" or "playlist".
func (s *Server) AddList(kind, id string, tracks []Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists[kind+"/"+id] = tracks
}

// ExceedQuota makes the next n answers Deezer's quota error.
func (s *Server) ExceedQuota(n int) { s.mu.Lock(); s.quota += n; s.mu.Unlock() }

// Requests are the requests' paths with their queries, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// admit records the request and reports whether it may be answered.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	over := s.quota > 0
	if over {
		s.quota--
	}
	s.mu.Unlock()
	if over {
		writeJSON(w, map[string]any{"error": map[string]any{"type": "Exception", "message": "Quota limit exceeded", "code": 4}})
	}
	return !over
}

func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	s.mu.Lock()
	t, ok := s.tracks[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		noData(w)
		return
	}
	m := object(t)
	contributors := []any{map[string]any{"id": 1, "name": t.Artist, "role": "Main"}}
	for _, f := range t.Featuring {
		contributors = append(contributors, map[string]any{"id": 2, "name": f, "role": "Featured"})
	}
	m["contributors"] = contributors
	writeJSON(w, m)
}

func (s *Server) list(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(w, r) {
			return
		}
		s.mu.Lock()
		tracks, ok := s.lists[kind+"/"+r.PathValue("id")]
		s.mu.Unlock()
		if !ok {
			noData(w)
			return
		}
		index, _ := strconv.Atoi(r.URL.Query().Get("index"))
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit < 1 {
			limit = 25
		}
		end := min(index+limit, len(tracks))
		data := []any{}
		for i := index; i < end; i++ {
			data = append(data, object(tracks[i]))
		}
		page := map[string]any{"data": data, "total": len(tracks)}
		if end < len(tracks) {
			page["next"] = fmt.Sprintf("https://api.deezer.com%s?limit=%d&index=%d", r.URL.Path, limit, end)
		}
		writeJSON(w, page)
	}
}

func object(t Track) map[string]any {
	m := map[string]any{
		"id": t.ID, "readable": !t.Unreadable, "title": t.Title, "title_short": t.Title,
		"isrc": t.ISRC, "duration": t.Duration, "type": "track",
		"artist": map[string]any{"id": 1, "name": t.Artist, "type": "artist"},
	}
	if t.MD5Image != "" {
		m["md5_image"] = t.MD5Image
	}
	if t.CoverXL != "" || t.CoverBig != "" {
		m["album"] = map[string]any{"id": 1, "title": t.Title, "cover_xl": t.CoverXL, "cover_big": t.CoverBig, "type": "album"}
	}
	return m
}

func noData(w http.ResponseWriter) {
	writeJSON(w, map[string]any{"error": map[string]any{"type": "DataException", "message": "no data", "code": 800}})
}

// writeJSON answers 200, as Deezer does even for its errors.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
