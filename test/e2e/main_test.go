// Package e2e runs the real timmybot binary against a local fake Discord,
// its web front in headless Chromium included.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/fakediscord"
	"github.com/iddv/timmybot/test/fakevoice"
)

// botBinary is the timmybot binary TestMain builds once for all tests.
var botBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "timmybot-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	botBinary = filepath.Join(dir, "timmybot")
	build := exec.Command("go", "build", "-o", botBinary, "github.com/iddv/timmybot/app/cmd/timmybot")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building timmybot:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	ownerID  = "400000000000000001"
	memberID = "400000000000000002"
)

// bot is a running timmybot process.
type bot struct {
	cmd      *exec.Cmd
	logs     *lockedBuffer // stderr
	stdout   *lockedBuffer
	httpAddr string
	dataDir  string
	exited   chan error
	// registered is closed when the bot logged its commands' registration.
	registered chan struct{}
}

// lockedBuffer collects the bot's log while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the configuration every test bot runs with.
func botEnv(fake *fakediscord.Server, dataDir string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"DISCORD_TOKEN=" + fake.Token(),
		"TIMMYBOT_DISCORD_API_URL=" + fake.URL(),
		"TIMMYBOT_OWNER_IDS=" + ownerID,
		"TIMMYBOT_DATA_DIR=" + dataDir,
		"TIMMYBOT_HTTP_ADDR=127.0.0.1:0",
		"TIMMYBOT_LOG_LEVEL=debug",
	}
}

// cli runs a timmybot subcommand to completion and returns its stdout.
func cli(t testing.TB, fake *fakediscord.Server, dataDir string, extraEnv []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(botBinary, args...)
	cmd.Env = append(botEnv(fake, dataDir), extraEnv...)
	cmd.Dir = dataDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("timmybot %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// listeningAddr finds the HTTP address in the bot's "http listening" log
// line, in text or JSON format.
var listeningAddr = regexp.MustCompile(`"?msg"?[=:]"http listening".*"?addr"?[=:]"?([0-9.]+:[0-9]+)`)

// startBot runs `timmybot serve` against fake and waits until its commands
// are registered and /readyz answers. The process is stopped with SIGTERM
// when the test ends, and must exit cleanly.
func startBot(t testing.TB, fake *fakediscord.Server, dataDir string, extraEnv ...string) *bot {
	t.Helper()
	b := launchBot(t, fake, dataDir, extraEnv...)
	select {
	case <-b.registered:
	case <-time.After(20 * time.Second):
		t.Fatalf("commands were not registered:\n%s", b.logs)
	}
	if code := b.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d after registration", code)
	}
	return b
}

// launchBot runs `timmybot serve` against fake and waits until its HTTP
// server listens. Unless the test stops it, it is stopped with SIGTERM when
// the test ends and must exit cleanly.
func launchBot(t testing.TB, fake *fakediscord.Server, dataDir string, extraEnv ...string) *bot {
	t.Helper()
	cmd := exec.Command(botBinary, "serve")
	cmd.Env = append(botEnv(fake, dataDir), extraEnv...)
	cmd.Dir = dataDir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &bot{cmd: cmd, logs: &lockedBuffer{}, stdout: &lockedBuffer{}, dataDir: dataDir, exited: make(chan error, 1), registered: make(chan struct{})}
	cmd.Stdout = b.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(b.logs, line)
			if m := listeningAddr.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
			if strings.Contains(line, "slash commands registered") {
				close(b.registered)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { <-copied; b.exited <- cmd.Wait() }()
	t.Cleanup(func() { b.stop(t) })

	select {
	case b.httpAddr = <-addr:
	case err := <-b.exited:
		b.exited <- err
		select {
		case b.httpAddr = <-addr: // it listened, then exited: the test looks at why
			return b
		default:
		}
		t.Fatalf("timmybot exited before listening: %v\n%s", err, b.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("timmybot did not start listening:\n%s", b.logs)
	}
	return b
}

func (b *bot) get(t testing.TB, path string) int {
	t.Helper()
	code, _ := b.fetch(t, path)
	return code
}

func (b *bot) fetch(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + b.httpAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// stop sends SIGTERM and checks for a clean exit.
func (b *bot) stop(t testing.TB) {
	t.Helper()
	if b.cmd.ProcessState != nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.exited:
		if err != nil {
			t.Errorf("timmybot exited with %v\n%s", err, b.logs)
		}
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		t.Errorf("timmybot did not stop within 15 s of SIGTERM\n%s", b.logs)
	}
}

// exitCode waits for the process to end by itself within limit and
// returns its exit status.
func (b *bot) exitCode(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case err := <-b.exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("waiting for timmybot: %v", err)
		}
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		_ = b.cmd.Process.Kill()
		t.Fatalf("timmybot still running after %v\n%s", limit, b.logs)
		return -1
	}
}

// harness is a fake Discord with a bot connected to it and one approved
// guild, a voice server, and an audio host whose every path is a long
// silent Opus track (the title is the path's last element).
type harness struct {
	fake     *fakediscord.Server
	bot      *bot
	approved fakediscord.Guild
	voice    *fakevoice.Server
	music    string // the audio host's base URL
}

// setup is what a harness starts with besides the defaults.
type setup struct {
	discord fakediscord.Options
	voice   fakevoice.Config
	env     []string
	// voiceChannelID names the approved guild's voice channel. Default: a
	// new snowflake.
	voiceChannelID string
	// secondVoiceChannel gives the approved guild a second voice channel,
	// "Stage", after the one the member is in.
	secondVoiceChannel bool
	// defaultPolicy runs the bot with the default fetch policy, which
	// reaches no loopback address, instead of allowing the local audio
	// hosts on 127.0.0.1.
	defaultPolicy bool
}

func newHarness(t testing.TB, extraEnv ...string) *harness {
	t.Helper()
	return startHarness(t, setup{env: extraEnv})
}

func startHarness(t testing.TB, s setup) *harness {
	t.Helper()
	fv := fakevoice.Start(t, s.voice)
	ca := filepath.Join(t.TempDir(), "voice-ca.pem")
	if err := os.WriteFile(ca, fv.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.discord.HeartbeatInterval == 0 {
		s.discord.HeartbeatInterval = time.Second
	}
	s.discord.VoiceEndpoint = fv.Endpoint()
	fake := fakediscord.New(t, s.discord)
	h := &harness{fake: fake, voice: fv, music: silenceHost(t)}
	approved := fakediscord.Guild{Name: "Approved"}
	if s.voiceChannelID != "" || s.secondVoiceChannel {
		approved.Channels = []fakediscord.Channel{
			{Name: "general", Type: fakediscord.ChannelText},
			{ID: s.voiceChannelID, Name: "Lounge", Type: fakediscord.ChannelVoice},
		}
	}
	if s.secondVoiceChannel {
		approved.Channels = append(approved.Channels, fakediscord.Channel{Name: "Stage", Type: fakediscord.ChannelVoice})
	}
	h.approved = h.addGuild(t, approved)
	dataDir := t.TempDir()
	// The bot trusts the fake voice server and may fetch from loopback.
	env := []string{"SSL_CERT_FILE=" + ca}
	if !s.defaultPolicy {
		env = append(env, "TIMMYBOT_ALLOW_NETWORKS=127.0.0.1/32")
	}
	env = append(env, s.env...)
	if out := cli(t, fake, dataDir, env, "allowlist", "approve", h.approved.ID); !strings.Contains(out, "approved "+h.approved.ID) {
		t.Fatalf("allowlist approve printed %q", out)
	}
	h.bot = startBot(t, fake, dataDir, env...)
	return h
}

// addGuild adds a guild with the member in its voice channel.
func (h *harness) addGuild(t testing.TB, g fakediscord.Guild) fakediscord.Guild {
	t.Helper()
	g = h.fake.AddGuild(g)
	if err := h.fake.SetVoiceState(g.ID, memberID, voiceChannel(g)); err != nil {
		t.Fatal(err)
	}
	return g
}

// ytdlpWait bounds a wait for audio that yt-dlp resolves first: it starts
// in about two seconds on a quiet machine and takes several times that on
// a loaded CI runner.
const ytdlpWait = 45 * time.Second

// waitYtdlpFrames waits until the bot has sent n frames of a track that
// yt-dlp resolves.
func (h *harness) waitYtdlpFrames(t testing.TB, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ytdlpWait)
	defer cancel()
	if err := h.voice.WaitFrames(ctx, n); err != nil {
		t.Fatalf("the bot sent %d frames, want %d: %v\n%s", len(h.voice.Frames()), n, err, h.bot.logs)
	}
}

// track is the URL of a silent track on the harness's audio host.
func (h *harness) track(path string) string { return h.music + "/" + path }

func voiceChannel(g fakediscord.Guild) string {
	for _, c := range g.Channels {
		if c.Type == fakediscord.ChannelVoice {
			return c.ID
		}
	}
	return ""
}

// do runs a slash command as a user and returns the bot's final message.
func (h *harness) do(t testing.TB, guild, user, name string, opts ...fakediscord.Option) fakediscord.Message {
	t.Helper()
	return h.respond(t, fakediscord.Slash{GuildID: guild, UserID: user, Name: name, Options: opts}).Message
}

func (h *harness) respond(t testing.TB, s fakediscord.Slash) fakediscord.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.fake.Interact(ctx, s)
	if err != nil {
		t.Fatalf("/%s: %v\nbot log:\n%s", s.Name, err, h.bot.logs)
	}
	return resp
}

func opt(name string, v any) fakediscord.Option { return fakediscord.Option{Name: name, Value: v} }
