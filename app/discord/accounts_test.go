package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

// TestAccountCommands runs /link, the provider's approval and the callback,
// then /account, /unlink, /link again and /forget-me, checking the token
// file after each and that no secret reaches the log.
func TestAccountCommands(t *testing.T) {
	ctx := context.Background()
	const user music.UserID = "100000000000000001"
	tokens := accounttest.OpenTokens(t)
	provider := accounttest.New(t)
	var sent dms
	var log bytes.Buffer
	clock := storetest.NewClock()
	linker, err := account.New(account.Config{
		Providers:   map[account.Service]account.Provider{account.Spotify: provider.Describe(account.Spotify)},
		Tokens:      tokens,
		RedirectURI: "http://127.0.0.1:8080" + account.CallbackPath,
		Notifier:    &sent,
		Now:         clock.Now,
		Logger:      slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("account.New: %v", err)
	}
	h := &Handlers{Accounts: linker}
	run := func(command string, options map[string]any) string {
		t.Helper()
		cmd, ok := findCommand(h.Commands(), command)
		if !ok {
			t.Fatalf("no /%s", command)
		}
		reply, err := cmd.Run(ctx, &Request{User: user, Command: command, options: options})
		if err != nil {
			return "error: " + music.ErrorMessage(err)
		}
		if !reply.Ephemeral {
			t.Fatalf("/%s answered in public: %q", command, reply.Content)
		}
		return reply.Content
	}
	linkSpotify := func() {
		t.Helper()
		reply := run("link", map[string]any{"service": "spotify"})
		authURL := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(reply)
		if authURL == nil {
			t.Fatalf("/link answered %q, want an authorization URL", reply)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(authURL[1])
		if err != nil {
			t.Fatalf("authorizing: %v", err)
		}
		resp.Body.Close()
		rec := httptest.NewRecorder()
		linker.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("callback = %d %s", rec.Code, rec.Body)
		}
	}
	stored := func() int {
		t.Helper()
		links, err := tokens.Links(ctx, user)
		if err != nil {
			t.Fatalf("Links: %v", err)
		}
		return len(links)
	}

	linkSpotify()
	if _, tok, err := tokens.Load(ctx, user, account.Spotify); err != nil || tok.AccessToken == "" {
		t.Fatalf("after the callback: %+v, %v; want stored tokens", tok, err)
	}
	steps := []struct {
		name    string
		command string
		options map[string]any
		says    string
		stored  int
	}{
		{"account lists the link", "account", nil, "**Spotify**: Ada's music, since " + clock.Now().UTC().Format("2006-01-02") +
			"; access: `playlist-read-private`, `playlist-read-collaborative`, `user-library-read`, `user-top-read`", 1},
		{"an unconfigured service", "link", map[string]any{"service": "youtube"}, "error: Linking YouTube is not set up on this bot.", 1},
		{"unlink", "unlink", map[string]any{"service": "spotify"}, "unlinked and its tokens are deleted. To end TimmyBot's access at Spotify as well, remove it in your Spotify account's settings.", 0},
		{"unlink again", "unlink", map[string]any{"service": "spotify"}, "error: No Spotify account is linked.", 0},
		{"account after unlinking", "account", nil, "You have linked no music account.", 0},
		{"forget-me with a link", "forget-me", nil, "Deleted everything TimmyBot kept for you:\n• 1 account link and its tokens: Spotify (Ada's music)\n", 0},
		{"forget-me again", "forget-me", nil, "there was nothing to delete", 0},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.name == "forget-me with a link" {
				linkSpotify()
			}
			if got := run(step.command, step.options); !strings.Contains(got, step.says) {
				t.Fatalf("/%s = %q, want %q", step.command, got, step.says)
			}
			if n := stored(); n != step.stored {
				t.Fatalf("%d links stored, want %d", n, step.stored)
			}
		})
	}
	for _, secret := range provider.Issued() {
		if strings.Contains(log.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// TestAccountCommandsWithoutLinking runs the account commands on a bot
// without linking configured (TestForgetMe covers /forget-me, which works).
func TestAccountCommandsWithoutLinking(t *testing.T) {
	h := &Handlers{}
	for _, name := range []string{"link", "account", "unlink"} {
		t.Run(name, func(t *testing.T) {
			cmd, _ := findCommand(h.Commands(), name)
			_, err := cmd.Run(context.Background(), &Request{User: "100000000000000001", options: map[string]any{"service": "spotify"}})
			if music.ErrorMessage(err) != "Account linking is not set up on this bot." {
				t.Fatalf("/%s: %v", name, err)
			}
		})
	}
}

// TestForgetMe runs /forget-me with and without linking set up: it deletes
// the user's links, playlists and settings, takes their name off the
// tracks they queued and their part out of access requests, says what it
// deleted, and leaves another user's alone.
func TestForgetMe(t *testing.T) {
	const other music.UserID = "300"
	const asked = "500" // guilds 5000, 5001, ...; the other user asks in 5000
	tests := []struct {
		name      string
		linking   bool
		playlists int
		settings  bool
		queued    int
		requests  int
		says      string
	}{
		{"everything, with linking", true, 2, true, 2, 1, "Deleted everything TimmyBot kept for you:\n• 1 account link and its tokens: Spotify (Ada)\n• 2 saved playlists\n• your settings" +
			"\n• your name on 2 queued tracks, which stay in the queue\n• your part in 1 access request"},
		{"without linking", false, 1, true, 0, 0, "Deleted everything TimmyBot kept for you:\n• no account links\n• 1 saved playlist\n• your settings"},
		{"a link only", true, 0, false, 0, 0, "• 1 account link and its tokens: Spotify (Ada)\n• 0 saved playlists\n• no settings (you had saved none)"},
		{"queued tracks and requests only", false, 0, false, 1, 2, "Deleted everything TimmyBot kept for you:\n• no account links\n• 0 saved playlists\n• no settings (you had saved none)" +
			"\n• your name on 1 queued track, which stays in the queue\n• your part in 2 access requests"},
		{"nothing saved", false, 0, false, 0, 0, "TimmyBot kept no account link, playlist, settings, queued track or access request of yours: there was nothing to delete."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h, store := userHandlers(t)
			h.Allowlist, h.Requesters = store, store
			tokens := accounttest.OpenTokens(t)
			if tt.linking {
				linker, err := account.New(account.Config{Tokens: tokens, RedirectURI: "http://127.0.0.1:8080" + account.CallbackPath, Notifier: &dms{}})
				if err != nil {
					t.Fatalf("account.New: %v", err)
				}
				h.Accounts = linker
				if err := tokens.Save(ctx, account.Link{User: testUser, Service: account.Spotify, AccountName: "Ada"}, account.Token{AccessToken: "a", RefreshToken: "r"}); err != nil {
					t.Fatalf("Save: %v", err)
				}
			}
			for _, user := range []music.UserID{testUser, other} {
				n := tt.playlists
				if user == other {
					n = 1
				}
				for i := range n {
					p := music.SavedPlaylist{User: user, Name: fmt.Sprint("list ", i), Tracks: []music.Track{{Title: "t", URL: "https://audio.example/t.mp3"}}}
					if err := store.SavePlaylist(ctx, p, false); err != nil {
						t.Fatalf("SavePlaylist: %v", err)
					}
				}
				if tt.settings || user == other {
					if err := store.SetPreferences(ctx, music.Preferences{User: user, Volume: 50}); err != nil {
						t.Fatalf("SetPreferences: %v", err)
					}
				}
			}
			for i := range tt.queued + 1 {
				by := testUser
				if i == tt.queued {
					by = other
				}
				if _, err := store.Enqueue(ctx, testGuild, music.Track{Title: fmt.Sprint("t", i), URL: "https://audio.example/t.mp3", RequestedBy: by}); err != nil {
					t.Fatalf("Enqueue: %v", err)
				}
			}
			ask := func(guild music.GuildID, user music.UserID) {
				t.Helper()
				if _, err := store.RequestAccess(ctx, music.Ask{Guild: guild, Asker: music.Asker{User: user, Reason: "why"}}); err != nil {
					t.Fatalf("RequestAccess: %v", err)
				}
			}
			for i := range tt.requests {
				ask(music.GuildID(fmt.Sprint(asked, i)), testUser)
			}
			ask(asked+"0", other)

			cmd, _ := findCommand(h.Commands(), "forget-me")
			if text, code := run(t, cmd.Run, testUser, nil); code != "" || !strings.HasSuffix(text, tt.says) {
				t.Fatalf("/forget-me = %q (%s), want it to end %q", text, code, tt.says)
			}
			for _, user := range []music.UserID{testUser, other} {
				lists, err := store.Playlists(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				prefs, err := store.Preferences(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				links, err := tokens.Links(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				kept := user == other
				if (len(lists) > 0) != kept || (prefs.Volume != 0) != kept || len(links) != 0 {
					t.Errorf("after /forget-me user %s has %d playlists, settings %+v, %d links; want kept: %v", user, len(lists), prefs, len(links), kept)
				}
			}
			page, err := store.Page(ctx, testGuild, 0, music.MaxPageLimit)
			if err != nil {
				t.Fatal(err)
			}
			var by []music.UserID
			for _, e := range page.Entries {
				by = append(by, e.Track.RequestedBy)
			}
			if want := append(make([]music.UserID, tt.queued), other); !slices.Equal(by, want) {
				t.Errorf("after /forget-me the queue's requesters are %q, want %q", by, want)
			}
			reqs, err := store.Requests(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != 1 || reqs[0].Guild != asked+"0" || len(reqs[0].Askers) != 1 || reqs[0].Askers[0].User != other {
				t.Errorf("after /forget-me the access requests are %+v, want only the other user's", reqs)
			}
		})
	}
}

// forgetting is the queues' and the allowlist's part of /forget-me: it
// records whom it was asked to forget, and answers n or err.
type forgetting struct {
	music.AllowlistStore
	n     int
	err   error
	asked *[]string
}

func (f forgetting) ForgetRequester(_ context.Context, user music.UserID) (int, error) {
	*f.asked = append(*f.asked, "requester "+string(user))
	return f.n, f.err
}

func (f forgetting) ForgetAsker(_ context.Context, user music.UserID) (int, error) {
	*f.asked = append(*f.asked, "asker "+string(user))
	return f.n, f.err
}

// TestForgetMeAsksQueuesAndAllowlist runs /forget-me against stores that
// only count: both are asked about the caller, their counts are what the
// reply says, and a failure of either fails the command rather than
// claiming all was deleted.
func TestForgetMeAsksQueuesAndAllowlist(t *testing.T) {
	down := music.Errorf(music.EUNAVAILABLE, "The music database cannot be reached right now; try again in a moment.")
	tests := []struct {
		name                 string
		queues, allowlist    forgetting
		says, wantErrContext string
	}{
		{"both forget", forgetting{n: 3}, forgetting{n: 1}, "Deleted everything TimmyBot kept for you:\n• no account links\n• 0 saved playlists\n• no settings (you had saved none)" +
			"\n• your name on 3 queued tracks, which stay in the queue\n• your part in 1 access request", ""},
		{"only the queues had some", forgetting{n: 1}, forgetting{}, "• no settings (you had saved none)\n• your name on 1 queued track, which stays in the queue", ""},
		{"the queues fail", forgetting{err: down}, forgetting{}, "", "forgetting who queued a user's tracks"},
		{"the allowlist fails", forgetting{}, forgetting{err: down}, "", "forgetting a user's access requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			tt.queues.asked, tt.allowlist.asked = &asked, &asked
			h := &Handlers{Requesters: tt.queues, Allowlist: tt.allowlist}
			cmd, _ := findCommand(h.Commands(), "forget-me")
			reply, err := cmd.Run(context.Background(), &Request{User: testUser})
			if tt.wantErrContext != "" {
				if !errors.Is(err, down) || !strings.Contains(err.Error(), tt.wantErrContext) {
					t.Fatalf("/forget-me = %q, %v; want the store's failure within %q", reply.Content, err, tt.wantErrContext)
				}
				return
			}
			if err != nil || !reply.Ephemeral || !strings.HasSuffix(reply.Content, tt.says) {
				t.Fatalf("/forget-me = %+v, %v; want a private reply ending %q", reply, err, tt.says)
			}
			if want := []string{"requester " + string(testUser), "asker " + string(testUser)}; !slices.Equal(asked, want) {
				t.Errorf("the stores were asked %q, want %q", asked, want)
			}
		})
	}
}

func findCommand(cmds []Command, name string) (Command, bool) {
	for _, c := range cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}
