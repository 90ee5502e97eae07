package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/library"
	"github.com/iddv/timmybot/app/storetest"
)

// linkedAccounts is an Accounts whose users linked the services listed.
type linkedAccounts map[music.UserID][]account.Service

func (l linkedAccounts) Start(context.Context, music.UserID, account.Service) (string, error) {
	return "", errors.New("not in this test")
}

func (l linkedAccounts) Links(_ context.Context, user music.UserID) ([]account.Link, error) {
	var links []account.Link
	for _, s := range l[user] {
		links = append(links, account.Link{User: user, Service: s})
	}
	return links, nil
}

func (l linkedAccounts) Unlink(context.Context, music.UserID, account.Service) (bool, error) {
	return false, errors.New("not in this test")
}

func (l linkedAccounts) ForgetMe(context.Context, music.UserID) ([]account.Link, error) {
	return nil, errors.New("not in this test")
}

// linkedTokens gives every linked user the fake provider's token.
type linkedTokens struct {
	accounts linkedAccounts
	token    string
}

func (t linkedTokens) AccessToken(_ context.Context, user music.UserID, s account.Service) (string, error) {
	for _, linked := range t.accounts[user] {
		if linked == s {
			return t.token, nil
		}
	}
	return "", music.Errorf(music.ENOTFOUND, "No %s account is linked.", s.Title())
}

func (t linkedTokens) Rejected(_ context.Context, _ music.UserID, s account.Service, _ string) (string, error) {
	return "", music.Errorf(music.EINVALID, "Your %s link no longer works: run /link %s again.", s.Title(), s)
}

// isrcPages mirrors a recording to a page named after its ISRC.
type isrcPages struct{}

func (isrcPages) Find(_ context.Context, r music.Recording) (music.Track, error) {
	return music.Track{Title: r.Name(), URL: "https://www.youtube.com/watch?v=" + r.ISRC, Source: "ytdlp"}, nil
}

// slowLibrary is a Library whose YouTube answers only when the caller
// gives up.
type slowLibrary struct{ Library }

func (s slowLibrary) Playlists(ctx context.Context, user music.UserID, service account.Service) ([]library.Playlist, error) {
	if service == account.YouTube {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Library.Playlists(ctx, user, service)
}

// libraryFixture is handlers with a real Library on the fake providers,
// memberID having linked Spotify and SoundCloud.
type libraryFixture struct {
	h        *Handlers
	provider *accounttest.Provider
	clock    *storetest.Clock
	rt       *Router
	rec      *recorder
}

func newLibraryFixture(t *testing.T, wrap func(Library) Library) *libraryFixture {
	t.Helper()
	p := accounttest.New(t)
	accounts := linkedAccounts{memberID: {account.Spotify, account.SoundCloud}, ownerID: {account.Spotify, account.YouTube, account.SoundCloud}}
	apis := map[account.Service]string{}
	for _, s := range account.Services {
		apis[s] = p.Describe(s).APIURL
	}
	lib, err := library.New(library.Config{Tokens: linkedTokens{accounts, p.AccessToken()}, APIURLs: apis, Finder: isrcPages{}})
	if err != nil {
		t.Fatal(err)
	}
	p.SetLibrary(account.Spotify, accounttest.Library{
		Playlists: []accounttest.Playlist{
			{ID: "road", Name: "Road trip", Items: []accounttest.Item{{Title: "One", Artists: []string{"Ada"}, ISRC: "GBAAA2600001"}, {Title: "Two", Artists: []string{"Ada"}, ISRC: "GBAAA2600002"}}},
			{ID: "gym", Name: "Gym", Items: []accounttest.Item{{Title: "Three", ISRC: "GBAAA2600003"}}},
		},
		Liked: []accounttest.Item{{Title: "Loved", Artists: []string{"Ada"}, ISRC: "GBAAA2600009"}},
	})
	p.SetLibrary(account.SoundCloud, accounttest.Library{
		Playlists: []accounttest.Playlist{{ID: "123", Name: "Road trip, live", Items: []accounttest.Item{{Title: "Live one", URL: "https://soundcloud.com/ada/live-one"}}}},
		Liked:     []accounttest.Item{{Title: "Cloud like", URL: "https://soundcloud.com/ada/cloud-like"}},
	})
	p.SetLibrary(account.YouTube, accounttest.Library{Playlists: []accounttest.Playlist{{ID: "PL1", Name: "Road videos"}}})
	clock := storetest.NewClock()
	var l Library = lib
	if wrap != nil {
		l = wrap(lib)
	}
	h := &Handlers{Now: clock.Now, Accounts: accounts, Library: l, playlists: newUserPlaylists(l, accounts, clock.Now)}
	rt, rec := newHandlersRouter(t, h, approvedGuild)
	return &libraryFixture{h: h, provider: p, clock: clock, rt: rt, rec: rec}
}

func (f *libraryFixture) suggest(t *testing.T, user, typed string) []Choice {
	t.Helper()
	f.rec = newRecorder()
	f.rt.respond = f.rec
	f.rt.HandleInteraction(context.Background(), typingOption(approvedGuild, user, "playlist", typed))
	return suggestions(t, f.rec)
}

func TestPlaylistAutocompleteListsTheCallersPlaylists(t *testing.T) {
	roadSpotify := Choice{Name: "Spotify · Road trip (2)", Value: "spotify:road"}
	gym := Choice{Name: "Spotify · Gym (1)", Value: "spotify:gym"}
	roadCloud := Choice{Name: "SoundCloud · Road trip, live (1)", Value: "soundcloud:123"}
	tests := []struct {
		name  string
		user  string
		typed string
		slow  bool
		want  []Choice
	}{
		{name: "everything, in service order", user: memberID, typed: "", want: []Choice{roadSpotify, gym, roadCloud}},
		{name: "names holding what was typed", user: memberID, typed: "ROAD", want: []Choice{roadSpotify, roadCloud}},
		{name: "a slow service is left out, the others answer in time", user: ownerID, typed: "road", slow: true, want: []Choice{roadSpotify, roadCloud}},
		{name: "a user without links: none", user: "200000000000000099", typed: "", want: []Choice{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wrap func(Library) Library
			if tt.slow {
				wrap = func(l Library) Library { return slowLibrary{l} }
			}
			f := newLibraryFixture(t, wrap)
			f.rt.AutocompleteTimeout = 100 * time.Millisecond
			if diff := cmp.Diff(tt.want, f.suggest(t, tt.user, tt.typed)); diff != "" {
				t.Errorf("choices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlaylistAutocompleteRemembersForAFewMinutes(t *testing.T) {
	f := newLibraryFixture(t, nil)
	f.suggest(t, memberID, "")
	asked := len(f.provider.LibraryRequests())
	if asked != 2 {
		t.Fatalf("%d library requests for the first keystroke, want one per linked service", asked)
	}
	f.clock.Advance(playlistsTTL - time.Second)
	if got := f.suggest(t, memberID, "gym"); len(got) != 1 || len(f.provider.LibraryRequests()) != asked {
		t.Errorf("within the TTL: %v after %d requests, want Gym from memory", got, len(f.provider.LibraryRequests())-asked)
	}
	f.clock.Advance(2 * time.Second)
	f.suggest(t, memberID, "gym")
	if n := len(f.provider.LibraryRequests()); n != asked+2 {
		t.Errorf("after the TTL: %d new requests, want the playlists read again", n-asked)
	}
}

func TestPlayOptionsForTheLibrary(t *testing.T) {
	tests := []struct {
		name    string
		user    string
		options []*discordgo.ApplicationCommandInteractionDataOption
		want    string
	}{
		{"nothing to play", memberID, nil, "Give /play exactly one of query:, source: or playlist:."},
		{"two things to play", memberID, []*discordgo.ApplicationCommandInteractionDataOption{str("query", "https://a.example/x.mp3"), str("source", "liked")}, "Give /play exactly one of query:, source: or playlist:."},
		{"no link", "200000000000000099", []*discordgo.ApplicationCommandInteractionDataOption{str("source", "liked")}, "You have not linked a music account: link your account with /link first."},
		{"a playlist at a service not linked", "200000000000000099", []*discordgo.ApplicationCommandInteractionDataOption{str("playlist", "spotify:road")}, "You have not linked a Spotify account: link your account with /link first."},
		{"several links and no default", memberID, []*discordgo.ApplicationCommandInteractionDataOption{str("source", "liked")}, "You linked several services: add service: (spotify, soundcloud) to say which one."},
		{"typed, not picked", memberID, []*discordgo.ApplicationCommandInteractionDataOption{str("playlist", "Road trip")}, "Pick one of your playlists from the list that opens as you type playlist:."},
		{"top at SoundCloud", memberID, []*discordgo.ApplicationCommandInteractionDataOption{str("source", "top"), str("service", "soundcloud")}, "SoundCloud keeps no top tracks; play source:liked or one of your playlists instead."},
		{"an unknown source", memberID, []*discordgo.ApplicationCommandInteractionDataOption{str("source", "history")}, "Option \"source\" must be one of: liked, top."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLibraryFixture(t, nil)
			f.rt.HandleInteraction(context.Background(), command(approvedGuild, tt.user, "play", tt.options...))
			if got := f.rec.only(t).Data.Content; got != tt.want {
				t.Errorf("answer = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLibraryTracksComeFromTheRightService(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		source  string // the user's /settings source
		options map[string]any
		want    []string
	}{
		{"a picked playlist, in order, mirrored", "", map[string]any{"playlist": "spotify:road"},
			[]string{"Ada - One <https://www.youtube.com/watch?v=GBAAA2600001>", "Ada - Two <https://www.youtube.com/watch?v=GBAAA2600002>"}},
		{"liked at the service named", "", map[string]any{"source": "liked", "service": "soundcloud"},
			[]string{"Cloud like <https://soundcloud.com/ada/cloud-like>"}},
		{"liked at the /settings source", "spotify", map[string]any{"source": "liked"},
			[]string{"Ada - Loved <https://www.youtube.com/watch?v=GBAAA2600009>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLibraryFixture(t, nil)
			f.h.Preferences = fixedPreferences{Source: tt.source}
			tracks, _, err := f.h.libraryTracks(ctx, &Request{Guild: approvedGuild, User: memberID, options: tt.options})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range tracks {
				if tr.RequestedBy != memberID {
					t.Errorf("%q requested by %q", tr.Title, tr.RequestedBy)
				}
				got = append(got, fmt.Sprintf("%s <%s>", tr.Title, tr.URL))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
		})
	}
}

// fixedPreferences is every user's preferences.
type fixedPreferences music.Preferences

func (p fixedPreferences) Preferences(_ context.Context, user music.UserID) (music.Preferences, error) {
	prefs := music.Preferences(p)
	prefs.User = user
	return prefs, nil
}

func (fixedPreferences) SetPreferences(context.Context, music.Preferences) error {
	return errors.New("read only")
}

func (fixedPreferences) DeletePreferences(context.Context, music.UserID) (bool, error) {
	return false, errors.New("read only")
}

func TestPlayWithoutALibraryKeepsItsOptions(t *testing.T) {
	h := &Handlers{}
	cmd, _ := findCommand(h.Commands(), "play")
	var names []string
	for _, o := range cmd.Options {
		names = append(names, o.Name)
	}
	if got := strings.Join(names, ","); got != "query,next" || !cmd.Options[0].Required {
		t.Errorf("/play options = %s (query required: %v), want a required query and next", got, cmd.Options[0].Required)
	}
}
