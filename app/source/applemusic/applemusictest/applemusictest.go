// Package applemusictest is a test double of the Apple Music API and of
// the iTunes Lookup API: an httptest server on loopback that answers
// /v1/catalog/{storefront}/songs/{id}, /albums/{id} and /playlists/{id}
// (their tracks relationship paged by "next" links to
// /v1/catalog/{storefront}/{kind}/{id}/tracks?offset=N) and /lookup in the
// documented JSON, with Apple's refusals: 401 without the expected bearer
// token, 403 when told, 404 for unknown IDs and for items outside their
// storefronts, 429 with Retry-After on demand.
//
// It is for tests only; it implements no more of either API than the
// applemusic package uses.
package applemusictest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Song is a song as the fake serves it.
type Song struct {
	ID         string
	Name       string
	Artist     string
	Album      string
	DurationMS int64
	ISRC       string
	// Storefronts are where the song is sold; empty means everywhere.
	Storefronts []string
	// Video makes it a music video in a list, which has no song type.
	Video bool
	// Artwork is the API's artwork URL template ({w}x{h} and such); the
	// lookup API serves it as artworkUrl100, sized 100x100. Empty serves
	// no artwork.
	Artwork string
}

// Server is the fake.
type Server struct {
	*httptest.Server
	// PageSize is how many tracks each page of a relationship holds.
	PageSize int

	token    string
	mu       sync.Mutex
	songs    map[string]Song
	lists    map[string][]Song // "albums/ID" or "playlists/ID"
	names    map[string]string // the album's or playlist's name
	forbid   bool
	limits   []int
	requests []string
}

// New starts a fake that expects token as the developer token and closes
// it when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{PageSize: 2, token: token, songs: map[string]Song{}, lists: map[string][]Song{}, names: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/catalog/{storefront}/songs/{id}", s.song)
	mux.HandleFunc("GET /v1/catalog/{storefront}/{kind}/{id}", s.list(false))
	mux.HandleFunc("GET /v1/catalog/{storefront}/{kind}/{id}/tracks", s.list(true))
	mux.HandleFunc("GET /lookup", s.lookup)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// AddSong serves song at /songs/{song.ID} and by lookup.
func (s *Server) AddSong(song Song) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.songs[song.ID] = song
}

// AddList serves an album or playlist; kind is "albums" or "playlists".
// An album's songs are also served by lookup of the album's ID.
func (s *Server) AddList(kind, id, name string, songs []Song) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists[kind+"/"+id] = songs
	s.names[kind+"/"+id] = name
}

// Forbid makes every API answer 403, as for a token Apple revoked.
func (s *Server) Forbid() { s.mu.Lock(); s.forbid = true; s.mu.Unlock() }

// RateLimit makes the next answers 429s with these Retry-After seconds.
func (s *Server) RateLimit(seconds ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, seconds...)
}

// Requests are the requests' paths with their queries, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// admit records the request, answers the refusals due, and reports whether
// it may be answered. The lookup API needs no token.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, needToken bool) bool {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	limit := -1
	if len(s.limits) > 0 {
		limit, s.limits = s.limits[0], s.limits[1:]
	}
	forbid := s.forbid
	s.mu.Unlock()
	switch {
	case limit >= 0:
		w.Header().Set("Retry-After", strconv.Itoa(limit))
		apiError(w, http.StatusTooManyRequests, "API Capacity Exceeded")
	case needToken && r.Header.Get("Authorization") != "Bearer "+s.token:
		apiError(w, http.StatusUnauthorized, "Unauthorized")
	case needToken && forbid:
		apiError(w, http.StatusForbidden, "Forbidden")
	default:
		return true
	}
	return false
}

func (s *Server) song(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, true) {
		return
	}
	s.mu.Lock()
	song, ok := s.songs[r.PathValue("id")]
	s.mu.Unlock()
	if !ok || !song.soldIn(r.PathValue("storefront")) {
		apiError(w, http.StatusNotFound, "Resource Not Found")
		return
	}
	writeJSON(w, map[string]any{"data": []any{resource(song, r.PathValue("storefront"))}})
}

// list answers an album or playlist (its first page of tracks in the
// relationship) or, for tracksPage, a later page of its tracks.
func (s *Server) list(tracksPage bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(w, r, true) {
			return
		}
		kind, id, sf := r.PathValue("kind"), r.PathValue("id"), r.PathValue("storefront")
		s.mu.Lock()
		songs, ok := s.lists[kind+"/"+id]
		name := s.names[kind+"/"+id]
		s.mu.Unlock()
		if !ok || (kind != "albums" && kind != "playlists") {
			apiError(w, http.StatusNotFound, "Resource Not Found")
			return
		}
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		end := min(offset+s.PageSize, len(songs))
		page := map[string]any{"data": []any{}}
		data := []any{}
		for _, song := range songs[min(offset, end):end] {
			data = append(data, resource(song, sf))
		}
		page["data"] = data
		if end < len(songs) {
			page["next"] = fmt.Sprintf("/v1/catalog/%s/%s/%s/tracks?offset=%d", sf, kind, id, end)
		}
		if tracksPage {
			writeJSON(w, page)
			return
		}
		attrs := map[string]any{"name": name}
		if kind == "albums" {
			attrs["trackCount"] = len(songs)
		}
		writeJSON(w, map[string]any{"data": []any{map[string]any{
			"id": id, "type": kind, "href": "/v1/catalog/" + sf + "/" + kind + "/" + id,
			"attributes":    attrs,
			"relationships": map[string]any{"tracks": page},
		}}})
	}
}

// lookup answers the iTunes Lookup API: a song's ID gives the song, an
// album's gives the collection and then its songs.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, false) {
		return
	}
	q := r.URL.Query()
	id, country := q.Get("id"), strings.ToLower(q.Get("country"))
	s.mu.Lock()
	song, isSong := s.songs[id]
	songs, isAlbum := s.lists["albums/"+id]
	name := s.names["albums/"+id]
	s.mu.Unlock()
	results := []any{}
	switch {
	case isSong && song.soldIn(country):
		results = append(results, lookupTrack(song))
	case isAlbum && q.Get("entity") == "song":
		results = append(results, map[string]any{"wrapperType": "collection", "collectionType": "Album", "collectionId": number(id), "collectionName": name, "trackCount": len(songs)})
		for _, song := range songs {
			if song.soldIn(country) && !song.Video {
				results = append(results, lookupTrack(song))
			}
		}
	}
	writeJSON(w, map[string]any{"resultCount": len(results), "results": results})
}

func (song Song) soldIn(storefront string) bool {
	return len(song.Storefronts) == 0 || slices.Contains(song.Storefronts, storefront)
}

func resource(song Song, storefront string) map[string]any {
	kind := "songs"
	if song.Video {
		kind = "music-videos"
	}
	attrs := map[string]any{
		"name": song.Name, "artistName": song.Artist, "albumName": song.Album, "durationInMillis": song.DurationMS,
	}
	if song.Artwork != "" {
		attrs["artwork"] = map[string]any{"url": song.Artwork, "width": 3000, "height": 3000}
	}
	if song.ISRC != "" {
		attrs["isrc"] = song.ISRC
	}
	return map[string]any{"id": song.ID, "type": kind, "href": "/v1/catalog/" + storefront + "/" + kind + "/" + song.ID, "attributes": attrs}
}

func lookupTrack(song Song) map[string]any {
	m := map[string]any{
		"wrapperType": "track", "kind": "song", "trackId": number(song.ID), "trackName": song.Name, "artistName": song.Artist,
		"collectionName": song.Album, "trackTimeMillis": song.DurationMS,
	}
	if song.Artwork != "" {
		m["artworkUrl100"] = strings.NewReplacer("{w}", "100", "{h}", "100").Replace(song.Artwork)
	}
	return m
}

// number is an ID as the lookup API writes it: a JSON number.
func number(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

// apiError answers in Apple Music's error format.
func apiError(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"id": "E2E", "title": title, "status": strconv.Itoa(status), "code": strconv.Itoa(status * 100),
	}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
