package library

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/ytdlp"
)

// youtubePageSize is the largest maxResults the Data API accepts.
const youtubePageSize = 50

// youtubeReader reads the YouTube Data API v3: playlists?mine=true,
// playlistItems and videos?myRating=like. YouTube has no top tracks.
type youtubeReader struct{}

// youtubePage is a Data API list answer.
type youtubePage struct {
	Items         []json.RawMessage `json:"items"`
	NextPageToken string            `json:"nextPageToken"`
	PageInfo      struct {
		TotalResults int `json:"totalResults"`
	} `json:"pageInfo"`
}

// youtubePages reads path's pages by page token until max items, the last
// page or an error, handing each item to take, which reports whether it
// kept it. The items kept so far are reported to ctx's progress after each
// page.
func youtubePages(ctx context.Context, c *caller, what, path string, q url.Values, max int, take func(json.RawMessage) (bool, error)) (total int, more bool, err error) {
	kept := 0
	q.Set("maxResults", strconv.Itoa(youtubePageSize))
	for n := 0; n < maxPages; n++ {
		var page youtubePage
		if err := c.get(ctx, what, c.endpoint(path, q), &page); err != nil {
			return 0, false, err
		}
		total = page.PageInfo.TotalResults
		for i, raw := range page.Items {
			if kept == max {
				return total, true, nil
			}
			ok, err := take(raw)
			if err != nil {
				return 0, false, fmt.Errorf("decoding a YouTube %s item %d: %w", what, i, err)
			}
			if ok {
				kept++
			}
		}
		music.ReportProgress(ctx, kept, min(total, max))
		if page.NextPageToken == "" || len(page.Items) == 0 {
			return total, false, nil
		}
		if kept == max {
			return total, true, nil
		}
		q.Set("pageToken", page.NextPageToken)
	}
	return total, true, nil
}

func (youtubeReader) playlists(ctx context.Context, c *caller, max int) ([]Playlist, error) {
	var out []Playlist
	q := url.Values{"part": {"snippet,contentDetails"}, "mine": {"true"}}
	_, _, err := youtubePages(ctx, c, "playlists", "/youtube/v3/playlists", q, max, func(raw json.RawMessage) (bool, error) {
		var p struct {
			ID      string `json:"id"`
			Snippet struct {
				Title string `json:"title"`
			} `json:"snippet"`
			ContentDetails struct {
				ItemCount int `json:"itemCount"`
			} `json:"contentDetails"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.ID == "" {
			return false, err
		}
		out = append(out, Playlist{Service: c.service, ID: p.ID, Name: p.Snippet.Title, Tracks: p.ContentDetails.ItemCount})
		return true, nil
	})
	return out, err
}

// youtubeGone are the titles YouTube gives playlist items whose video can
// no longer be watched.
var youtubeGone = map[string]bool{"Private video": true, "Deleted video": true}

func (youtubeReader) playlist(ctx context.Context, c *caller, id string, max int) (entries, error) {
	var es entries
	skipped := 0
	q := url.Values{"part": {"snippet,contentDetails"}, "playlistId": {id}}
	total, more, err := youtubePages(ctx, c, "playlist", "/youtube/v3/playlistItems", q, max, func(raw json.RawMessage) (bool, error) {
		var it struct {
			Snippet        youtubeSnippet `json:"snippet"`
			ContentDetails struct {
				VideoID string `json:"videoId"`
			} `json:"contentDetails"`
		}
		if err := json.Unmarshal(raw, &it); err != nil {
			return false, err
		}
		if it.ContentDetails.VideoID == "" || youtubeGone[it.Snippet.Title] {
			skipped++
			return false, nil
		}
		es.items = append(es.items, youtubeEntry(it.ContentDetails.VideoID, it.Snippet, 0))
		return true, nil
	})
	if err != nil {
		return entries{}, err
	}
	es.total, es.more = total-skipped, more
	return es, nil
}

func (youtubeReader) collection(ctx context.Context, c *caller, which Collection, max int) (entries, error) {
	if which != Liked {
		return entries{}, noTop(c.service)
	}
	var es entries
	q := url.Values{"part": {"snippet,contentDetails"}, "myRating": {"like"}}
	total, more, err := youtubePages(ctx, c, "liked videos", "/youtube/v3/videos", q, max, func(raw json.RawMessage) (bool, error) {
		var v struct {
			ID             string         `json:"id"`
			Snippet        youtubeSnippet `json:"snippet"`
			ContentDetails struct {
				Duration string `json:"duration"`
			} `json:"contentDetails"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.ID == "" {
			return false, err
		}
		es.items = append(es.items, youtubeEntry(v.ID, v.Snippet, isoDuration(v.ContentDetails.Duration)))
		return true, nil
	})
	if err != nil {
		return entries{}, err
	}
	es.total, es.more = total, more
	return es, nil
}

// youtubeSnippet is the part of a video's or playlist item's snippet that
// TimmyBot reads.
type youtubeSnippet struct {
	Title      string `json:"title"`
	Thumbnails map[string]struct {
		URL string `json:"url"`
	} `json:"thumbnails"`
}

// youtubeThumbnailSizes are the snippet's thumbnail keys, largest first.
var youtubeThumbnailSizes = []string{"maxres", "standard", "high", "medium", "default"}

// artwork is the largest thumbnail that can be shown, or "".
func (s youtubeSnippet) artwork() string {
	for _, size := range youtubeThumbnailSizes {
		if u := music.Artwork(s.Thumbnails[size].URL); u != "" {
			return u
		}
	}
	return ""
}

// youtubeEntry is a video as a page track: its watch URL, which yt-dlp
// plays as it does a pasted YouTube link.
func youtubeEntry(videoID string, s youtubeSnippet, d time.Duration) entry {
	u := "https://www.youtube.com/watch?v=" + url.QueryEscape(videoID)
	return entry{page: &music.Track{Title: music.Truncate(s.Title, music.MaxTitleLen), URL: u, Duration: d, Source: ytdlp.Source, ArtworkURL: s.artwork()}}
}

var isoDurationPattern = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`)

// isoDuration reads the ISO 8601 durations the Data API gives videos
// ("PT1H2M3S"); zero for anything else (live streams say "P0D").
func isoDuration(s string) time.Duration {
	m := isoDurationPattern.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		n, _ := strconv.Atoi(m[i+1])
		d += time.Duration(n) * unit
	}
	return d
}
