package discord

import (
	"context"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
)

// Request is what a handler sees of an interaction: who, where, and the
// validated option values. Guild is empty in direct messages.
type Request struct {
	Guild   music.GuildID
	Channel string // the channel the interaction came from
	User    music.UserID
	Roles   []string // the member's role IDs; none in direct messages
	Command string   // "play", "allowlist approve"; for components, the custom ID
	Owner   bool     // the user is one of the bot's owners
	options map[string]any

	// lock takes the guild's command lock for Locked; nil when the router
	// holds it for the whole handler already, or there is none.
	lock          func(ctx context.Context) (unlock func(), err error)
	lockedTimeout time.Duration
	progress      *progressReport // nil outside the router
}

// Locked runs f holding the guild's command lock, f's context bounded by
// the router's HandlerTimeout, for the part of an Unlocked command that
// changes the guild's state. In other commands, which hold the lock
// already, it just runs f.
func (r *Request) Locked(ctx context.Context, f func(ctx context.Context) error) error {
	if r.lock == nil {
		return f(ctx)
	}
	unlock, err := r.lock(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the guild's other commands: %w", err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(ctx, r.lockedTimeout)
	defer cancel()
	return f(ctx)
}

// Progress shows text in place of Discord's "thinking…" while the handler
// runs on after the router deferred its reply: the router edits the reply
// at most once per EditEvery, with the latest text.
func (r *Request) Progress(text string) {
	if r.progress != nil {
		r.progress.set(text)
	}
}

// String returns a string option, "" when it was not given.
func (r *Request) String(name string) string {
	s, _ := r.options[name].(string)
	return s
}

// Bool returns a boolean option, false when it was not given.
func (r *Request) Bool(name string) bool {
	b, _ := r.options[name].(bool)
	return b
}

// OptionalBool returns a boolean option and whether it was given.
func (r *Request) OptionalBool(name string) (value, given bool) {
	value, given = r.options[name].(bool)
	return value, given
}

// Int returns an integer option and whether it was given.
func (r *Request) Int(name string) (int, bool) {
	n, ok := r.options[name].(int)
	return n, ok
}

// Reply is a message to show in answer to an interaction.
type Reply struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	Ephemeral  bool
	failed     bool // the bot, not the user, failed: counted as an error
}

func (r Reply) responseData() *discordgo.InteractionResponseData {
	d := &discordgo.InteractionResponseData{
		Content:         r.Content,
		Embeds:          r.Embeds,
		Components:      r.Components,
		AllowedMentions: &discordgo.MessageAllowedMentions{}, // never ping anyone
	}
	if r.Ephemeral {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	return d
}

func (r Reply) webhookEdit() *discordgo.WebhookEdit {
	content, embeds, components := r.Content, r.Embeds, r.Components
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	if components == nil {
		components = []discordgo.MessageComponent{}
	}
	return &discordgo.WebhookEdit{
		Content:         &content,
		Embeds:          &embeds,
		Components:      &components,
		AllowedMentions: &discordgo.MessageAllowedMentions{},
	}
}

func ephemeral(format string, args ...any) Reply {
	return Reply{Content: fmt.Sprintf(format, args...), Ephemeral: true}
}
