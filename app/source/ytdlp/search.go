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

var _ mirror.Searcher = (*Resolver)(nil)

// maxSearchResults bounds n in Search.
const maxSearchResults = 20

// Search asks YouTube, through yt-dlp's "ytsearchN:" input, for up to n
// videos matching query, listed without resolving each (--flat-playlist).
// The query goes after "--" as yt-dlp's only input, stripped of control
// characters.
func (r *Resolver) Search(ctx context.Context, query string, n int) ([]mirror.Candidate, error) {
	query = strings.TrimSpace(strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, query))
	if query == "" || len(query) > music.MaxCacheKeyLen {
		return nil, music.Errorf(music.EINVALID, "That search is empty or too long.")
	}
	n = min(max(n, 1), maxSearchResults)
	input := "ytsearch" + strconv.Itoa(n) + ":" + query
	out, err := r.run(ctx, func(cookies string) []string {
		args := []string{"--ignore-config", "--flat-playlist", "--dump-single-json", "--no-warnings", "--socket-timeout", "10"}
		if cookies != "" {
			args = append(args, "--cookies", cookies)
		}
		args = append(args, r.cfg.ExtraArgs...)
		return append(args, "--", input)
	})
	if err != nil {
		return nil, err
	}
	var list struct {
		Entries []struct {
			Title    string  `json:"title"`
			Channel  string  `json:"channel"`
			Uploader string  `json:"uploader"`
			Duration float64 `json:"duration"`
			URL      string  `json:"url"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		r.failures.add(ReasonOther)
		return nil, &Failure{Reason: ReasonOther, Cause: fmt.Errorf("reading yt-dlp's search JSON: %w", err)}
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
		cands = append(cands, mirror.Candidate{Title: e.Title, Uploader: uploader, Duration: time.Duration(max(e.Duration, 0) * float64(time.Second)), URL: e.URL})
	}
	return cands, nil
}
