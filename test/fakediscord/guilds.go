package fakediscord

import (
	"fmt"
	"time"
)

// Channel types used by the fake.
const (
	ChannelText  = 0
	ChannelDM    = 1
	ChannelVoice = 2
)

// Guild is a server the bot is a member of.
type Guild struct {
	ID      string // default: a new snowflake
	Name    string // default: "Guild <ID>"
	OwnerID string // default: a new snowflake
	// Channels default to a text channel "general" and a voice channel "General".
	Channels []Channel
}

// Channel is a guild channel.
type Channel struct {
	ID   string // default: a new snowflake
	Name string
	Type int // ChannelText or ChannelVoice
}

type guildState struct {
	Guild
	joinedAt time.Time
	voice    map[string]voiceState // by user ID; guarded by Server.mu
}

type voiceState struct {
	channelID, sessionID string
	selfMute, selfDeaf   bool
}

type channelState struct {
	id        string
	guildID   string // "" for DMs
	name      string
	typ       int
	recipient string    // DM channels: the user
	messages  []*record // in creation order
}

// AddGuild makes the bot a member of g: GUILD_CREATE goes to connected
// sessions and later IDENTIFYs list it in READY. It returns g with defaults
// filled in. Adding a guild the bot already is in replaces it.
func (s *Server) AddGuild(g Guild) Guild {
	if g.ID == "" {
		g.ID = s.NewID()
	}
	if g.Name == "" {
		g.Name = "Guild " + g.ID
	}
	if g.OwnerID == "" {
		g.OwnerID = s.NewID()
	}
	if len(g.Channels) == 0 {
		g.Channels = []Channel{{Name: "general", Type: ChannelText}, {Name: "General", Type: ChannelVoice}}
	}
	g.Channels = append([]Channel(nil), g.Channels...)
	for i := range g.Channels {
		if g.Channels[i].ID == "" {
			g.Channels[i].ID = s.NewID()
		}
	}
	gs := &guildState{Guild: g, joinedAt: time.Now().UTC(), voice: map[string]voiceState{}}

	s.mu.Lock()
	s.removeGuildLocked(g.ID)
	s.guilds = append(s.guilds, gs)
	for _, ch := range g.Channels {
		if cs := s.channels[ch.ID]; cs != nil && cs.guildID == g.ID {
			cs.name, cs.typ = ch.Name, ch.Type // a re-join keeps the channel's history
			continue
		}
		s.channels[ch.ID] = &channelState{id: ch.ID, guildID: g.ID, name: ch.Name, typ: ch.Type}
	}
	payload := s.guildPayload(gs)
	s.mu.Unlock()
	s.dispatch("GUILD_CREATE", payload)
	return g
}

// SetVoiceState moves a user into a voice channel of a guild the bot is in,
// or out of voice when channelID is "": VOICE_STATE_UPDATE goes to sessions
// with the GUILD_VOICE_STATES intent, and GUILD_CREATE lists the state from
// then on.
func (s *Server) SetVoiceState(guildID, userID, channelID string) error {
	s.mu.Lock()
	g, err := s.voiceChannelLocked(guildID, channelID, true)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	vs := voiceState{channelID: channelID, sessionID: randomHex(gatewaySessionIDBytes)}
	s.setVoiceLocked(g, userID, vs)
	payload := s.voiceStatePayload(g, userID, vs, true)
	s.mu.Unlock()
	s.dispatch("VOICE_STATE_UPDATE", payload)
	return nil
}

// MoveBot moves the bot, in voice in a guild, to another voice channel
// whose voice server is at endpoint, as Discord does when a member with
// Move Members drags it: VOICE_STATE_UPDATE with the new channel and the
// bot's own session ID, then VOICE_SERVER_UPDATE with a new token. (The
// voice server the bot leaves closes its connection with 4014; a test
// does that on its fake voice server.)
func (s *Server) MoveBot(guildID, channelID, endpoint string) error {
	s.mu.Lock()
	g, err := s.voiceChannelLocked(guildID, channelID, false)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	vs, ok := g.voice[s.opts.BotUserID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("fakediscord: the bot is in no voice channel of guild %q", guildID)
	}
	vs.channelID = channelID
	s.setVoiceLocked(g, s.opts.BotUserID, vs)
	state := s.voiceStatePayload(g, s.opts.BotUserID, vs, true)
	server := map[string]any{"token": randomHex(voiceServerTokenBytes), "guild_id": g.ID, "endpoint": endpoint}
	s.mu.Unlock()
	s.dispatch("VOICE_STATE_UPDATE", state)
	s.dispatch("VOICE_SERVER_UPDATE", server)
	return nil
}

// voiceChannelLocked returns the guild the bot is in, when channelID is
// one of its voice channels (or "", when none may be). The caller holds s.mu.
func (s *Server) voiceChannelLocked(guildID, channelID string, noneAllowed bool) (*guildState, error) {
	g := s.guildLocked(guildID)
	if g == nil {
		return nil, fmt.Errorf("fakediscord: the bot is not in guild %q", guildID)
	}
	if channelID == "" && noneAllowed {
		return g, nil
	}
	if ch := s.channels[channelID]; ch == nil || ch.guildID != guildID || ch.typ != ChannelVoice {
		return nil, fmt.Errorf("fakediscord: %q is not a voice channel of guild %q", channelID, guildID)
	}
	return g, nil
}

func (s *Server) setVoiceLocked(g *guildState, userID string, vs voiceState) {
	if vs.channelID == "" {
		delete(g.voice, userID)
		return
	}
	g.voice[userID] = vs
}

// voiceStatePayload is a voice state object; GUILD_CREATE's omit guild_id.
// The caller holds s.mu.
func (s *Server) voiceStatePayload(g *guildState, userID string, vs voiceState, withGuild bool) map[string]any {
	user := userFor(userID)
	if userID == s.opts.BotUserID {
		user = s.botUser()
	}
	var channelID any // JSON null when out of voice
	if vs.channelID != "" {
		channelID = vs.channelID
	}
	p := map[string]any{
		"channel_id":                 channelID,
		"user_id":                    userID,
		"member":                     s.memberPayload(user, g),
		"session_id":                 vs.sessionID,
		"deaf":                       false,
		"mute":                       false,
		"self_deaf":                  vs.selfDeaf,
		"self_mute":                  vs.selfMute,
		"self_video":                 false,
		"suppress":                   false,
		"request_to_speak_timestamp": nil,
	}
	if withGuild {
		p["guild_id"] = g.ID
	}
	return p
}

// RemoveGuild removes the bot from a guild, as a kick would: GUILD_DELETE
// goes to connected sessions.
func (s *Server) RemoveGuild(guildID string) {
	s.mu.Lock()
	found := s.removeGuildLocked(guildID)
	s.mu.Unlock()
	if found {
		s.dispatch("GUILD_DELETE", map[string]any{"id": guildID})
	}
}

func (s *Server) removeGuildLocked(guildID string) bool {
	for i, g := range s.guilds {
		if g.ID == guildID {
			// Channels stay known so tests can still read their messages;
			// the REST routes refuse to post to a guild the bot left.
			s.guilds = append(s.guilds[:i:i], s.guilds[i+1:]...)
			return true
		}
	}
	return false
}

// Guilds returns the guilds the bot is in, in join order.
func (s *Server) Guilds() []Guild {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Guild, len(s.guilds))
	for i, g := range s.guilds {
		out[i] = g.Guild
	}
	return out
}

// LeftGuilds returns the guild IDs the bot left with DELETE
// /users/@me/guilds/{id}, in order.
func (s *Server) LeftGuilds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.left...)
}

func (s *Server) guildLocked(id string) *guildState {
	for _, g := range s.guilds {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// firstTextChannel returns the guild's first text channel ID, or "".
func (g *guildState) firstTextChannel() string {
	for _, ch := range g.Channels {
		if ch.Type == ChannelText {
			return ch.ID
		}
	}
	return ""
}

// Permission bits the fake reports.
const (
	// botPermissions is what the invite grants: View Channel, Send
	// Messages, Embed Links, Connect, Speak.
	botPermissions = 1<<10 | 1<<11 | 1<<14 | 1<<20 | 1<<21
	// memberPermissions is a typical member's default set.
	memberPermissions = 1<<6 | 1<<10 | 1<<11 | 1<<14 | 1<<15 | 1<<16 | 1<<18 | 1<<20 | 1<<21 | 1<<25 | 1<<31
)

func discordTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

type userInfo struct {
	id, name string
	bot      bool
}

func (s *Server) botUser() userInfo {
	return userInfo{id: s.opts.BotUserID, name: s.opts.BotUsername, bot: true}
}

// userFor makes up a user for an ID tests invoke commands with.
func userFor(id string) userInfo {
	suffix := id
	if len(suffix) > 4 {
		suffix = suffix[len(suffix)-4:]
	}
	return userInfo{id: id, name: "user" + suffix}
}

func userPayload(u userInfo) map[string]any {
	p := map[string]any{
		"id":                     u.id,
		"username":               u.name,
		"discriminator":          "0",
		"global_name":            u.name,
		"avatar":                 nil,
		"public_flags":           0,
		"avatar_decoration_data": nil,
	}
	if u.bot {
		p["bot"] = true
		p["global_name"] = nil
	}
	return p
}

func (s *Server) memberPayload(u userInfo, g *guildState) map[string]any {
	perms := memberPermissions
	if u.bot {
		perms = botPermissions
	}
	return map[string]any{
		"user":                         userPayload(u),
		"roles":                        []string{},
		"joined_at":                    discordTime(g.joinedAt),
		"premium_since":                nil,
		"deaf":                         false,
		"mute":                         false,
		"flags":                        0,
		"pending":                      false,
		"nick":                         nil,
		"avatar":                       nil,
		"banner":                       nil,
		"communication_disabled_until": nil,
		"permissions":                  itoa(int64(perms)),
	}
}

func channelPayload(ch *channelState) map[string]any {
	p := map[string]any{
		"id":   ch.id,
		"type": ch.typ,
		"name": ch.name,
	}
	switch ch.typ {
	case ChannelDM:
		p["recipients"] = []any{userPayload(userFor(ch.recipient))}
		p["last_message_id"] = nil
		p["flags"] = 0
		delete(p, "name")
	case ChannelVoice:
		p["guild_id"] = ch.guildID
		p["bitrate"] = 64000
		p["user_limit"] = 0
		p["rtc_region"] = nil
		p["position"] = 0
		p["permission_overwrites"] = []any{}
		p["parent_id"] = nil
		p["nsfw"] = false
		p["rate_limit_per_user"] = 0
	default:
		p["guild_id"] = ch.guildID
		p["topic"] = nil
		p["position"] = 0
		p["permission_overwrites"] = []any{}
		p["parent_id"] = nil
		p["nsfw"] = false
		p["rate_limit_per_user"] = 0
		p["last_message_id"] = nil
	}
	return p
}

// guildPayload is a GUILD_CREATE body. The caller holds s.mu.
func (s *Server) guildPayload(g *guildState) map[string]any {
	voiceStates := make([]any, 0, len(g.voice))
	for userID, vs := range g.voice {
		voiceStates = append(voiceStates, s.voiceStatePayload(g, userID, vs, false))
	}
	channels := make([]any, 0, len(g.Channels))
	for _, ch := range g.Channels {
		if cs := s.channels[ch.ID]; cs != nil {
			channels = append(channels, channelPayload(cs))
		}
	}
	return map[string]any{
		"id":                            g.ID,
		"name":                          g.Name,
		"icon":                          nil,
		"splash":                        nil,
		"discovery_splash":              nil,
		"banner":                        nil,
		"description":                   nil,
		"owner_id":                      g.OwnerID,
		"afk_channel_id":                nil,
		"afk_timeout":                   300,
		"verification_level":            0,
		"default_message_notifications": 0,
		"explicit_content_filter":       0,
		"mfa_level":                     0,
		"nsfw_level":                    0,
		"premium_tier":                  0,
		"premium_subscription_count":    0,
		"preferred_locale":              "en-US",
		"system_channel_id":             nil,
		"system_channel_flags":          0,
		"rules_channel_id":              nil,
		"public_updates_channel_id":     nil,
		"vanity_url_code":               nil,
		"application_id":                nil,
		"features":                      []string{},
		"emojis":                        []any{},
		"stickers":                      []any{},
		"roles": []any{map[string]any{
			"id": g.ID, "name": "@everyone", "permissions": itoa(memberPermissions),
			"position": 0, "color": 0, "hoist": false, "managed": false, "mentionable": false, "flags": 0,
		}},
		"joined_at":              discordTime(g.joinedAt),
		"large":                  false,
		"unavailable":            false,
		"member_count":           2,
		"members":                []any{s.memberPayload(s.botUser(), g)},
		"channels":               channels,
		"threads":                []any{},
		"voice_states":           voiceStates,
		"presences":              []any{},
		"stage_instances":        []any{},
		"guild_scheduled_events": []any{},
		"soundboard_sounds":      []any{},
	}
}

// readyPayload is a READY body. The caller holds s.mu.
func (s *Server) readyPayload(sess *session) map[string]any {
	guilds := make([]any, 0, len(s.guilds))
	for _, g := range s.guilds {
		guilds = append(guilds, map[string]any{"id": g.ID, "unavailable": true})
	}
	user := userPayload(s.botUser())
	user["verified"] = true
	user["mfa_enabled"] = false
	user["flags"] = 0
	user["email"] = nil
	p := map[string]any{
		"v":                       10,
		"user":                    user,
		"guilds":                  guilds,
		"session_id":              sess.id,
		"session_type":            "normal",
		"resume_gateway_url":      s.wsURL,
		"application":             map[string]any{"id": s.opts.ApplicationID, "flags": 0},
		"private_channels":        []any{},
		"relationships":           []any{},
		"presences":               []any{},
		"guild_join_requests":     []any{},
		"geo_ordered_rtc_regions": []string{"local"},
		"user_settings":           map[string]any{},
		"_trace":                  []string{`["fake-gateway",{"micros":0}]`},
	}
	if sess.ident.Shard != nil {
		p["shard"] = sess.ident.Shard
	}
	return p
}
