package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/source/deezer/deezertest"
	"github.com/iddv/timmybot/app/source/mirror"
)

// echoSearch finds, for any words, one video titled as the words, as a
// search site would for a song it has.
type echoSearch struct{}

func (echoSearch) Search(_ context.Context, query string, _ int) ([]mirror.Candidate, error) {
	if strings.HasPrefix(query, `"`) { // an ISRC: no hit, so the words are searched
		return nil, nil
	}
	return []mirror.Candidate{{Title: query, URL: "https://www.youtube.com/watch?v=" + url.QueryEscape(query)}}, nil
}

// toFake sends every request to the fake's host instead of the catalog's.
type toFake struct{ fake *url.URL }

func (t toFake) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = t.fake.Scheme, t.fake.Host
	return http.DefaultTransport.RoundTrip(req)
}

// The link resolver serve builds takes TIMMYBOT_MAX_PLAYLIST_TRACKS: a
// Deezer playlist longer than the limit is cut, with a note.
func TestLinkResolverKeepsTheListLimit(t *testing.T) {
	fake := deezertest.New(t)
	fake.AddList("playlist", "908622995", []deezertest.Track{
		{ID: 1, Title: "First Light", Artist: "Ada", Duration: 180},
		{ID: 2, Title: "Second Wind", Artist: "Ada", Duration: 200},
		{ID: 3, Title: "Third Time", Artist: "Ada", Duration: 220},
	})
	fakeURL, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	finder, err := mirror.New(mirror.Config{Searcher: echoSearch{}})
	if err != nil {
		t.Fatal(err)
	}
	resolver, err := newLinkResolver(config{MaxListTracks: 2}, finder, &http.Client{Transport: toFake{fakeURL}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tracks, note, err := resolver.Resolve(t.Context(), "https://www.deezer.com/playlist/908622995")
	if err != nil {
		t.Fatal(err)
	}
	if len(tracks) != 2 || tracks[0].Title != "Ada - First Light" {
		t.Errorf("resolved %+v, want the first 2 tracks", tracks)
	}
	if want := "Only the first 2 of its 3 tracks were taken (the limit is 2)."; !strings.Contains(note, want) {
		t.Errorf("note %q, want it to say %q", note, want)
	}
}
