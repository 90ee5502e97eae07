package discord

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/voice"
)

// voiceUpdater receives the main gateway's later voice events for a guild:
// a moved channel, a new session, a new voice server.
type voiceUpdater interface {
	Update(voice.Update)
}

// voiceRoutes routes the main gateway's VOICE_STATE_UPDATE and
// VOICE_SERVER_UPDATE events for the bot's own user: to a join that waits
// for both, then to the guild's voice connection.
type voiceRoutes struct {
	mu    sync.Mutex
	joins map[music.GuildID]*voiceJoin
	conns map[music.GuildID]voiceUpdater
}

// voiceJoin collects the two events a join needs.
type voiceJoin struct {
	params voice.Params
	ready  chan struct{} // closed when session, token and endpoint are known
}

func (j *voiceJoin) complete() bool {
	return j.params.SessionID != "" && j.params.Token != "" && j.params.Endpoint != ""
}

// JoinVoice asks Discord to put the bot in a voice channel (gateway
// opcode 4) and returns the parameters voice.Connect needs, once Discord
// answered with the bot's voice state and the voice server.
func (b *Bot) JoinVoice(ctx context.Context, guild music.GuildID, channel string) (voice.Params, error) {
	if err := guild.Validate(); err != nil {
		return voice.Params{}, err
	}
	if err := music.GuildID(channel).Validate(); err != nil {
		return voice.Params{}, music.Errorf(music.EINVALID, "%q is not a valid channel ID.", channel)
	}
	if !b.Connected() {
		return voice.Params{}, errGatewayDown
	}
	j := &voiceJoin{params: voice.Params{GuildID: string(guild), ChannelID: channel, UserID: b.session.State.User.ID}, ready: make(chan struct{})}
	b.voice.mu.Lock()
	if b.voice.joins == nil {
		b.voice.joins = make(map[music.GuildID]*voiceJoin)
	}
	b.voice.joins[guild] = j
	b.voice.mu.Unlock()
	defer func() {
		b.voice.mu.Lock()
		if b.voice.joins[guild] == j {
			delete(b.voice.joins, guild)
		}
		b.voice.mu.Unlock()
	}()

	// The bot sends audio and listens to nothing: self-deafened.
	if err := b.sendVoiceState(guild, channel); err != nil {
		return voice.Params{}, err
	}
	select {
	case <-j.ready:
		b.voice.mu.Lock()
		defer b.voice.mu.Unlock()
		return j.params, nil
	case <-ctx.Done():
		return voice.Params{}, fmt.Errorf("waiting for Discord to join voice channel %s: %w", channel, ctx.Err())
	}
}

// LeaveVoice leaves the guild's voice channel and stops routing its events.
func (b *Bot) LeaveVoice(guild music.GuildID) error {
	b.UnwatchVoice(guild)
	return b.sendVoiceState(guild, "")
}

// WatchVoice sends the guild's later voice events to conn (normally a
// *voice.Conn), so that moves and voice server changes reach it.
func (b *Bot) WatchVoice(guild music.GuildID, conn voiceUpdater) {
	b.voice.mu.Lock()
	defer b.voice.mu.Unlock()
	if b.voice.conns == nil {
		b.voice.conns = make(map[music.GuildID]voiceUpdater)
	}
	b.voice.conns[guild] = conn
}

// VoiceConnections returns how many guilds have a watched voice
// connection, for the ActiveVoiceConnections metric.
func (b *Bot) VoiceConnections() int {
	b.voice.mu.Lock()
	defer b.voice.mu.Unlock()
	return len(b.voice.conns)
}

// AudioUnderruns counts the ticks on which a playing guild had no audio
// ready, for the AudioUnderruns metric.
func (b *Bot) AudioUnderruns() uint64 { return b.audio.totalUnderruns() }

// UnwatchVoice stops WatchVoice.
func (b *Bot) UnwatchVoice(guild music.GuildID) {
	b.voice.mu.Lock()
	defer b.voice.mu.Unlock()
	delete(b.voice.conns, guild)
}

var errGatewayDown = errors.New("discord: the gateway is not connected")

// sendVoiceState sends opcode 4; channel "" leaves.
func (b *Bot) sendVoiceState(guild music.GuildID, channel string) (err error) {
	if !b.Connected() {
		return errGatewayDown
	}
	// discordgo writes to its websocket without checking that it exists;
	// a connection dropped in between must be an error, not a crash.
	defer func() {
		if recover() != nil {
			err = errGatewayDown
		}
	}()
	if err := b.session.ChannelVoiceJoinManual(string(guild), channel, false, true); err != nil {
		return fmt.Errorf("sending the voice state update: %w", err)
	}
	return nil
}

func (b *Bot) onVoiceStateUpdate(s *discordgo.Session, v *discordgo.VoiceStateUpdate) {
	if v.VoiceState == nil || s.State.User == nil {
		return
	}
	b.audio.voiceStateChanged(music.GuildID(v.GuildID))
	if v.UserID != s.State.User.ID {
		return
	}
	if v.ChannelID == "" {
		// Disconnected: kicked, or the channel deleted. There is nothing
		// to move to, and its new session must not look like a move.
		b.audio.disconnected(music.GuildID(v.GuildID))
		return
	}
	b.voice.route(music.GuildID(v.GuildID), func(p *voice.Params) { p.SessionID = v.SessionID }, voice.Update{SessionID: v.SessionID})
}

func (b *Bot) onVoiceServerUpdate(_ *discordgo.Session, v *discordgo.VoiceServerUpdate) {
	// A null endpoint means the voice server is gone; a new update follows.
	if v.Endpoint == "" {
		return
	}
	b.voice.route(music.GuildID(v.GuildID), func(p *voice.Params) { p.Token, p.Endpoint = v.Token, v.Endpoint }, voice.Update{Token: v.Token, Endpoint: v.Endpoint})
}

// route applies an event to the guild's pending join, or forwards it to the
// guild's connection.
func (r *voiceRoutes) route(guild music.GuildID, apply func(*voice.Params), u voice.Update) {
	r.mu.Lock()
	if j := r.joins[guild]; j != nil {
		wasComplete := j.complete()
		apply(&j.params)
		if !wasComplete && j.complete() {
			close(j.ready)
		}
		r.mu.Unlock()
		return
	}
	conn := r.conns[guild]
	r.mu.Unlock()
	if conn != nil {
		conn.Update(u)
	}
}
