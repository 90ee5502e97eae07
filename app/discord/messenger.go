package discord

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
)

// Messenger sends direct messages through Discord's REST API alone, with
// no gateway session: what a process that serves only the web front needs
// to tell owners of access requests.
type Messenger struct {
	session *discordgo.Session
	log     *slog.Logger
}

// NewMessenger makes a messenger that sends as the bot whose token it is
// given, to apiURL ("" is https://discord.com).
func NewMessenger(token, apiURL string, log *slog.Logger) (*Messenger, error) {
	s, err := newSession(token, apiURL, log, &startupIO{})
	if err != nil {
		return nil, err
	}
	return &Messenger{session: s, log: log}, nil
}

// DirectMessage sends text to user, mentioning no one.
func (m *Messenger) DirectMessage(ctx context.Context, user music.UserID, text string) error {
	return directMessage(ctx, m.session, m.log, user, text)
}

// directMessage opens the DM channel with user and sends text to it.
func directMessage(ctx context.Context, s *discordgo.Session, log *slog.Logger, user music.UserID, text string) error {
	ch, err := s.UserChannelCreate(string(user), discordgo.WithContext(ctx))
	if err != nil {
		err = fmt.Errorf("opening a DM with %s: %w", user, err)
		log.Warn("direct message failed", slog.Any("err", err))
		return err
	}
	msg := &discordgo.MessageSend{Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{}}
	if _, err := s.ChannelMessageSendComplex(ch.ID, msg, discordgo.WithContext(ctx)); err != nil {
		err = fmt.Errorf("sending a DM to %s: %w", user, err)
		log.Warn("direct message failed", slog.Any("err", err))
		return err
	}
	return nil
}
