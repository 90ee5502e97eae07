package mirror

import (
	"strings"
	"time"
	"unicode"

	"github.com/iddv/timmybot/app/music"
)

// Scoring weights. A candidate with the recording's title, artist and
// duration scores 4; one must have most of the title and score at least
// threshold. A duration more than durationFar off costs more than the
// artist earns, so another version of the song loses to the original.
const (
	titleWeight    = 2.0
	artistWeight   = 1.0
	durationClose  = 5 * time.Second
	durationFar    = 15 * time.Second
	closeBonus     = 1.0
	farPenalty     = 1.5
	unknownPenalty = 0.25
	versionPenalty = 2.0
	minTitle       = 0.5
	threshold      = 2.6
)

// versionWords mark another version of a song; they cost a candidate its
// match unless the recording's own title has them.
var versionWords = []string{"live", "cover", "remix", "karaoke", "instrumental", "nightcore", "acoustic", "slowed", "reverb", "sped", "8d", "mashup", "reaction"}

// choose returns the best-scoring candidate above the threshold; ties go
// to the earlier, which the searcher ranked higher.
func choose(r music.Recording, cands []Candidate) (Candidate, bool) {
	var best Candidate
	bestScore, found := 0.0, false
	for _, c := range cands {
		if c.URL == "" {
			continue
		}
		if s, ok := score(r, c); ok && (!found || s > bestScore) {
			best, bestScore, found = c, s, true
		}
	}
	return best, found
}

// score rates c as a match for r; ok is false below the threshold.
func score(r music.Recording, c Candidate) (float64, bool) {
	candText := c.Title + " " + c.Uploader
	have := set(tokens(candText))
	title := overlap(tokens(coreTitle(r.Title)), have)
	artist := 0.0
	for _, a := range r.Artists {
		if compact(a) != "" && strings.Contains(compact(candText), compact(a)) {
			artist = 1
			break
		}
		artist = max(artist, overlap(tokens(a), have))
	}
	s := titleWeight*title + artistWeight*artist
	switch diff := (c.Duration - r.Duration).Abs(); {
	case c.Duration == 0 || r.Duration == 0:
		s -= unknownPenalty
	case diff <= durationClose:
		s += closeBonus
	case diff > durationFar:
		s -= farPenalty
	}
	own := set(tokens(r.Title))
	for _, w := range versionWords {
		if have[w] && !own[w] {
			s -= versionPenalty
		}
	}
	return s, title >= minTitle && s >= threshold
}

// coreTitle drops what Spotify and Deezer append to a title (" - Remastered
// 2011", " (feat. X)") and uploads rarely repeat.
func coreTitle(title string) string {
	if i := strings.Index(title, " - "); i > 0 {
		title = title[:i]
	}
	if i := strings.IndexAny(title, "(["); i > 0 {
		title = title[:i]
	}
	return title
}

// overlap is the share of want's tokens that have holds.
func overlap(want []string, have map[string]bool) float64 {
	if len(want) == 0 {
		return 0
	}
	n := 0
	for _, w := range want {
		if have[w] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func set(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// compact is s lowercased without spaces or punctuation, so that an artist
// is found in channel names such as "RickAstleyVEVO".
func compact(s string) string {
	return strings.Join(tokens(s), "")
}
