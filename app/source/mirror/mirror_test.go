package mirror

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// searcher answers queries from a table and records them.
type searcher struct {
	results map[string][]Candidate
	queries []string
	err     error
}

func (s *searcher) Search(_ context.Context, query string, n int) ([]Candidate, error) {
	s.queries = append(s.queries, query)
	if s.err != nil {
		return nil, s.err
	}
	c := s.results[query]
	return c[:min(n, len(c))], nil
}

type entry struct {
	track   music.Track
	expires time.Time
}

// cache is an in-memory music.TrackCache on a settable clock.
type cache struct {
	now     time.Time
	entries map[string]entry
}

func (c *cache) CachedTrack(_ context.Context, key string) (music.Track, error) {
	e, ok := c.entries[key]
	if !ok || !c.now.Before(e.expires) {
		return music.Track{}, music.CacheMiss()
	}
	return e.track, nil
}

func (c *cache) CacheTrack(_ context.Context, key string, t music.Track, expiresAt time.Time) error {
	c.entries[key] = entry{t, expiresAt}
	return nil
}

const sec = time.Second

var (
	rick = music.Recording{Title: "Never Gonna Give You Up", Artists: []string{"Rick Astley"}, Duration: 213573 * time.Millisecond, ISRC: "GBARL9300135", Source: "spotify"}
	// An album track: Spotify gives album tracks no ISRC.
	daft = music.Recording{Title: "Harder, Better, Faster, Stronger", Artists: []string{"Daft Punk"}, Duration: 224 * sec, Source: "spotify"}
	// A remaster whose title Spotify decorates.
	queen = music.Recording{Title: "Bohemian Rhapsody - Remastered 2011", Artists: []string{"Queen"}, Duration: 354 * sec, ISRC: "GBUM71029604", Source: "spotify"}
	// A Deezer track that is itself a live recording.
	nirvana = music.Recording{Title: "Lake Of Fire (Live)", Artists: []string{"Nirvana"}, Duration: 174 * sec, ISRC: "USGF19463240", Source: "deezer"}
	// A Deezer track with two artists and accents.
	stromae = music.Recording{Title: "Alors on danse", Artists: []string{"Stromae", "Kanye West"}, Duration: 207 * sec, ISRC: "BE6F51000001", Source: "deezer"}
)

func TestFind(t *testing.T) {
	tests := []struct {
		name        string
		rec         music.Recording
		results     map[string][]Candidate
		wantURL     string
		wantQueries []string
		wantCode    string
	}{
		{
			name: "isrc search finds the topic upload",
			rec:  rick,
			results: map[string][]Candidate{`"GBARL9300135"`: {
				{Title: "Never Gonna Give You Up (Live at Glastonbury)", Uploader: "Rick Astley", Duration: 220 * sec, URL: "live"},
				{Title: "Never Gonna Give You Up", Uploader: "Rick Astley - Topic", Duration: 214 * sec, URL: "topic"},
			}},
			wantURL: "topic", wantQueries: []string{`"GBARL9300135"`},
		},
		{
			name: "isrc search finds nothing, text search finds the artist's channel",
			rec:  rick,
			results: map[string][]Candidate{
				`"GBARL9300135"`: {{Title: "GBARL9300135 royalty report", Uploader: "some label", Duration: 60 * sec, URL: "junk"}},
				"Rick Astley - Never Gonna Give You Up": {
					{Title: "Never Gonna Give You Up (cover)", Uploader: "Pianist", Duration: 213 * sec, URL: "cover"},
					{Title: "Never Gonna Give You Up (Official Music Video)", Uploader: "RickAstleyVEVO", URL: "official"},
				},
			},
			wantURL: "official", wantQueries: []string{`"GBARL9300135"`, "Rick Astley - Never Gonna Give You Up"},
		},
		{
			name: "without isrc only the text search runs; the right duration wins over an extended cut",
			rec:  daft,
			results: map[string][]Candidate{"Daft Punk - Harder, Better, Faster, Stronger": {
				{Title: "Daft Punk - Harder Better Faster Stronger (Extended)", Uploader: "fan", Duration: 380 * sec, URL: "extended"},
				{Title: "Harder, Better, Faster, Stronger", Uploader: "Daft Punk", Duration: 226 * sec, URL: "album"},
			}},
			wantURL: "album", wantQueries: []string{"Daft Punk - Harder, Better, Faster, Stronger"},
		},
		{
			name: "remix is refused, the remaster suffix is not needed",
			rec:  queen,
			results: map[string][]Candidate{`"GBUM71029604"`: {
				{Title: "Bohemian Rhapsody (Remix)", Uploader: "DJ", Duration: 352 * sec, URL: "remix"},
				{Title: "Bohemian Rhapsody (Official Video)", Uploader: "Classic Rock Vault", Duration: 359 * sec, URL: "official"},
			}},
			wantURL: "official", wantQueries: []string{`"GBUM71029604"`},
		},
		{
			name: "a live original accepts live uploads",
			rec:  nirvana,
			results: map[string][]Candidate{`"USGF19463240"`: {
				{Title: "Lake Of Fire (Live On MTV Unplugged, 1993)", Uploader: "Nirvana - Topic", Duration: 175 * sec, URL: "unplugged"},
			}},
			wantURL: "unplugged", wantQueries: []string{`"USGF19463240"`},
		},
		{
			name: "second artist and unknown duration still match",
			rec:  stromae,
			results: map[string][]Candidate{
				`"BE6F51000001"`: nil,
				"Stromae - Alors on danse": {
					{Title: "Alors on danse (Remix) ft. Kanye West", Uploader: "Stromae", Duration: 207 * sec, URL: "remix"},
					{Title: "Alors On Danse", Uploader: "stromae", URL: "unknown-length"},
				},
			},
			wantURL: "unknown-length", wantQueries: []string{`"BE6F51000001"`, "Stromae - Alors on danse"},
		},
		{
			name: "the right title at the right length needs no artist",
			rec:  daft,
			results: map[string][]Candidate{"Daft Punk - Harder, Better, Faster, Stronger": {
				{Title: "Harder Better Faster Stronger (lyrics)", Uploader: "Lyric Vault", Duration: 225 * sec, URL: "lyrics"},
			}},
			wantURL: "lyrics", wantQueries: []string{"Daft Punk - Harder, Better, Faster, Stronger"},
		},
		{
			name: "the right song at another length: not found",
			rec:  daft,
			results: map[string][]Candidate{"Daft Punk - Harder, Better, Faster, Stronger": {
				{Title: "Daft Punk - Harder Better Faster Stronger (Extended)", Uploader: "Daft Punk", Duration: 380 * sec, URL: "extended"},
			}},
			wantQueries: []string{"Daft Punk - Harder, Better, Faster, Stronger"}, wantCode: music.ENOTFOUND,
		},
		{
			name: "another song by the artist at the same length: not found",
			rec:  stromae,
			results: map[string][]Candidate{"Stromae - Alors on danse": {
				{Title: "Stromae - Santé (on tour)", Uploader: "Stromae", Duration: 207 * sec, URL: "other-song"},
			}},
			wantQueries: []string{`"BE6F51000001"`, "Stromae - Alors on danse"}, wantCode: music.ENOTFOUND,
		},
		{
			name: "only wrong songs: not found",
			rec:  daft,
			results: map[string][]Candidate{"Daft Punk - Harder, Better, Faster, Stronger": {
				{Title: "Daft Punk - One More Time", Uploader: "Daft Punk", Duration: 224 * sec, URL: "other-song"},
				{Title: "Harder Better Faster Stronger karaoke", Uploader: "Sing King", Duration: 224 * sec, URL: "karaoke"},
			}},
			wantQueries: []string{"Daft Punk - Harder, Better, Faster, Stronger"}, wantCode: music.ENOTFOUND,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &searcher{results: tt.results}
			m, err := New(Config{Searcher: s})
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Find(t.Context(), tt.rec)
			if music.ErrorCode(err) != tt.wantCode {
				t.Fatalf("Find error %v, want code %q", err, tt.wantCode)
			}
			if got.URL != tt.wantURL {
				t.Errorf("chose %q, want %q", got.URL, tt.wantURL)
			}
			if diff := cmp.Diff(tt.wantQueries, s.queries); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindTrack(t *testing.T) {
	s := &searcher{results: map[string][]Candidate{`"GBARL9300135"`: {{Title: "Never Gonna Give You Up", Uploader: "Rick Astley - Topic", Duration: 214 * sec, URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}}}}
	m, err := New(Config{Searcher: s})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Find(t.Context(), rick)
	if err != nil {
		t.Fatal(err)
	}
	want := music.Track{Title: "Rick Astley - Never Gonna Give You Up", URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Duration: 214 * sec, Source: "spotify"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("track (-want +got):\n%s", diff)
	}
}

// A mirrored track shows the original's cover; the video's thumbnail only
// when the original has none, also when the match comes from the cache
// that another source's recording filled.
func TestFindArtwork(t *testing.T) {
	const (
		cover = "https://i.scdn.co/image/ab67616d0000b273"
		thumb = "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"
		other = "https://cdn-images.dzcdn.net/images/cover/x/1000x1000.jpg"
	)
	withCover := func(r music.Recording, u string) music.Recording { r.ArtworkURL = u; return r }
	for _, tt := range []struct {
		name       string
		cached     string // artwork of the cached match; "" searches
		rec        music.Recording
		thumbnail  string
		wantArtURL string
	}{
		{name: "the original's cover", rec: withCover(rick, cover), thumbnail: thumb, wantArtURL: cover},
		{name: "the thumbnail when the original has none", rec: rick, thumbnail: thumb, wantArtURL: thumb},
		{name: "none when neither has", rec: rick, wantArtURL: ""},
		{name: "the original's cover over a cached one", cached: other, rec: withCover(rick, cover), wantArtURL: cover},
		{name: "the cached one when the original has none", cached: other, rec: rick, wantArtURL: other},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &cache{now: time.Now(), entries: map[string]entry{}}
			if tt.cached != "" {
				c.entries[cacheKey(rick)] = entry{music.Track{URL: "https://www.youtube.com/watch?v=cached", ArtworkURL: tt.cached}, c.now.Add(time.Hour)}
			}
			s := &searcher{results: map[string][]Candidate{`"GBARL9300135"`: {{Title: "Never Gonna Give You Up", Uploader: "Rick Astley", Duration: 214 * sec, URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", ArtworkURL: tt.thumbnail}}}}
			m, err := New(Config{Searcher: s, Cache: c})
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Find(t.Context(), tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got.ArtworkURL != tt.wantArtURL {
				t.Errorf("ArtworkURL = %q, want %q", got.ArtworkURL, tt.wantArtURL)
			}
		})
	}
}

func TestFindCachesUntilExpiry(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := &cache{now: start, entries: map[string]entry{}}
	s := &searcher{results: map[string][]Candidate{
		`"GBARL9300135"`: {{Title: "Never Gonna Give You Up", Uploader: "Rick Astley", Duration: 214 * sec, URL: "isrc-hit"}},
		"Daft Punk - Harder, Better, Faster, Stronger": {{Title: "Harder, Better, Faster, Stronger", Uploader: "Daft Punk", Duration: 224 * sec, URL: "text-hit"}},
	}}
	m, err := New(Config{Searcher: s, Cache: c, TTL: time.Hour, Now: func() time.Time { return c.now }})
	if err != nil {
		t.Fatal(err)
	}
	deezerRick := rick
	deezerRick.Source = "deezer"
	steps := []struct {
		name         string
		rec          music.Recording
		advance      time.Duration
		wantURL      string
		wantSearches int
	}{
		{name: "first play searches", rec: rick, wantURL: "isrc-hit", wantSearches: 1},
		{name: "second play is cached", rec: rick, advance: 59 * time.Minute, wantURL: "isrc-hit", wantSearches: 1},
		{name: "the same isrc from deezer shares the entry", rec: deezerRick, wantURL: "isrc-hit", wantSearches: 1},
		{name: "after expiry it searches again", rec: rick, advance: time.Minute, wantURL: "isrc-hit", wantSearches: 2},
		{name: "without isrc the text key caches", rec: daft, wantURL: "text-hit", wantSearches: 3},
		{name: "and is read back", rec: daft, wantURL: "text-hit", wantSearches: 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.now = c.now.Add(st.advance)
			got, err := m.Find(t.Context(), st.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != st.wantURL || got.Source != st.rec.Source || len(s.queries) != st.wantSearches {
				t.Errorf("got %q from %q after %d searches, want %q from %q after %d", got.URL, got.Source, len(s.queries), st.wantURL, st.rec.Source, st.wantSearches)
			}
		})
	}
}

func TestFindSearchFailure(t *testing.T) {
	boom := music.Errorf(music.EUNAVAILABLE, "search is down")
	m, err := New(Config{Searcher: &searcher{err: boom}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Find(t.Context(), rick); !errors.Is(err, boom) {
		t.Errorf("Find error %v, want it to wrap %v", err, boom)
	}
}
