package discord

import (
	"container/list"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/iddv/timmybot/app/music"
)

// Searcher finds tracks by words: yt-dlp's search of a site.
type Searcher interface {
	Search(ctx context.Context, words string, n int) ([]music.Track, error)
}

// Bounds of the recent searches that autocomplete draws on.
const (
	recentSearchesSize = 256
	recentSearchesTTL  = 30 * time.Minute
	// suggestMinRunes is how much must be typed before autocomplete
	// starts a search of its own.
	suggestMinRunes = 3
	// maxSuggestions is how many choices autocomplete offers.
	maxSuggestions = 10
	// autocompleteResults is how many results an autocomplete search asks for.
	autocompleteResults = 5
	// autocompleteSearches bounds the searches autocomplete runs at once,
	// since Discord asks at nearly every keystroke: /play and /search keep
	// the searcher's other slots.
	autocompleteSearches = 2
	// autocompleteSearchTimeout bounds an autocomplete search, which may
	// outlive the answer it was started for.
	autocompleteSearchTimeout = 15 * time.Second
)

// recentSearches is a searcher that remembers its recent answers, least
// recently used first out, each for recentSearchesTTL, so that autocomplete
// can answer from memory within Discord's deadline.
type recentSearches struct {
	search Searcher
	now    func() time.Time
	// suggesting holds a token per autocomplete search running.
	suggesting chan struct{}
	// searching owns the autocomplete searches, which run on after the
	// answer they were started for: close stops and waits for them.
	searching context.Context
	stop      context.CancelFunc
	running   sync.WaitGroup

	mu      sync.Mutex
	order   *list.List // of *recentSearch, most recently used at the front
	byWords map[string]*list.Element
}

type recentSearch struct {
	words  string // normalised
	tracks []music.Track
	at     time.Time
}

func newRecentSearches(s Searcher, now func() time.Time) *recentSearches {
	ctx, stop := context.WithCancel(context.Background())
	return &recentSearches{
		search: s, now: now, suggesting: make(chan struct{}, autocompleteSearches),
		searching: ctx, stop: stop,
		order: list.New(), byWords: make(map[string]*list.Element),
	}
}

// close stops the autocomplete searches still running and waits for them.
func (c *recentSearches) close() {
	c.stop()
	c.running.Wait()
}

// normalise is the cache key of words: lower case, single spaces.
func normalise(words string) string {
	return strings.Join(strings.Fields(strings.ToLower(words)), " ")
}

// Search searches and remembers the answer.
func (c *recentSearches) Search(ctx context.Context, words string, n int) ([]music.Track, error) {
	tracks, err := c.search.Search(ctx, words, n)
	if err != nil {
		return nil, err
	}
	c.remember(normalise(words), tracks)
	return tracks, nil
}

// Find answers words with their remembered search when it found at least n
// tracks, and searches otherwise: whoever sends what autocomplete has just
// searched for waits for no second search.
func (c *recentSearches) Find(ctx context.Context, words string, n int) ([]music.Track, error) {
	if tracks, exact := c.cached(normalise(words)); exact && len(tracks) >= n {
		return tracks[:n], nil
	}
	return c.Search(ctx, words, n)
}

func (c *recentSearches) remember(words string, tracks []music.Track) {
	if words == "" || len(tracks) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byWords[words]; ok {
		c.order.Remove(e)
	}
	c.byWords[words] = c.order.PushFront(&recentSearch{words: words, tracks: tracks, at: c.now()})
	for c.order.Len() > recentSearchesSize {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byWords, oldest.Value.(*recentSearch).words)
	}
}

// cached returns the fresh remembered tracks for words: its own search's
// when there was one (exact true), otherwise those of searches one of whose
// words starts with the other's, most recent first.
func (c *recentSearches) cached(words string) (tracks []music.Track, exact bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.byWords[words]; ok && c.fresh(e, now) {
		c.order.MoveToFront(e)
		return e.Value.(*recentSearch).tracks, true
	}
	for e := c.order.Front(); e != nil; {
		next := e.Next()
		if r := e.Value.(*recentSearch); c.fresh(e, now) && (strings.HasPrefix(r.words, words) || strings.HasPrefix(words, r.words)) {
			tracks = append(tracks, r.tracks...)
		}
		e = next
	}
	return tracks, false
}

// fresh reports whether e is young enough, dropping it when it is not.
// c.mu is held.
func (c *recentSearches) fresh(e *list.Element, now time.Time) bool {
	r := e.Value.(*recentSearch)
	if now.Sub(r.at) < recentSearchesTTL {
		return true
	}
	c.order.Remove(e)
	delete(c.byWords, r.words)
	return false
}

// Suggest answers autocomplete for typed: its remembered search, or a new
// one when at least suggestMinRunes are typed and fewer than
// autocompleteSearches run, waited for until ctx ends; when that search is
// not run, fails or is not done by then, what related searches remembered.
// A search not done in time runs on, up to autocompleteSearchTimeout, and
// is remembered: with a search slower than Discord's deadline the next
// keystrokes then find its answer instead of starting again.
func (c *recentSearches) Suggest(ctx context.Context, typed string) []Choice {
	words := normalise(typed)
	if strings.Contains(words, "://") {
		return nil
	}
	tracks, exact := c.cached(words)
	if exact || utf8.RuneCountInString(words) < suggestMinRunes || len(words) > music.MaxURLLen {
		return trackChoices(tracks)
	}
	select {
	case c.suggesting <- struct{}{}:
	default:
		return trackChoices(tracks)
	}
	found := make(chan []music.Track, 1) // nil when the search failed
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		defer func() { <-c.suggesting }()
		ctx, cancel := context.WithTimeout(c.searching, autocompleteSearchTimeout)
		defer cancel()
		tracks, _ := c.Search(ctx, typed, autocompleteResults)
		found <- tracks
	}()
	select {
	case t := <-found:
		if t != nil {
			tracks = t
		}
	case <-ctx.Done():
	}
	return trackChoices(tracks)
}

// trackChoices offers tracks as autocomplete choices whose value is the
// page's URL, without repeats, at most maxSuggestions. Discord limits a
// choice's name and value to 100 characters; longer URLs are left out.
func trackChoices(tracks []music.Track) []Choice {
	seen := map[string]bool{}
	var choices []Choice
	for _, t := range tracks {
		if len(choices) == maxSuggestions {
			break
		}
		if seen[t.URL] || len(t.URL) > maxChoiceLen {
			continue
		}
		seen[t.URL] = true
		name := t.Title
		if t.Duration > 0 {
			name = fmt.Sprintf("%s (%s)", music.Truncate(name, maxChoiceLen-10), formatDuration(t.Duration))
		}
		choices = append(choices, Choice{Name: music.Truncate(name, maxChoiceLen), Value: t.URL})
	}
	return choices
}
