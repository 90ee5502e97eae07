package spotify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// DefaultEmbedURL serves the public embed pages, /embed/{kind}/{id}.
const DefaultEmbedURL = "https://open.spotify.com"

const (
	// EmbedCap is how many tracks an embed page lists at most.
	EmbedCap = 100
	// maxPage bounds one embed page: a playlist's is ~0.5 MB.
	maxPage = 5 << 20
)

// EmbedNote is what a list read from an embed page tells the user.
var EmbedNote = fmt.Sprintf("Read from Spotify's public embed page: at most %d tracks, matched by artist and title.", EmbedCap)

// The embed page is a Next.js page: its data is the JSON of the script
// below, the entity at props.pageProps.state.data.entity.
var (
	nextDataID = []byte(`id="__NEXT_DATA__"`)
	scriptEnd  = []byte("</script>")
)

// embedPage is the part of an embed page's data that TimmyBot reads.
type embedPage struct {
	Props struct {
		PageProps struct {
			// Status is set on the error pages Next.js serves with 200.
			Status int `json:"status"`
			State  struct {
				Data struct {
					Entity json.RawMessage `json:"entity"`
				} `json:"data"`
			} `json:"state"`
		} `json:"pageProps"`
	} `json:"props"`
}

// embedEntity is a track, album or playlist as the embed page shows it.
// Albums and playlists list their tracks in TrackList; a track is the
// entity itself.
type embedEntity struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"` // a track's artists; a list's owner or artist
	Artists  []struct {
		Name string `json:"name"`
	} `json:"artists"`
	Duration  embedMillis       `json:"duration"`
	TrackList []json.RawMessage `json:"trackList"`
}

// embedTrack is an entry of an entity's track list.
type embedTrack struct {
	URI      string      `json:"uri"` // spotify:track:{id}, or an episode's or local file's
	Title    string      `json:"title"`
	Subtitle string      `json:"subtitle"` // the artists, joined with ", "
	Duration embedMillis `json:"duration"`
}

// embedMillis is a duration the page gives in milliseconds, as a number
// or, in some of Spotify's payloads, as {"totalMilliseconds": n}; anything
// else reads as unknown rather than failing the entry.
type embedMillis time.Duration

func (m *embedMillis) UnmarshalJSON(raw []byte) error {
	var ms float64
	if json.Unmarshal(raw, &ms) != nil {
		var obj struct {
			TotalMilliseconds float64 `json:"totalMilliseconds"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		ms = obj.TotalMilliseconds
	}
	if ms > 0 {
		*m = embedMillis(time.Duration(ms) * time.Millisecond)
	}
	return nil
}

// embed reads up to max tracks of the public embed page of a track, album
// or playlist. Lists carry EmbedNote; a track's list holds it alone.
func (c *Client) embed(ctx context.Context, kind, id string, max int) (music.RecordingList, error) {
	page, err := c.embedPage(ctx, kind, id)
	if err != nil {
		return music.RecordingList{}, err
	}
	entity, err := parseEmbed(page, kind)
	if err != nil {
		return music.RecordingList{}, err
	}
	if kind == music.LinkTrack {
		r, ok := entity.recording()
		if !ok {
			return music.RecordingList{}, fmt.Errorf("embed track without a title: %w", unreadable(kind))
		}
		return music.RecordingList{Recordings: []music.Recording{r}, Total: 1}, nil
	}
	if entity.TrackList == nil {
		return music.RecordingList{}, fmt.Errorf("embed %s without a track list: %w", kind, unreadable(kind))
	}
	list := music.RecordingList{Note: EmbedNote}
	for _, raw := range entity.TrackList {
		r, ok := entry(raw)
		if !ok {
			continue
		}
		list.Total++
		if len(list.Recordings) < max {
			list.Recordings = append(list.Recordings, r)
		}
	}
	// A full page may be a longer list cut by Spotify.
	if len(entity.TrackList) >= EmbedCap {
		list.Total = music.TotalUnknown
	}
	return list, nil
}

// embedPage GETs the embed page of kind/id, at most maxPage bytes.
func (c *Client) embedPage(ctx context.Context, kind, id string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.EmbedURL+"/embed/"+kind+"/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, fmt.Errorf("building a spotify embed request: %w", err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "en")
	resp, err := c.http.Do(req)
	if err != nil {
		if code := music.ErrorCode(err); code != music.EINTERNAL {
			// The guarded client's refusal says why.
			return nil, fmt.Errorf("reading a spotify embed %s: %w", kind, err)
		}
		return nil, fmt.Errorf("reading a spotify embed %s: %w: %w", kind, music.Errorf(music.EUNAVAILABLE, "Spotify cannot be reached right now; try again later."), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest:
		return nil, gone(kind)
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, music.Errorf(music.EUNAVAILABLE, "Spotify is limiting the bot's requests; try again in a minute.")
	case resp.StatusCode != http.StatusOK:
		return nil, music.Errorf(music.EUNAVAILABLE, "Spotify's public page answered with an error (HTTP %d); try again later.", resp.StatusCode)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	if err != nil {
		return nil, fmt.Errorf("reading a spotify embed %s: %w", kind, err)
	}
	if len(page) > maxPage {
		return nil, fmt.Errorf("embed page over %d bytes: %w", maxPage, unreadable(kind))
	}
	return page, nil
}

// parseEmbed finds the entity of kind in an embed page.
func parseEmbed(page []byte, kind string) (embedEntity, error) {
	script, ok := nextData(page)
	if !ok {
		return embedEntity{}, fmt.Errorf("embed page without its data script: %w", unreadable(kind))
	}
	var data embedPage
	if err := json.Unmarshal(script, &data); err != nil {
		return embedEntity{}, fmt.Errorf("decoding an embed page: %w: %w", unreadable(kind), err)
	}
	props := data.Props.PageProps
	raw := props.State.Data.Entity
	if props.Status >= 400 || len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return embedEntity{}, gone(kind)
	}
	var entity embedEntity
	if err := json.Unmarshal(raw, &entity); err != nil {
		return embedEntity{}, fmt.Errorf("decoding an embed entity: %w: %w", unreadable(kind), err)
	}
	if entity.Type != "" && entity.Type != kind {
		return embedEntity{}, fmt.Errorf("embed entity of type %q: %w", entity.Type, unreadable(kind))
	}
	return entity, nil
}

// nextData returns the body of the page's <script id="__NEXT_DATA__">,
// whatever its other attributes: what follows the tag's ">" up to the
// first "</script>", which Next.js's escaping of "<" keeps out of the
// data.
func nextData(page []byte) ([]byte, bool) {
	at := bytes.Index(page, nextDataID)
	if at < 0 {
		return nil, false
	}
	start := bytes.IndexByte(page[at:], '>')
	if start < 0 {
		return nil, false
	}
	body := page[at+start+1:]
	end := bytes.Index(body, scriptEnd)
	if end < 0 {
		return nil, false
	}
	return bytes.TrimSpace(body[:end]), true
}

// recording is a track entity's recording; ok is false without a title.
func (e embedEntity) recording() (music.Recording, bool) {
	r := music.Recording{Title: e.Name, Duration: time.Duration(e.Duration), Source: "spotify"}
	if r.Title == "" {
		r.Title = e.Title
	}
	for _, a := range e.Artists {
		if a.Name != "" {
			r.Artists = append(r.Artists, a.Name)
		}
	}
	if len(r.Artists) == 0 {
		r.Artists = splitArtists(e.Subtitle)
	}
	return r, r.Title != ""
}

// entry is the recording of one entry of a track list; ok is false for what
// cannot be mirrored: an episode, a local file, an entry without a title
// or one that does not decode. An entry Spotify marks unplayable is kept:
// the bot plays a mirror, not Spotify.
func entry(raw json.RawMessage) (music.Recording, bool) {
	var t embedTrack
	if json.Unmarshal(raw, &t) != nil || !strings.HasPrefix(t.URI, "spotify:track:") || t.Title == "" {
		return music.Recording{}, false
	}
	return music.Recording{Title: t.Title, Artists: splitArtists(t.Subtitle), Duration: time.Duration(t.Duration), Source: "spotify"}, true
}

// splitArtists reads the page's comma-joined artists. A name with a comma
// in it ("Tyler, The Creator") splits in two, which the mirror's query and
// scoring survive: the name a user sees joins them again.
func splitArtists(subtitle string) []string {
	var out []string
	for _, a := range strings.Split(subtitle, ", ") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func gone(kind string) error {
	if kind == music.LinkPlaylist {
		return music.Errorf(music.ENOTFOUND, "That playlist is private or gone: Spotify shows no public page for it.")
	}
	return music.Errorf(music.ENOTFOUND, "Spotify has no such %s (it may be removed or not available here).", kind)
}

func unreadable(kind string) error {
	return music.Errorf(music.EUNAVAILABLE, "Spotify's public page for that %s could not be read; try again later.", kind)
}

// fallsBack reports whether err, the API's answer for kind, is one the
// public embed page may get around: a development-mode 403, or a 404 for
// a playlist, which is how the API hides Spotify's own (editorial)
// playlists from apps made since November 2024.
func fallsBack(kind string, err error) bool {
	code := music.ErrorCode(err)
	return code == music.EFORBIDDEN || (code == music.ENOTFOUND && kind == music.LinkPlaylist)
}
