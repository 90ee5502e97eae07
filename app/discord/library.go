package discord

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/library"
)

// Library reads the music libraries of users who linked their accounts;
// *library.Library implements it.
type Library interface {
	Playlists(ctx context.Context, user music.UserID, service account.Service) ([]library.Playlist, error)
	PlaylistTracks(ctx context.Context, user music.UserID, service account.Service, id string) ([]music.Track, string, error)
	CollectionTracks(ctx context.Context, user music.UserID, service account.Service, which library.Collection) ([]music.Track, string, error)
}

var _ Library = (*library.Library)(nil)

// playlistsTTL is how long a user's playlists are remembered for /play's
// autocomplete: long enough to type a name, short enough to see a new one.
const playlistsTTL = 3 * time.Minute

// userPlaylists remembers each user's playlists per service for
// autocomplete, which must answer within Discord's 3 s.
type userPlaylists struct {
	lib      Library
	accounts Accounts
	now      func() time.Time

	mu     sync.Mutex
	byUser map[music.UserID]map[account.Service]cachedPlaylists
}

type cachedPlaylists struct {
	list []library.Playlist
	at   time.Time
}

func newUserPlaylists(lib Library, accounts Accounts, now func() time.Time) *userPlaylists {
	return &userPlaylists{lib: lib, accounts: accounts, now: now, byUser: map[music.UserID]map[account.Service]cachedPlaylists{}}
}

// list returns the user's playlists at every linked service, in service
// order: those remembered, and those read before ctx ends; a service that
// fails or is late is left out (and asked again at the next keystroke).
func (u *userPlaylists) list(ctx context.Context, user music.UserID) []library.Playlist {
	links, err := u.accounts.Links(ctx, user)
	if err != nil {
		return nil
	}
	now := u.now()
	found := make([][]library.Playlist, len(links))
	var wg sync.WaitGroup
	u.mu.Lock()
	for i, l := range links {
		if c, ok := u.byUser[user][l.Service]; ok && now.Sub(c.at) < playlistsTTL {
			found[i] = c.list
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			list, err := u.lib.Playlists(ctx, user, l.Service)
			if err == nil {
				u.remember(user, l.Service, list, now)
				found[i] = list
			}
		}()
	}
	u.mu.Unlock()
	wg.Wait()
	var all []library.Playlist
	for _, list := range found {
		all = append(all, list...)
	}
	return all
}

func (u *userPlaylists) remember(user music.UserID, service account.Service, list []library.Playlist, at time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, services := range u.byUser { // forget the stale, so memory follows use
		for s, c := range services {
			if at.Sub(c.at) >= playlistsTTL {
				delete(services, s)
			}
		}
		if len(services) == 0 {
			delete(u.byUser, id)
		}
	}
	if u.byUser[user] == nil {
		u.byUser[user] = map[account.Service]cachedPlaylists{}
	}
	u.byUser[user][service] = cachedPlaylists{list: list, at: at}
}

// Suggest answers /play playlist:'s autocomplete: the caller's playlists
// whose name holds what they typed, shown "Spotify · Road trip (42)", the
// value naming the service and the playlist.
func (u *userPlaylists) Suggest(ctx context.Context, r *Request, typed string) []Choice {
	want := strings.ToLower(strings.TrimSpace(typed))
	var choices []Choice
	for _, p := range u.list(ctx, r.User) {
		value := playlistValue(p.Service, p.ID)
		if len(choices) == maxChoices || len(value) > maxChoiceLen {
			continue
		}
		if !strings.Contains(strings.ToLower(p.Name), want) {
			continue
		}
		suffix := fmt.Sprintf(" (%d)", p.Tracks)
		name := p.Service.Title() + " · " + music.Truncate(p.Name, maxChoiceLen-len([]rune(p.Service.Title()))-3-len(suffix)) + suffix
		choices = append(choices, Choice{Name: name, Value: value})
	}
	return choices
}

// playlistValue is the autocomplete value of a playlist: "spotify:ID".
func playlistValue(service account.Service, id string) string {
	return string(service) + ":" + id
}

// parsePlaylistValue reads a playlistValue.
func parsePlaylistValue(v string) (account.Service, string, error) {
	s, id, ok := strings.Cut(v, ":")
	service := account.Service(s)
	if !ok || id == "" || service.Validate() != nil {
		return "", "", music.Errorf(music.EINVALID, "Pick one of your playlists from the list that opens as you type playlist:.")
	}
	return service, id, nil
}

// libraryOptions are /play's options for a linked user's library.
func libraryOptions(playlists *userPlaylists) []Option {
	var collections, services []string
	for _, c := range library.Collections {
		collections = append(collections, string(c))
	}
	for _, s := range account.Services {
		services = append(services, string(s))
	}
	return []Option{
		{Name: "source", Description: "Your liked or top tracks at a service you linked with /link", Type: String, Choices: collections},
		{Name: "playlist", Description: "One of your playlists at a service you linked with /link", Type: String, MaxLength: 200, Autocomplete: playlists.Suggest},
		{Name: "service", Description: "The linked service source: reads (default: your /settings source, or your only link)", Type: String, Choices: services},
	}
}

// errLinkFirst answers library options from a user with no link.
var errLinkFirst = music.Errorf(music.EINVALID, "You have not linked a music account: link your account with /link first.")

// libraryTracks reads the tracks /play source: or playlist: names, ready
// for the queue, with a note on what was left out.
func (h *Handlers) libraryTracks(ctx context.Context, r *Request) ([]music.Track, string, error) {
	if h.Library == nil || h.Accounts == nil {
		return nil, "", errNoLinking
	}
	var tracks []music.Track
	var note string
	var err error
	if v := r.String("playlist"); v != "" {
		service, id, perr := parsePlaylistValue(v)
		if perr != nil {
			return nil, "", perr
		}
		tracks, note, err = h.Library.PlaylistTracks(ctx, r.User, service, id)
	} else {
		service, serr := h.libraryService(ctx, r)
		if serr != nil {
			return nil, "", serr
		}
		tracks, note, err = h.Library.CollectionTracks(ctx, r.User, service, library.Collection(r.String("source")))
	}
	if err != nil {
		return nil, "", err
	}
	if err := claim(tracks, r.User); err != nil {
		return nil, "", err
	}
	return tracks, note, nil
}

// libraryService is the service /play source: reads: the one named, else
// the user's /settings source when they linked it, else their only link.
func (h *Handlers) libraryService(ctx context.Context, r *Request) (account.Service, error) {
	if s := r.String("service"); s != "" {
		return account.Service(s), nil
	}
	links, err := h.Accounts.Links(ctx, r.User)
	if err != nil {
		return "", fmt.Errorf("listing links: %w", err)
	}
	switch len(links) {
	case 0:
		return "", errLinkFirst
	case 1:
		return links[0].Service, nil
	}
	if h.Preferences != nil {
		prefs, err := h.Preferences.Preferences(ctx, r.User)
		if err != nil {
			return "", fmt.Errorf("reading preferences: %w", err)
		}
		for _, l := range links {
			if string(l.Service) == prefs.Source {
				return l.Service, nil
			}
		}
	}
	var names []string
	for _, l := range links {
		names = append(names, string(l.Service))
	}
	return "", music.Errorf(music.EINVALID, "You linked several services: add service: (%s) to say which one.", strings.Join(names, ", "))
}

// playLibrary queues a linked user's playlist or liked or top tracks, in
// their order, as /play queues a link's.
func (h *Handlers) playLibrary(ctx context.Context, r *Request, p *play) (Reply, error) {
	tracks, note, err := h.libraryTracks(ctx, r)
	if err != nil {
		return Reply{}, err
	}
	return h.enqueueList(ctx, r, p, tracks, note)
}
