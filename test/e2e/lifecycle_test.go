package e2e

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/fakediscord"
)

// awaitHeld waits until the fake holds a request or handshake of the bot.
func awaitHeld(t *testing.T, fake *fakediscord.Server, b *bot) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fake.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Held > 0 }); err != nil {
		t.Fatalf("the bot never reached the stalled step: %v\n%s", err, b.logs)
	}
}

func TestStopSignalDuringStartUpEndsTheProcessAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stall func(fake *fakediscord.Server) // never released
	}{
		{"GET /gateway stalls", func(fake *fakediscord.Server) {
			fake.InjectFault(fakediscord.Fault{Route: "GET /gateway", Hold: make(chan struct{})})
		}},
		{"gateway handshake stalls", func(fake *fakediscord.Server) { fake.HoldGateway(make(chan struct{})) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakediscord.New(t, fakediscord.Options{})
			tt.stall(fake)
			b := launchBot(t, fake, t.TempDir())
			awaitHeld(t, fake, b)
			start := time.Now()
			if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := b.exitCode(t, 2*time.Second); code != 0 {
				t.Errorf("exit status %d after SIGTERM, want 0\n%s", code, b.logs)
			}
			t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestStartUpRetriesWhileDiscordFails(t *testing.T) {
	t.Parallel()
	fake := fakediscord.New(t, fakediscord.Options{})
	release := make(chan struct{})
	// 503, not 502: discordgo repeats a 502 itself before the bot sees it.
	fake.InjectFault(fakediscord.Fault{Route: "GET /gateway", Status: http.StatusServiceUnavailable, Hold: release})
	b := launchBot(t, fake, t.TempDir())
	awaitHeld(t, fake, b)
	// Discord is out of reach: the process is healthy, not ready.
	if code := b.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while the gateway is unreachable, want 200", code)
	}
	if code := b.get(t, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while the gateway is unreachable, want 503", code)
	}
	close(release) // the held request fails with 503; the retry succeeds
	select {
	case <-b.registered:
	case err := <-b.exited:
		t.Fatalf("timmybot exited instead of retrying: %v\n%s", err, b.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("the bot did not connect after Discord recovered:\n%s", b.logs)
	}
	if code := b.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d after the retry connected", code)
	}
	if !strings.Contains(b.logs.String(), "retrying") {
		t.Errorf("the failed attempt was not logged:\n%s", b.logs)
	}
}

func TestStartUpStopsWhereRetryingCannotHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		token    string // the bot's token; empty: the one the fake accepts
		refuse   int    // close code of the first IDENTIFY
		wantCode int
		want     []string
	}{
		{name: "token refused at IDENTIFY", refuse: fakediscord.CloseAuthFailed, wantCode: 2,
			want: []string{"DISCORD_TOKEN", "4004", "Reset Token"}},
		{name: "token refused over REST", token: "revoked-token-value", wantCode: 2,
			want: []string{"DISCORD_TOKEN", "HTTP 401", "Reset Token"}},
		{name: "disallowed intents", refuse: fakediscord.CloseDisallowedIntents, wantCode: 2,
			want: []string{"intents", "4014", "Developer Portal"}},
		{name: "invalid intents", refuse: fakediscord.CloseInvalidIntents, wantCode: 2,
			want: []string{"intents", "4013", "Developer Portal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakediscord.New(t, fakediscord.Options{})
			if tt.refuse != 0 {
				fake.RefuseNextIdentify(tt.refuse)
			}
			token := fake.Token()
			if tt.token != "" {
				token = tt.token
			}
			b := launchBot(t, fake, t.TempDir(), "DISCORD_TOKEN="+token)
			if code := b.exitCode(t, 5*time.Second); code != tt.wantCode {
				t.Errorf("exit status %d, want %d", code, tt.wantCode)
			}
			logs := b.logs.String()
			for _, want := range tt.want {
				if !strings.Contains(logs, want) {
					t.Errorf("the output lacks %q:\n%s", want, logs)
				}
			}
			if strings.Contains(logs, token) {
				t.Errorf("the bot token appears in the output:\n%s", logs)
			}
			if st := fake.Stats(); st.Connections+st.Unauthorized > 1 {
				t.Errorf("retried a refusal: %d gateway connections, %d unauthorized requests", st.Connections, st.Unauthorized)
			}
		})
	}
}
