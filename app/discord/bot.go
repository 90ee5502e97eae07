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

	"github.com/iddv/timmybot/app/music"
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
	Observer  observer // optional: receives every interaction's latency
	// LeaveUnapprovedAfter, when positive, makes the bot leave guilds still
	// unapproved this long after it joined them. Default: 0, never leave.
	LeaveUnapprovedAfter time.Duration
	// Playback configures the audio: the pipeline, the idle timeout, the
	// DJ role.
	Playback PlaybackConfig
	Logger   *slog.Logger
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
	leaver     *leaver // nil unless LeaveUnapprovedAfter > 0

	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex // guards closed and the inFlight.Add that depends on it
	closed   bool
	inFlight sync.WaitGroup
}

// NewBot builds a bot; Open connects it.
func NewBot(cfg BotConfig) (*Bot, error) {
	s, err := newSession(cfg.Token, cfg.APIURL, cfg.Logger)
	if err != nil {
		return nil, err
	}
	b := &Bot{cfg: cfg, session: s, log: cfg.Logger}
	b.audio = &playback{bot: b, cfg: cfg.Playback, queues: cfg.Queues, log: cfg.Logger}
	if cfg.LeaveUnapprovedAfter > 0 {
		b.leaver = &leaver{
			grace:     cfg.LeaveUnapprovedAfter,
			approvals: cfg.Allowlist,
			leave: func(ctx context.Context, g music.GuildID) error {
				return s.GuildLeave(string(g), discordgo.WithContext(ctx))
			},
			log: cfg.Logger,
		}
	}
	h := &Handlers{
		Queues:    cfg.Queues,
		Allowlist: cfg.Allowlist,
		Notifier:  b,
		Owners:    cfg.Owners,
		GuildName: b.guildName,
		Now:       time.Now,
		Filters:   cfg.Playback.Filters,
		audio:     b.audio,
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

// Open connects to the gateway. Commands are registered on READY.
func (b *Bot) Open() error {
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.session.AddHandler(b.onReady)
	b.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { b.connected.Store(true) })
	b.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) { b.connected.Store(false) })
	b.session.AddHandler(b.onInteraction)
	b.session.AddHandler(b.onVoiceStateUpdate)
	b.session.AddHandler(b.onVoiceServerUpdate)
	b.session.AddHandler(b.onGuildCreate)
	b.session.AddHandler(b.onGuildDelete)
	if err := b.session.Open(); err != nil {
		return fmt.Errorf("opening the Discord gateway: %w", redact(err, b.cfg.Token))
	}
	return nil
}

// drainTimeout is how long Close lets in-flight interactions finish before
// it cancels them; it fits in the container's 30-second stop timeout.
const drainTimeout = 10 * time.Second

// Close disconnects, lets in-flight interactions finish (answering goes
// over REST, which outlives the gateway), and cancels the stragglers.
func (b *Bot) Close() error {
	b.audio.close()
	err := b.session.Close()
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
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
	ch, err := b.session.UserChannelCreate(string(user), discordgo.WithContext(ctx))
	if err != nil {
		err = fmt.Errorf("opening a DM with %s: %w", user, err)
		b.log.Warn("direct message failed", slog.Any("err", err))
		return err
	}
	msg := &discordgo.MessageSend{Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{}}
	if _, err := b.session.ChannelMessageSendComplex(ch.ID, msg, discordgo.WithContext(ctx)); err != nil {
		err = fmt.Errorf("sending a DM to %s: %w", user, err)
		b.log.Warn("direct message failed", slog.Any("err", err))
		return err
	}
	return nil
}

func (b *Bot) guildName(g music.GuildID) string {
	if guild, err := b.session.State.Guild(string(g)); err == nil {
		return guild.Name
	}
	return ""
}

// newSession makes a discordgo session with minimal intents whose REST
// calls go to apiURL instead of discord.com.
func newSession(token, apiURL string, log *slog.Logger) (*discordgo.Session, error) {
	if token == "" {
		return nil, fmt.Errorf("discord: empty bot token")
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("creating the Discord session: %w", err)
	}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	s.LogLevel = discordgo.LogWarning
	installLogger(log, token)
	if apiURL != "" {
		base, err := url.Parse(apiURL)
		if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
			return nil, fmt.Errorf("discord: API URL %q must be an absolute http(s) URL", apiURL)
		}
		s.Client = &http.Client{Timeout: 20 * time.Second, Transport: &rewriteTransport{base: base, next: http.DefaultTransport}}
	}
	return s, nil
}

// rewriteTransport sends requests for discord.com to another base URL.
// discordgo builds its endpoints from package-level strings at init, so the
// transport is the one seam that needs no change to the library.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "discord.com" {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = t.base.Scheme, t.base.Host
		req.Host = t.base.Host
	}
	return t.next.RoundTrip(req)
}

var loggerOnce sync.Once

// installLogger routes discordgo's package-level logger into slog, with the
// token redacted. discordgo has one logger per process, so the first bot's
// logger wins.
func installLogger(log *slog.Logger, token string) {
	loggerOnce.Do(func() {
		discordgo.Logger = func(level, _ int, format string, a ...any) {
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
	})
}

// redact removes the token from an error's text.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), token, "[redacted]"))
}
