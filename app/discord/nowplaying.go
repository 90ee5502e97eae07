package discord

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/player"
)

// messageEditor is the part of *discordgo.Session the now-playing message
// is sent and edited through.
type messageEditor interface {
	ChannelMessageSendComplex(channelID string, data *discordgo.MessageSend, options ...discordgo.RequestOption) (*discordgo.Message, error)
	ChannelMessageEditComplex(m *discordgo.MessageEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
}

// nowPlaying is a guild's one now-playing message, in the channel where
// playback started: sent once, then edited as tracks change, never
// repeated. Only the guild's run goroutine uses it.
type nowPlaying struct {
	channel string
	session messageEditor
	log     *slog.Logger

	messageID string
	shown     string // the last rendered text, to skip edits that change nothing
}

// show sends or edits the message to match the player's status.
func (n *nowPlaying) show(ctx context.Context, st player.Status) {
	if n.channel == "" || (st.State == player.StateIdle && n.messageID == "") {
		return
	}
	embeds := nowPlayingStatusEmbeds(st)
	components := nowPlayingButtons(st)
	key := fmt.Sprintf("%v", embedsText(embeds)) + fmt.Sprint(buttonsKey(components))
	if key == n.shown {
		return
	}
	if n.messageID == "" {
		// The send is not cancelled with the guild: a message Discord
		// created but whose ID the bot never heard of could not be
		// finished, and would say "Now playing" for ever.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		m, err := n.session.ChannelMessageSendComplex(n.channel, &discordgo.MessageSend{
			Embeds: embeds, Components: components, AllowedMentions: &discordgo.MessageAllowedMentions{},
		}, discordgo.WithContext(ctx))
		if err != nil {
			n.log.Warn("sending the now-playing message", slog.Any("err", err))
			return
		}
		n.messageID, n.shown = m.ID, key
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := n.edit(ctx, embeds, components); err != nil {
		n.log.Warn("editing the now-playing message", slog.Any("err", err))
		return
	}
	n.shown = key
}

// finish turns the message into a last word without buttons.
func (n *nowPlaying) finish(ctx context.Context) {
	if n.messageID == "" {
		return
	}
	embeds := []*discordgo.MessageEmbed{{Title: "Stopped", Description: "Queue more with `/play`.", Color: embedColor}}
	if err := n.edit(ctx, embeds, []discordgo.MessageComponent{}); err != nil {
		n.log.Warn("editing the now-playing message", slog.Any("err", err))
	}
}

// notice posts a one-off message, such as a track that could not play.
func (n *nowPlaying) notice(ctx context.Context, text string) {
	if n.channel == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := n.session.ChannelMessageSendComplex(n.channel, &discordgo.MessageSend{
		Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{},
	}, discordgo.WithContext(ctx)); err != nil {
		n.log.Warn("sending a notice", slog.Any("err", err))
	}
}

func (n *nowPlaying) edit(ctx context.Context, embeds []*discordgo.MessageEmbed, components []discordgo.MessageComponent) error {
	_, err := n.session.ChannelMessageEditComplex(&discordgo.MessageEdit{
		ID: n.messageID, Channel: n.channel,
		Embeds: &embeds, Components: &components,
		AllowedMentions: &discordgo.MessageAllowedMentions{},
	}, discordgo.WithContext(ctx))
	return err
}

func embedsText(embeds []*discordgo.MessageEmbed) string {
	var b strings.Builder
	for _, e := range embeds {
		b.WriteString(e.Title + e.Description)
		for _, f := range e.Fields {
			b.WriteString(f.Name + f.Value)
		}
		if e.Footer != nil {
			b.WriteString(e.Footer.Text)
		}
		if e.Thumbnail != nil {
			b.WriteString(e.Thumbnail.URL)
		}
	}
	return b.String()
}

func buttonsKey(components []discordgo.MessageComponent) []string {
	var keys []string
	for _, row := range components {
		if r, ok := row.(discordgo.ActionsRow); ok {
			for _, c := range r.Components {
				if btn, ok := c.(discordgo.Button); ok {
					keys = append(keys, btn.CustomID+btn.Label)
				}
			}
		}
	}
	return keys
}
