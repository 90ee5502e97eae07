package discord

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/voice"
)

// BotConfig configures a Bot.
type BotConfig struct {
	Token string
	// APIURL is Discord's base URL; tests point it at a local fake.
	// Default: https://discord.com
	APIURL string
	// ApplicationID registers the commands; default: the one READY reports.
	ApplicationID string
	// DevGuild, when set, registers commands in that guild only (instant
	// updates while developing) instead of globally.
	DevGuild  music.GuildID
	Owners    []music.UserID
	Queues    music.QueueStore
	Allowlist music.AllowlistStore
	// Preferences and Playlists keep each user's settings and saved
	// playlists.
	Preferences music.PreferenceStore
	Playlists   music.PlaylistStore
	Observer    observer // optional: receives every interaction's latency
	// LeaveUnapprovedAfter, when positive, makes the bot leave guilds still
	// unapproved this long after it joined them. Default: 0, never leave.
	LeaveUnapprovedAfter time.Duration
	// Playback configures the audio: the pipeline, the idle timeout, the
	// DJ role.
	Playback PlaybackConfig
	// Accounts links users' music accounts. Default: none.
	Accounts Accounts
	// Requesters lets /forget-me remove a user's name from queued tracks.
	// Default: none.
	Requesters Requesters
	Logger     *slog.Logger
}

// Bot is the Discord side of TimmyBot: one gateway session, the command
// router and the handlers.
type Bot struct {
	cfg        BotConfig
	session    *discordgo.Session
	router     *Router
	log        *slog.Logger
	connected  atomic.Bool
	registered atomic.Bool
	voice      voiceRoutes
	audio      *playback
	plays      *plays
	leaver     *leaver         // nil unless LeaveUnapprovedAfter > 0
	recent     *recentSearches // nil without a searcher

	// ctx is the interactions': Close cancels it after the drain.
	ctx    context.Context
	cancel context.CancelFunc
	// gwCtx is the gateway's: connection attempts and the reconnect loop.
	// Close cancels it first; so does the end of Open's context.
	gwCtx      context.Context
	gwCancel   context.CancelFunc
	startup    startupIO
	lost       chan struct{} // the gateway dropped; capacity 1
	failed     chan error    // a final refusal while reconnecting; capacity 1
	keeperDone chan struct{} // closed when the reconnect loop ends; nil before Open succeeded

	mu       sync.Mutex // guards closed and the inFlight.Add that depends on it
	closed   bool
	inFlight sync.WaitGroup
}

// NewBot builds a bot; Open connects it.
func NewBot(cfg BotConfig) (*Bot, error) {
	b := &Bot{cfg: cfg, log: cfg.Logger, lost: make(chan struct{}, 1), failed: make(chan error, 1)}
	s, err := newSession(cfg.Token, cfg.APIURL, cfg.Logger, &b.startup)
	if err != nil {
		return nil, err
	}
	b.session = s
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.gwCtx, b.gwCancel = context.WithCancel(context.Background())
	b.audio = &playback{bot: b, cfg: cfg.Playback, queues: cfg.Queues, log: cfg.Logger, clock: voice.NewClock()}
	b.plays = newPlays()
	if cfg.LeaveUnapprovedAfter > 0 {
		b.leaver = newLeaver(b.ctx, cfg.LeaveUnapprovedAfter, cfg.Allowlist, func(ctx context.Context, g music.GuildID) error {
			return s.GuildLeave(string(g), discordgo.WithContext(ctx))
		}, cfg.Logger)
	}
	h := &Handlers{
		Queues:           cfg.Queues,
		Allowlist:        cfg.Allowlist,
		Preferences:      cfg.Preferences,
		Playlists:        cfg.Playlists,
		Notifier:         b,
		Owners:           cfg.Owners,
		GuildName:        b.guildName,
		Now:              time.Now,
		Filters:          cfg.Playback.Filters,
		Pages:            cfg.Playback.Pages,
		MaxTrackDuration: cfg.Playback.MaxTrackDuration,
		Links:            cfg.Playback.Links,
		Lyrics:           cfg.Playback.Lyrics,
		Accounts:         cfg.Accounts,
		Requesters:       cfg.Requesters,
		Library:          cfg.Playback.Library,
		audio:            b.audio,
		plays:            b.plays,
	}
	if cfg.Playback.Search != nil {
		h.recent = newRecentSearches(cfg.Playback.Search, time.Now)
		b.recent = h.recent
	}
	b.router, err = NewRouter(RouterConfig{
		Commands:   h.Commands(),
		Components: h.Components(),
		Approvals:  cfg.Allowlist,
		Owners:     cfg.Owners,
		Responder:  s,
		Observer:   cfg.Observer,
		Logger:     cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Open connects to the gateway, retrying with growing delays while Discord
// is unreachable or the gateway fails, and from then on reconnects whenever
// the gateway drops. It gives up at once when Discord refuses the token or
// the intents (ErrTokenRefused, ErrIntentsRefused, ErrGatewayRefused), and
// when ctx ends; the bot cannot be opened again then, only closed. Commands
// are registered on READY.
func (b *Bot) Open(ctx context.Context) error {
	b.session.AddHandler(b.onReady)
	b.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { b.connected.Store(true) })
	b.session.AddHandler(b.onDisconnect)
	b.session.AddHandler(b.onInteraction)
	b.session.AddHandler(b.onVoiceStateUpdate)
	b.session.AddHandler(b.onVoiceServerUpdate)
	b.session.AddHandler(b.onGuildCreate)
	b.session.AddHandler(b.onGuildDelete)
	stop := context.AfterFunc(ctx, b.gwCancel)
	defer stop()
	if err := b.connectWithRetry(b.gwCtx); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("connecting to the Discord gateway: %w", ctx.Err())
		}
		return fmt.Errorf("opening the Discord gateway: %w", redact(err, b.cfg.Token))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.keeperDone = make(chan struct{})
		go b.keepConnected()
	}
	return nil
}

// Failed delivers the error that ended the bot's reconnect loop: Discord
// refused the token or the intents on a reconnect. The bot is useless then
// and should be closed.
func (b *Bot) Failed() <-chan error { return b.failed }

// drainTimeout is how long Close lets in-flight interactions finish before
// it cancels them; it fits in the container's 30-second stop timeout.
const drainTimeout = 10 * time.Second

// Close disconnects, lets in-flight interactions finish (answering goes
// over REST, which outlives the gateway), and cancels the stragglers. The
// /play commands still finding tracks are cancelled at once: they may run
// for minutes.
func (b *Bot) Close() error {
	// Before the players close, so that no play lands on a closed one.
	b.plays.close()
	// Leaving the voice channels goes over the gateway: before it closes.
	b.audio.close()
	b.gwCancel()
	b.mu.Lock()
	b.closed = true
	keeperDone := b.keeperDone
	b.mu.Unlock()
	if keeperDone != nil {
		<-keeperDone
	}
	err := b.session.Close()
	drained := make(chan struct{})
	go func() { b.inFlight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
	}
	b.cancel()
	<-drained
	if b.leaver != nil {
		b.leaver.close()
	}
	if b.recent != nil {
		b.recent.close()
	}
	if err != nil {
		return fmt.Errorf("closing the Discord gateway: %w", err)
	}
	return nil
}

// Connected reports whether the gateway session is up (for /readyz).
func (b *Bot) Connected() bool { return b.connected.Load() }

func (b *Bot) onReady(s *discordgo.Session, r *discordgo.Ready) {
	b.connected.Store(true)
	b.log.Info("gateway ready", slog.String("user", r.User.ID), slog.Int("guilds", len(r.Guilds)))
	if b.registered.Load() {
		return
	}
	appID := b.cfg.ApplicationID
	if appID == "" && r.Application != nil {
		appID = r.Application.ID
	}
	if appID == "" {
		appID = r.User.ID
	}
	cmds, err := s.ApplicationCommandBulkOverwrite(appID, string(b.cfg.DevGuild), b.router.commands.applicationCommands(), discordgo.WithContext(b.ctx))
	if err != nil {
		b.log.Error("registering slash commands", slog.Any("err", redact(err, b.cfg.Token)))
		return
	}
	b.registered.Store(true)
	scope := "global"
	if b.cfg.DevGuild != "" {
		scope = "guild " + string(b.cfg.DevGuild)
	}
	b.log.Info("slash commands registered", slog.Int("count", len(cmds)), slog.String("scope", scope))
}

func (b *Bot) onInteraction(_ *discordgo.Session, i *discordgo.InteractionCreate) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.inFlight.Add(1)
	b.mu.Unlock()
	defer b.inFlight.Done()
	b.router.HandleInteraction(b.ctx, i.Interaction)
}

// DirectMessage implements notifier over the gateway session's REST client.
func (b *Bot) DirectMessage(ctx context.Context, user music.UserID, text string) error {
	return directMessage(ctx, b.session, b.log, user, text)
}

func (b *Bot) guildName(g music.GuildID) string {
	if guild, err := b.session.State.Guild(string(g)); err == nil {
		return guild.Name
	}
	return ""
}

// newSession makes a discordgo session with minimal intents whose REST
// calls go to apiURL instead of discord.com.
func newSession(token, apiURL string, log *slog.Logger, startup *startupIO) (*discordgo.Session, error) {
	if token == "" {
		return nil, fmt.Errorf("discord: empty bot token")
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("creating the Discord session: %w", err)
	}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	s.ShouldReconnectOnError = false // the bot reconnects: keepConnected
	s.LogLevel = discordgo.LogWarning
	if log.Enabled(context.Background(), slog.LevelDebug) {
		s.LogLevel = discordgo.LogDebug
	}
	installLogger(log, token)
	if apiURL == "" {
		apiURL = "https://discord.com"
	}
	base, err := url.Parse(apiURL)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("discord: API URL %q must be an absolute http(s) URL", apiURL)
	}
	s.Client = &http.Client{Timeout: 20 * time.Second, Transport: &rewriteTransport{base: base, next: http.DefaultTransport, startup: startup}}
	s.Dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 45 * time.Second, NetDialContext: startup.dialContext}
	return s, nil
}

// rewriteTransport sends requests for discord.com to another base URL.
// discordgo builds its endpoints from package-level strings at init, so the
// transport is the one seam that needs no change to the library. It also
// binds Session.Open's GET /gateway to the connection attempt.
type rewriteTransport struct {
	base    *url.URL
	next    http.RoundTripper
	startup *startupIO
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "discord.com" {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = t.base.Scheme, t.base.Host
		req.Host = t.base.Host
	}
	return t.startup.roundTrip(t.next, req)
}

var loggerOnce sync.Once

// installLogger routes discordgo's package-level logger into slog, with the
// token redacted. discordgo has one logger per process, so the first bot's
// logger wins.
func installLogger(log *slog.Logger, token string) {
	loggerOnce.Do(func() { discordgo.Logger = discordgoLogger(log, token) })
}

// discordgoLogger is a discordgo.Logger that writes to log without token.
// At debug level discordgo prints whole payloads, IDENTIFY's token among
// them.
func discordgoLogger(log *slog.Logger, token string) func(level, caller int, format string, a ...any) {
	return func(level, _ int, format string, a ...any) {
		msg := strings.ReplaceAll(fmt.Sprintf(format, a...), token, "[redacted]")
		lvl := slog.LevelInfo
		switch level {
		case discordgo.LogError:
			lvl = slog.LevelError
		case discordgo.LogWarning:
			lvl = slog.LevelWarn
		case discordgo.LogDebug:
			lvl = slog.LevelDebug
		}
		log.Log(context.Background(), lvl, msg, slog.String("component", "discordgo"))
	}
}

// redact removes the token from an error's text.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), token, "[redacted]"))
}
