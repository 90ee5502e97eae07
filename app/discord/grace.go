package discord

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
)

// leaver leaves guilds that stay unapproved for longer than a grace period
// after the bot joined them. The deadline counts from Discord's joined_at,
// so a restart does not restart the grace period. close stops every timer
// and cancels the checks that are running.
type leaver struct {
	grace     time.Duration
	approvals approvals
	leave     func(ctx context.Context, guild music.GuildID) error
	log       *slog.Logger
	ctx       context.Context // of the checks; cancelled by close
	cancel    context.CancelFunc

	mu     sync.Mutex
	timers map[music.GuildID]*time.Timer
	closed bool
	wg     sync.WaitGroup
}

func newLeaver(ctx context.Context, grace time.Duration, approvals approvals, leave func(context.Context, music.GuildID) error, log *slog.Logger) *leaver {
	l := &leaver{grace: grace, approvals: approvals, leave: leave, log: log}
	l.ctx, l.cancel = context.WithCancel(ctx)
	return l
}

// schedule (re)arms the guild's check at joinedAt + grace.
func (l *leaver) schedule(guild music.GuildID, joinedAt time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if l.timers == nil {
		l.timers = make(map[music.GuildID]*time.Timer)
	}
	if t := l.timers[guild]; t != nil && t.Stop() {
		l.wg.Done()
	}
	if joinedAt.IsZero() {
		joinedAt = time.Now()
	}
	l.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(time.Until(joinedAt.Add(l.grace)), func() {
		defer l.wg.Done()
		l.mu.Lock()
		current := l.timers[guild] == t
		if current {
			delete(l.timers, guild)
		}
		l.mu.Unlock()
		if current {
			l.check(guild)
		}
	})
	l.timers[guild] = t
}

// forget cancels the guild's check (the bot left or was removed).
func (l *leaver) forget(guild music.GuildID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.timers[guild]; t != nil && t.Stop() {
		l.wg.Done()
	}
	delete(l.timers, guild)
}

func (l *leaver) check(guild music.GuildID) {
	ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
	defer cancel()
	log := l.log.With(slog.String("guild", string(guild)))
	ok, err := l.approvals.IsApproved(ctx, guild)
	if err != nil {
		log.Warn("checking an unapproved guild; will check again when it next becomes available", slog.Any("err", err))
		return
	}
	if ok {
		return
	}
	if err := l.leave(ctx, guild); err != nil {
		log.Warn("leaving an unapproved guild", slog.Any("err", err))
		return
	}
	log.Info("left a guild that was not approved within the grace period", slog.Duration("grace", l.grace))
}

// close stops all pending checks, cancels running ones and waits for them.
func (l *leaver) close() {
	l.cancel()
	l.mu.Lock()
	l.closed = true
	for g, t := range l.timers {
		if t.Stop() {
			l.wg.Done()
		}
		delete(l.timers, g)
	}
	l.mu.Unlock()
	l.wg.Wait()
}

func (b *Bot) onGuildCreate(_ *discordgo.Session, g *discordgo.GuildCreate) {
	if b.leaver == nil || g.Guild == nil || g.Unavailable {
		return
	}
	b.leaver.schedule(music.GuildID(g.ID), g.JoinedAt)
}

func (b *Bot) onGuildDelete(_ *discordgo.Session, g *discordgo.GuildDelete) {
	if b.leaver == nil || g.Guild == nil || g.Unavailable {
		return
	}
	b.leaver.forget(music.GuildID(g.ID))
}
