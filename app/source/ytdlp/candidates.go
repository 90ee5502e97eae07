package ytdlp

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/mirror"
)

// maxCandidates bounds n in Candidates.
const maxCandidates = 20

// Candidates asks YouTube, through yt-dlp's "ytsearchN:" input, for up to n
// videos matching query, listed without resolving each (--flat-playlist).
// The query goes after "--" as yt-dlp's only input, stripped of control
// characters.
func (r *Resolver) Candidates(ctx context.Context, query string, n int) ([]mirror.Candidate, error) {
	query = strings.TrimSpace(strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, query))
	if query == "" || len(query) > music.MaxCacheKeyLen {
		return nil, music.Errorf(music.EINVALID, "That search is empty or too long.")
	}
	n = min(max(n, 1), maxCandidates)
	input := "ytsearch" + strconv.Itoa(n) + ":" + query
	out, err := r.runCounted(ctx, func(cookies string) []string {
		return r.withCommon(flatListArgs(), cookies, input)
	})
	if err != nil {
		return nil, searchFailed(err, query)
	}
	var list struct {
		Entries []struct {
			Title      string      `json:"title"`
			Channel    string      `json:"channel"`
			Uploader   string      `json:"uploader"`
			Duration   float64     `json:"duration"`
			URL        string      `json:"url"`
			Thumbnail  string      `json:"thumbnail"`
			Thumbnails []thumbnail `json:"thumbnails"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		r.failures.add(ReasonOther)
		return nil, &Failure{Reason: ReasonOther, Cause: fmt.Errorf("reading yt-dlp's search JSON: %w", err), Words: query}
	}
	var cands []mirror.Candidate
	for _, e := range list.Entries {
		if _, err := music.ParseAudioURL(e.URL); err != nil {
			continue
		}
		uploader := e.Channel
		if uploader == "" {
			uploader = e.Uploader
		}
		cands = append(cands, mirror.Candidate{Title: e.Title, Uploader: uploader, Duration: time.Duration(max(e.Duration, 0) * float64(time.Second)), URL: e.URL, ArtworkURL: artwork(e.Thumbnail, e.Thumbnails)})
	}
	return cands, nil
}
