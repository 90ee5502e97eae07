package spotifytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// embedCap is how many tracks Spotify's embed page lists at most.
const embedCap = 100

// page is a raw embed page set by SetEmbedPage.
type page struct {
	status int
	body   []byte
}

// embed serves /embed/{kind}/{id} as open.spotify.com does: the entity in
// the page's Next.js data, or Next.js's 404 page.
func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	kind, id := r.PathValue("kind"), r.PathValue("id")
	s.mu.Lock()
	s.embeds = append(s.embeds, r.URL.Path)
	raw, isRaw := s.pages[kind+"/"+id]
	entity, ok := s.entity(kind, id)
	s.mu.Unlock()
	switch {
	case isRaw:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(raw.status)
		_, _ = w.Write(raw.body)
	case !ok:
		writeEmbed(w, http.StatusNotFound, "Page not found", map[string]any{
			"props": map[string]any{"pageProps": map[string]any{"statusCode": 404}}, "page": "/_error", "query": map[string]any{}, "isFallback": false,
		})
	default:
		writeEmbed(w, http.StatusOK, fmt.Sprint(entity["name"]), map[string]any{
			"props": map[string]any{"pageProps": map[string]any{
				"state": map[string]any{
					"data":     map[string]any{"entity": entity, "embeded_entity_uri": "spotify:" + kind + ":" + id},
					"settings": map[string]any{"rtl": false, "session": map[string]any{"isAnonymous": true}},
				},
				"config": map[string]any{"correlationId": "fake"},
			}},
			"page": "/" + kind + "/[id]", "query": map[string]any{"id": id}, "buildId": "fake", "isFallback": false, "gssp": true,
		})
	}
}

// entity is the embed entity of kind/id, false when the page is not
// public. The caller holds s.mu.
func (s *Server) entity(kind, id string) (map[string]any, bool) {
	base := map[string]any{"type": kind, "id": id, "uri": "spotify:" + kind + ":" + id}
	switch kind {
	case "track":
		t, ok := s.tracks[id]
		if !ok {
			return nil, false
		}
		artists := make([]any, len(t.Artists))
		for i, a := range t.Artists {
			artists[i] = map[string]any{"name": a, "uri": "spotify:artist:" + strings.ReplaceAll(a, " ", "")}
		}
		base["name"], base["title"], base["artists"] = t.Name, t.Name, artists
		base["duration"], base["isPlayable"], base["isExplicit"] = t.DurationMS, true, false
		base["releaseDate"] = map[string]any{"isoString": "2026-01-01T00:00:00Z"}
		return base, true
	case "album":
		tracks, ok := s.albums[id]
		if !ok {
			return nil, false
		}
		items := make([]*Track, len(tracks))
		for i := range tracks {
			items[i] = &tracks[i]
		}
		subtitle := ""
		if len(tracks) > 0 {
			subtitle = strings.Join(tracks[0].Artists, ", ")
		}
		base["name"], base["title"], base["subtitle"], base["trackList"] = "Album "+id, "Album "+id, subtitle, trackList(items)
		return base, true
	case "playlist":
		items, ok := s.playlists[id]
		if !ok || s.private[id] {
			return nil, false
		}
		base["name"], base["title"], base["subtitle"], base["trackList"] = "Playlist "+id, "Playlist "+id, "Owner", trackList(items)
		return base, true
	}
	return nil, false
}

// trackList is the entity's trackList: removed tracks left out, episodes
// as episodes, at most embedCap entries.
func trackList(items []*Track) []any {
	out := []any{}
	for _, t := range items {
		if len(out) == embedCap {
			break
		}
		if t == nil {
			continue
		}
		entry := map[string]any{
			"uri": "spotify:track:" + t.ID, "uid": "uid-" + t.ID, "title": t.Name, "subtitle": strings.Join(t.Artists, ", "),
			"duration": t.DurationMS, "isExplicit": false, "isPlayable": true, "entityType": "track",
			"audioPreview": map[string]any{"format": "MP3_96", "url": "https://p.scdn.co/mp3-preview/" + t.ID},
		}
		if t.Episode {
			entry["uri"], entry["entityType"] = "spotify:episode:"+t.ID, "episode"
		}
		out = append(out, entry)
	}
	return out
}

// writeEmbed writes an HTML page carrying data as Next.js does: in a
// <script id="__NEXT_DATA__" type="application/json">, "<" escaped.
func writeEmbed(w http.ResponseWriter, status int, title string, data any) {
	var script bytes.Buffer
	_ = json.NewEncoder(&script).Encode(data) // escapes <, > and & as \u003c...
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>%s</title><script src="/embed/_next/static/chunks/main.js" defer=""></script></head>`+
		`<body><div id="__next"><div class="embed"></div></div><script id="__NEXT_DATA__" type="application/json">%s</script></body></html>`,
		html.EscapeString(title), bytes.TrimSpace(script.Bytes()))
}
