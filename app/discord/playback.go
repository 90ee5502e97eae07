package discord

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave"
)

// PlaybackConfig configures the bot's audio.
type PlaybackConfig struct {
	// Opener turns a track into Opus frames: the audio pipeline.
	Opener player.Opener
	// FetchSlots bounds how many tracks each guild loads at once: the one
	// playing, the next one prepared for gapless play, and the replacement
	// a seek or an effect change opens before switching. Default: no bound.
	FetchSlots FetchSlots
	// CheckURL vets a /play URL before anything is queued: the fetcher's
	// policy, which also refuses IP literals the bot must not reach, so
	// the user hears why at once instead of a skipped track later.
	// Default: music.ParseAudioURL, which checks only the URL's form.
	CheckURL func(raw string) (*url.URL, error)
	// IdleTimeout is how long the bot stays in a channel with nothing
	// playing or nobody listening. Default: 5 minutes.
	IdleTimeout time.Duration
	// VoiceTLS verifies voice servers. Default: the system roots.
	VoiceTLS *tls.Config
	// Filters names the filters /filter offers, from the pipeline's table.
	Filters []string
	// Pages resolves pages of sites such as YouTube to tracks at /play;
	// Opener finds their audio at play time. Default: none.
	Pages PageResolver
	// MaxTrackDuration refuses at /play tracks whose known duration is
	// longer (see Handlers.MaxTrackDuration). Default: none.
	MaxTrackDuration time.Duration
	// Links turns Spotify and Deezer links into tracks found elsewhere at
	// /play. Default: none, such links are played as any other URL.
	Links LinkResolver
	// Search finds tracks by words for /play, /search and /play's
	// autocomplete. Default: none, /play takes URLs only.
	Search Searcher
	// Lyrics finds lyrics for /lyrics. Default: none, no /lyrics.
	Lyrics LyricsFinder
	// Library reads linked users' libraries for /play source: and
	// playlist:; it needs BotConfig.Accounts. Default: none.
	Library Library
	// Related finds tracks for /autoplay when the queue runs out.
	// Default: none, /autoplay says it is not available.
	Related player.RelatedFinder
	// DJRole, when set, is the name of the role whose members (and a
	// track's requester) may skip and remove others' tracks; everyone else
	// votes. Default: none, everyone may.
	DJRole string
}

// playback owns each guild's live audio: the player, the voice connection
// with its DAVE session, and the now-playing message. A guild's audio starts
// with the first /play and ends with /stop, the idle timeout, a kick from
// the channel, or Close.
type playback struct {
	bot    *Bot
	cfg    PlaybackConfig
	queues music.QueueStore
	log    *slog.Logger
	// clock paces every guild's frames, spreading the guilds' sends over
	// the frame interval.
	clock *voice.Clock

	mu     sync.Mutex
	guilds map[music.GuildID]*guildAudio
	closed bool
	// underruns counts the underruns of players already closed.
	underruns uint64
}

// guildAudio is one guild's live audio. Its goroutine (run) owns the voice
// connection's Play loop and the now-playing message.
type guildAudio struct {
	guild  music.GuildID
	player *player.Player
	conn   *voice.Conn
	np     *nowPlaying
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // player events, coalesced
	done   chan struct{}
	idle   atomic.Bool // the player asked to leave
	quiet  atomic.Bool // the user who started the playback wants no now-playing message

	mu      sync.Mutex
	notices []string // what run must tell the channel
}

// maxNotices bounds the notices waiting for run, so a queue of broken
// tracks cannot flood the channel.
const maxNotices = 5

// takeNotices returns and forgets the waiting notices.
func (g *guildAudio) takeNotices() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.notices
	g.notices = nil
	return n
}

var errShuttingDown = music.Errorf(music.EUNAVAILABLE, "TimmyBot is shutting down.")

var errNotPlaying = music.Errorf(music.EINVALID, "Nothing is playing. Queue something with `/play query:<url>`.")

// checkURL vets a URL a user asked to play.
func (p *playback) checkURL(raw string) (*url.URL, error) {
	if p != nil && p.cfg.CheckURL != nil {
		return p.cfg.CheckURL(raw)
	}
	return music.ParseAudioURL(raw)
}

// active returns the guild's audio, nil when the bot is not playing there.
func (p *playback) active(guild music.GuildID) *guildAudio {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.guilds[guild]
}

// voiceChannelOf returns the voice channel a user is in, "" when none.
func (p *playback) voiceChannelOf(guild music.GuildID, user string) string {
	vs, err := p.bot.session.State.VoiceState(string(guild), user)
	if err != nil || vs == nil {
		return ""
	}
	return vs.ChannelID
}

// botChannel returns the voice channel the bot is in, "" when none.
func (p *playback) botChannel(guild music.GuildID) string {
	u := p.bot.session.State.User
	if u == nil {
		return ""
	}
	return p.voiceChannelOf(guild, u.ID)
}

// listeners counts the users other than the bot in the bot's channel.
func (p *playback) listeners(guild music.GuildID) int {
	ch := p.botChannel(guild)
	if ch == "" {
		return 0
	}
	st := p.bot.session.State
	st.RLock()
	defer st.RUnlock()
	g, err := st.Guild(string(guild))
	if err != nil {
		return 0
	}
	n := 0
	for _, vs := range g.VoiceStates {
		if vs.ChannelID == ch && vs.UserID != st.User.ID && (vs.Member == nil || vs.Member.User == nil || !vs.Member.User.Bot) {
			n++
		}
	}
	return n
}

// control returns the guild's player for a user who wants to control it:
// the bot must be playing and the user in its channel.
func (p *playback) control(r *Request) (*guildAudio, error) {
	g := p.active(r.Guild)
	if g == nil {
		return nil, errNotPlaying
	}
	if ch := p.botChannel(r.Guild); ch != "" && p.voiceChannelOf(r.Guild, string(r.User)) != ch {
		return nil, music.Errorf(music.EFORBIDDEN, "Join <#%s> to control the music.", ch)
	}
	return g, nil
}

// ensure returns the guild's audio, joining the caller's voice channel
// first when the bot is not playing there yet.
func (p *playback) ensure(ctx context.Context, r *Request) (*guildAudio, error) {
	userChannel := p.voiceChannelOf(r.Guild, string(r.User))
	if g := p.active(r.Guild); g != nil {
		if ch := p.botChannel(r.Guild); ch != "" && userChannel != ch {
			return nil, music.Errorf(music.EFORBIDDEN, "I'm playing in <#%s>: join it to add music.", ch)
		}
		return g, nil
	}
	if userChannel == "" {
		return nil, music.Errorf(music.EINVALID, "Join a voice channel first, then `/play` again.")
	}
	if p.cfg.Opener == nil {
		return nil, errors.New("playback has no audio pipeline")
	}
	return p.start(ctx, r.Guild, userChannel, r.Channel)
}

// voiceConfig configures a guild's voice connection. Every guild's frames
// are paced by the bot's one clock, which wakes once per 2 ms slot for many
// guilds instead of once per guild.
func (p *playback) voiceConfig(params voice.Params, sess *dave.Session) voice.Config {
	return voice.Config{Params: params, E2EE: sess, TLSConfig: p.cfg.VoiceTLS, Pacer: p.clock.Pacer, Logger: p.log} // it names the guild and channel itself
}

// start joins a voice channel with a DAVE session and starts the player.
func (p *playback) start(ctx context.Context, guild music.GuildID, channel, textChannel string) (*guildAudio, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errShuttingDown
	}
	log := p.log.With(slog.String("guild", string(guild)))
	params, err := p.bot.JoinVoice(ctx, guild, channel)
	if err != nil {
		return nil, fmt.Errorf("joining voice channel %s: %w", channel, err)
	}
	userID, _ := strconv.ParseUint(params.UserID, 10, 64)
	channelID, _ := strconv.ParseUint(channel, 10, 64)
	sess, err := dave.NewSession(dave.Config{UserID: userID, ChannelID: channelID, Logger: log})
	if err != nil {
		_ = p.bot.LeaveVoice(guild)
		return nil, fmt.Errorf("starting the DAVE session: %w", err)
	}
	conn, err := voice.Connect(ctx, p.voiceConfig(params, sess))
	if err != nil {
		_ = p.bot.LeaveVoice(guild)
		return nil, fmt.Errorf("connecting to the voice server: %w", err)
	}
	p.bot.WatchVoice(guild, conn)

	gctx, cancel := context.WithCancel(p.bot.ctx)
	g := &guildAudio{
		guild: guild, conn: conn, log: log,
		ctx: gctx, cancel: cancel,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	g.np = &nowPlaying{channel: textChannel, session: p.bot.session, log: log}
	g.player = player.New(player.Config{
		Guild:       guild,
		Queue:       p.queues,
		Opener:      guildOpener(p.cfg, guild),
		IdleTimeout: p.cfg.IdleTimeout,
		Related:     p.cfg.Related,
		Logger:      log,
		OnEvent:     g.onEvent,
	})
	_ = g.player.SetListeners(p.listeners(guild))

	p.mu.Lock()
	if p.closed {
		// Close began while this guild connected: it will not wait for it.
		p.mu.Unlock()
		cancel()
		_ = g.player.Close()
		p.bot.UnwatchVoice(guild)
		_ = conn.Close()
		return nil, errShuttingDown
	}
	if p.guilds == nil {
		p.guilds = make(map[music.GuildID]*guildAudio)
	}
	p.guilds[guild] = g
	p.mu.Unlock()
	go p.run(g)
	log.Info("voice connected", slog.String("channel", channel))
	return g, nil
}

// nowPlayingRefresh is how often the progress bar is redrawn while a track
// plays: well inside Discord's limit of five edits per five seconds.
const nowPlayingRefresh = 15 * time.Second

// run owns the guild's Play loop and now-playing message until the
// connection ends, the player asks to leave, or the guild is stopped.
func (p *playback) run(g *guildAudio) {
	defer close(g.done)
	played := make(chan error, 1)
	go func() { played <- g.conn.Play(g.ctx, g.player.Output()) }()
	refresh := time.NewTicker(nowPlayingRefresh)
	defer refresh.Stop()

	var err error
loop:
	for {
		select {
		case err = <-played:
			played = nil
			break loop
		case <-g.ctx.Done():
			break loop
		case <-g.wake:
			if g.idle.Load() {
				g.log.Info("leaving the voice channel: idle")
				break loop
			}
			g.showNowPlaying(g.player.Status())
			for _, msg := range g.takeNotices() {
				g.np.notice(g.ctx, msg)
			}
		case <-refresh.C:
			if st := g.player.Status(); st.State == player.StatePlaying {
				g.showNowPlaying(st)
			}
		}
	}
	g.cancel()
	if played != nil {
		err = <-played
	}
	switch {
	case errors.Is(err, voice.ErrDisconnected):
		g.log.Info("disconnected from the voice channel")
	case err != nil && !errors.Is(err, context.Canceled):
		g.log.Warn("voice connection ended", slog.Any("err", err))
	}
	p.teardown(g)
}

// showNowPlaying updates the now-playing message unless the user who
// started the playback turned announcements off.
func (g *guildAudio) showNowPlaying(st player.Status) {
	if !g.quiet.Load() {
		g.np.show(g.ctx, st)
	}
}

// teardown releases what start acquired, in reverse order.
func (p *playback) teardown(g *guildAudio) {
	if err := g.player.Close(); err != nil {
		g.log.Warn("closing the player", slog.Any("err", err))
	}
	p.bot.UnwatchVoice(g.guild)
	if err := g.conn.Close(); err != nil && !errors.Is(err, voice.ErrClosed) {
		g.log.Debug("closing the voice connection", slog.Any("err", err))
	}
	if err := p.bot.sendVoiceState(g.guild, ""); err != nil {
		g.log.Debug("leaving the voice channel", slog.Any("err", err))
	}
	// Gone before the message says so: a /nowplaying that sees "Stopped"
	// must not find the guild still playing.
	p.mu.Lock()
	if p.guilds[g.guild] == g {
		delete(p.guilds, g.guild)
	}
	p.underruns += g.player.Underruns()
	p.mu.Unlock()
	// The final edit outlives the guild's context, briefly.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.np.finish(ctx)
}

// onEvent is the player's event callback: it must not block, so it only
// records what run must say and wakes it; run reads the player's status.
func (g *guildAudio) onEvent(ev player.Event) {
	switch ev.Kind {
	case player.EventIdleTimeout:
		g.idle.Store(true)
	case player.EventError:
		g.mu.Lock()
		if len(g.notices) < maxNotices {
			g.notices = append(g.notices, fmt.Sprintf("Skipped **%s**: %s", escapeMarkdown(music.Truncate(ev.Entry.Track.Title, shownTitleMax)), ev.Message))
		}
		g.mu.Unlock()
	}
	g.wakeUp()
}

// wakeUp has run redraw the now-playing message and say the notices.
func (g *guildAudio) wakeUp() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// stop ends the guild's audio and waits until it is torn down.
func (g *guildAudio) stop() {
	g.cancel()
	<-g.done
}

// disconnected ends the guild's audio after Discord took the bot out of
// its channel; run tears it down.
func (p *playback) disconnected(guild music.GuildID) {
	if g := p.active(guild); g != nil {
		g.log.Info("leaving: disconnected from the voice channel")
		g.cancel()
	}
}

// voiceStateChanged tells the guild's player how many people listen.
func (p *playback) voiceStateChanged(guild music.GuildID) {
	if g := p.active(guild); g != nil {
		_ = g.player.SetListeners(p.listeners(guild))
	}
}

// close stops every guild's audio and waits for it.
func (p *playback) close() {
	p.mu.Lock()
	p.closed = true
	gs := make([]*guildAudio, 0, len(p.guilds))
	for _, g := range p.guilds {
		gs = append(gs, g)
	}
	p.mu.Unlock()
	for _, g := range gs {
		g.stop()
	}
}

// forgetRequester takes user's name off every guild's player (see
// player.ForgetRequester) and redraws the now-playing messages, which may
// name the user.
func (p *playback) forgetRequester(ctx context.Context, user music.UserID) error {
	p.mu.Lock()
	gs := make([]*guildAudio, 0, len(p.guilds))
	for _, g := range p.guilds {
		gs = append(gs, g)
	}
	p.mu.Unlock()
	for _, g := range gs {
		// A player that stopped meanwhile kept no history to forget.
		if err := g.player.ForgetRequester(ctx, user); err != nil && ctx.Err() != nil {
			return fmt.Errorf("forgetting guild %s's played tracks: %w", g.guild, err)
		}
		g.wakeUp()
	}
	return nil
}

// totalUnderruns counts every player's underruns since the start.
func (p *playback) totalUnderruns() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.underruns
	for _, g := range p.guilds {
		n += g.player.Underruns()
	}
	return n
}

// isDJ reports whether a member may manage everyone's tracks.
func (p *playback) isDJ(r *Request) bool {
	if p.cfg.DJRole == "" || r.Owner {
		return true
	}
	st := p.bot.session.State
	st.RLock()
	defer st.RUnlock()
	g, err := st.Guild(string(r.Guild))
	if err != nil {
		return false
	}
	for _, role := range g.Roles {
		if role.Name == p.cfg.DJRole {
			for _, id := range r.Roles {
				if id == role.ID {
					return true
				}
			}
		}
	}
	return false
}
