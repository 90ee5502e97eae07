package discord

import (
	"fmt"

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
