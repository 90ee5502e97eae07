package discord

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// loopModes are /loop's choices, in the order the loop button cycles.
var loopModes = []player.LoopMode{player.LoopOff, player.LoopTrack, player.LoopQueue}

// playbackCommands declares the commands that control the guild's player.
func (h *Handlers) playbackCommands() []Command {
	loopChoices := make([]string, len(loopModes))
	for i, m := range loopModes {
		loopChoices[i] = m.String()
	}
	filterChoices := append(slices.Clone(h.Filters), "off")
	position := func(name, desc string) Option {
		return Option{Name: name, Description: desc, Type: Integer, Required: true, MinValue: 1, MaxValue: music.MaxQueueLen}
	}
	return []Command{
		{Name: "pause", Description: "Pause the music", Run: h.pause},
		{Name: "resume", Description: "Resume the music", Run: h.resume},
		{Name: "skip", Description: "Skip the current track, or jump to a position in the queue", Run: h.skip,
			Options: []Option{{Name: "to", Description: "Queue position to jump to", Type: Integer, MinValue: 2, MaxValue: music.MaxQueueLen}}},
		{Name: "stop", Description: "Stop, clear the queue and leave the voice channel", Run: h.stop},
		{Name: "seek", Description: "Jump within the track: 1:23, +10 or -10 (seconds)", Run: h.seek,
			Options: []Option{{Name: "position", Description: "1:23 (absolute), +10 or -10 (relative, seconds)", Type: String, Required: true, MaxLength: 12}}},
		{Name: "volume", Description: "Set the volume, 0-200 %", Run: h.volume,
			Options: []Option{{Name: "percent", Description: "0 to 200; 100 is the track's own level", Type: Integer, Required: true, MinValue: 0, MaxValue: music.MaxVolume}}},
		{Name: "loop", Description: "Repeat nothing, the track or the queue", Run: h.loop,
			Options: []Option{{Name: "mode", Description: "off, track or queue", Type: String, Required: true, Choices: loopChoices}}},
		{Name: "shuffle", Description: "Shuffle the tracks after the current one", Run: h.shuffle},
		{Name: "move", Description: "Move a track to another position", Run: h.move,
			Options: []Option{position("from", "Position of the track"), position("to", "Its new position")}},
		{Name: "previous", Description: "Play the previous track again", Run: h.previous},
		{Name: "replay", Description: "Restart the current track", Run: h.replay},
		{Name: "247", Description: "Stay in the voice channel when the queue is empty or nobody listens", Run: h.alwaysOn,
			Options: []Option{{Name: "enabled", Description: "true to stay, false to leave when idle", Type: Boolean, Required: true}}},
		{Name: "autoplay", Description: "When the queue runs out, play related tracks", Run: h.autoplay,
			Options: []Option{{Name: "enabled", Description: "true to play related tracks, false to stop when the queue ends", Type: Boolean, Required: true}}},
		{Name: "filter", Description: "Toggle an audio filter; off removes them all", Run: h.filter,
			Options: []Option{{Name: "name", Description: "The filter", Type: String, Required: true, Choices: filterChoices}}},
		{Name: "normalize", Description: "Even out loudness between tracks (EBU R128)", Run: h.normalize,
			Options: []Option{{Name: "enabled", Description: "true to normalise loudness", Type: Boolean, Required: true}}},
	}
}

// nowPlayingReply shows the player's status with its buttons.
func nowPlayingReply(st player.Status) Reply {
	return Reply{Embeds: nowPlayingStatusEmbeds(st), Components: nowPlayingButtons(st)}
}

func (h *Handlers) nowPlaying(_ context.Context, r *Request) (Reply, error) {
	g := h.audio.active(r.Guild)
	if g == nil {
		return Reply{}, errNotPlaying
	}
	return nowPlayingReply(g.player.Status()), nil
}

func (h *Handlers) pause(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	if err := g.player.Pause(); err != nil {
		return Reply{}, err
	}
	return Reply{Content: "Paused. `/resume` to go on."}, nil
}

func (h *Handlers) resume(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	if err := g.player.Resume(); err != nil {
		return Reply{}, err
	}
	return Reply{Content: "Resumed."}, nil
}

func (h *Handlers) skip(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	st := g.player.Status()
	if st.State == player.StateIdle {
		return Reply{}, errNotPlaying
	}
	if to, ok := r.Int("to"); ok {
		if !h.audio.isDJ(r) {
			return Reply{}, music.Errorf(music.EFORBIDDEN, "Only the DJ role can jump ahead in the queue.")
		}
		if err := g.player.Skip(ctx, to-1); err != nil {
			return Reply{}, err
		}
		return Reply{Content: fmt.Sprintf("Jumped to position %d.", to)}, nil
	}
	if !h.audio.isDJ(r) && st.Entry.Track.RequestedBy != r.User {
		votes, needed, skipped, err := g.player.VoteSkip(ctx, r.User, h.audio.listeners(r.Guild))
		if err != nil {
			return Reply{}, err
		}
		if !skipped {
			return Reply{Content: fmt.Sprintf("<@%s> voted to skip **%s** (%d of %d votes).", r.User, escapeMarkdown(st.Entry.Track.Title), votes, needed)}, nil
		}
		return Reply{Content: fmt.Sprintf("Skipped **%s** by vote.", escapeMarkdown(st.Entry.Track.Title))}, nil
	}
	if err := g.player.Skip(ctx, 0); err != nil {
		return Reply{}, err
	}
	return Reply{Content: fmt.Sprintf("Skipped **%s**.", escapeMarkdown(st.Entry.Track.Title))}, nil
}

// stop also cancels the guild's /play commands still finding tracks, so
// that none lands after it; with nothing playing yet, that is all it does.
func (h *Handlers) stop(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if errors.Is(err, errNotPlaying) && h.audio.isDJ(r) {
		if n := h.plays.cancelGuild(r.Guild); n > 0 {
			return Reply{Content: fmt.Sprintf("Stopped: cancelled %d %s still being queued.", n, plural(n, "/play", "/plays"))}, nil
		}
	}
	if err != nil {
		return Reply{}, err
	}
	if !h.audio.isDJ(r) {
		return Reply{}, music.Errorf(music.EFORBIDDEN, "Only the DJ role can stop the music for everyone.")
	}
	h.plays.cancelGuild(r.Guild)
	if err := g.player.Stop(ctx); err != nil {
		return Reply{}, err
	}
	g.stop()
	return Reply{Content: "Stopped, cleared the queue and left the channel."}, nil
}

func (h *Handlers) seek(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	to, relative, err := parseSeek(r.String("position"))
	if err != nil {
		return Reply{}, err
	}
	if relative {
		err = g.player.SeekBy(ctx, to)
	} else {
		err = g.player.Seek(ctx, to)
	}
	if err != nil {
		return Reply{}, err
	}
	return Reply{Content: "Seeking to " + formatDuration(g.player.Status().Position) + "."}, nil
}

// parseSeek reads "1:23" or "1:02:03" (absolute), "+10" or "-10"
// (relative seconds) and "90" (absolute seconds).
func parseSeek(s string) (d time.Duration, relative bool, err error) {
	s = strings.TrimSpace(s)
	bad := music.Errorf(music.EINVALID, "%q is not a position: use 1:23, +10 or -10.", music.Truncate(s, 12))
	if s == "" {
		return 0, false, bad
	}
	sign := time.Duration(1)
	switch s[0] {
	case '+':
		relative, s = true, s[1:]
	case '-':
		relative, sign, s = true, -1, s[1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 || (relative && len(parts) > 1) {
		return 0, false, bad
	}
	var total int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || (i > 0 && (n > 59 || len(p) != 2)) {
			return 0, false, bad
		}
		total = total*60 + n
	}
	if total > 24*3600 {
		return 0, false, bad
	}
	return sign * time.Duration(total) * time.Second, relative, nil
}

func (h *Handlers) volume(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	pct, _ := r.Int("percent")
	if err := g.player.SetVolume(ctx, pct); err != nil {
		return Reply{}, err
	}
	return Reply{Content: fmt.Sprintf("Volume %d%%.", pct)}, nil
}

func (h *Handlers) loop(_ context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	for _, m := range loopModes {
		if m.String() == r.String("mode") {
			if err := g.player.SetLoop(m); err != nil {
				return Reply{}, err
			}
			return Reply{Content: "Loop: " + m.String() + "."}, nil
		}
	}
	return Reply{}, music.Errorf(music.EINVALID, "Loop mode must be off, track or queue.")
}

func (h *Handlers) shuffle(ctx context.Context, r *Request) (Reply, error) {
	n, err := h.Queues.Len(ctx, r.Guild)
	if err != nil {
		return Reply{}, fmt.Errorf("reading the queue length: %w", err)
	}
	if n < 3 {
		return Reply{}, music.Errorf(music.EINVALID, "There is nothing to shuffle after the current track.")
	}
	seed := rand.Int64()
	if err := h.Queues.Shuffle(ctx, r.Guild, seed); err != nil {
		return Reply{}, fmt.Errorf("shuffling: %w", err)
	}
	if g := h.audio.active(r.Guild); g != nil {
		// The store shuffles every entry; the current track goes back to
		// the head, where ShuffleOrder says it went.
		if at := slices.Index(music.ShuffleOrder(n, seed), 0); at > 0 {
			if err := h.Queues.Move(ctx, r.Guild, at, 0); err != nil {
				return Reply{}, fmt.Errorf("keeping the current track first: %w", err)
			}
		}
	}
	return Reply{Content: fmt.Sprintf("Shuffled %d tracks.", n)}, nil
}

func (h *Handlers) move(ctx context.Context, r *Request) (Reply, error) {
	from, _ := r.Int("from")
	to, _ := r.Int("to")
	if err := h.Queues.Move(ctx, r.Guild, from-1, to-1); err != nil {
		if code := music.ErrorCode(err); code == music.EINVALID || code == music.ENOTFOUND {
			return Reply{}, err
		}
		return Reply{}, fmt.Errorf("moving %d to %d: %w", from, to, err)
	}
	if err := h.queueChanged(ctx, r.Guild, from == 1 || to == 1); err != nil {
		return Reply{}, err
	}
	return Reply{Content: fmt.Sprintf("Moved the track at %d to %d.", from, to)}, nil
}

// queueChanged tells the player its head may have changed.
func (h *Handlers) queueChanged(ctx context.Context, guild music.GuildID, headChanged bool) error {
	if g := h.audio.active(guild); g != nil && headChanged {
		return g.player.QueueChanged(ctx)
	}
	return nil
}

func (h *Handlers) previous(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	if err := g.player.Previous(ctx); err != nil {
		return Reply{}, err
	}
	return Reply{Content: "Playing the previous track."}, nil
}

func (h *Handlers) replay(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	if err := g.player.Replay(ctx); err != nil {
		return Reply{}, err
	}
	return Reply{Content: "Restarted the track."}, nil
}

func (h *Handlers) alwaysOn(_ context.Context, r *Request) (Reply, error) {
	return h.toggle(r, (*player.Player).SetAlwaysOn, "24/7 on: I'll stay in the channel.", "24/7 off: I'll leave when idle.")
}

func (h *Handlers) autoplay(_ context.Context, r *Request) (Reply, error) {
	return h.toggle(r, (*player.Player).SetAutoplay,
		"Autoplay on: when the queue runs out, I'll play related tracks.", "Autoplay off: I'll stop when the queue ends.")
}

// toggle runs a command's enabled:<true|false> switch of the player.
func (h *Handlers) toggle(r *Request, set func(p *player.Player, on bool) error, onText, offText string) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	on := r.Bool("enabled")
	if err := set(g.player, on); err != nil {
		return Reply{}, err
	}
	if on {
		return Reply{Content: onText}, nil
	}
	return Reply{Content: offText}, nil
}

func (h *Handlers) filter(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	name := r.String("name")
	var filters []string
	if name != "off" {
		filters = slices.Clone(g.player.Status().Filters)
		if i := slices.Index(filters, name); i >= 0 {
			filters = slices.Delete(filters, i, i+1)
		} else {
			filters = append(filters, name)
		}
	}
	if err := g.player.SetFilters(ctx, filters); err != nil {
		return Reply{}, err
	}
	if len(filters) == 0 {
		return Reply{Content: "Filters off."}, nil
	}
	return Reply{Content: "Filters: " + strings.Join(filters, ", ") + "."}, nil
}

func (h *Handlers) normalize(ctx context.Context, r *Request) (Reply, error) {
	g, err := h.audio.control(r)
	if err != nil {
		return Reply{}, err
	}
	on := r.Bool("enabled")
	if err := g.player.SetNormalize(ctx, on); err != nil {
		return Reply{}, err
	}
	if on {
		return Reply{Content: "Loudness normalisation on."}, nil
	}
	return Reply{Content: "Loudness normalisation off."}, nil
}

// nowPlayingButton serves the "np:<action>" buttons under the now-playing
// message, with the same rules as the commands; the message is redrawn.
func (h *Handlers) nowPlayingButton(ctx context.Context, r *Request) (Reply, error) {
	_, action, _ := strings.Cut(r.Command, ":")
	var err error
	switch action {
	case "pause":
		_, err = h.pause(ctx, r)
	case "resume":
		_, err = h.resume(ctx, r)
	case "skip":
		var reply Reply
		if reply, err = h.skip(ctx, r); err == nil && strings.Contains(reply.Content, "voted") {
			return ephemeral("%s", reply.Content), nil
		}
	case "previous":
		_, err = h.previous(ctx, r)
	case "stop":
		if _, err = h.stop(ctx, r); err == nil {
			return Reply{Embeds: nowPlayingStatusEmbeds(player.Status{}), Components: nowPlayingButtons(player.Status{})}, nil
		}
	case "loop":
		var g *guildAudio
		if g, err = h.audio.control(r); err == nil {
			i := slices.Index(loopModes, g.player.Status().Loop)
			err = g.player.SetLoop(loopModes[(i+1)%len(loopModes)])
		}
	case "shuffle":
		if _, err = h.audio.control(r); err == nil {
			_, err = h.shuffle(ctx, r)
		}
	default:
		return Reply{}, music.Errorf(music.EINVALID, "This button no longer works.")
	}
	if err != nil {
		return Reply{}, err
	}
	g := h.audio.active(r.Guild)
	if g == nil {
		return Reply{Embeds: nowPlayingStatusEmbeds(player.Status{}), Components: nowPlayingButtons(player.Status{})}, nil
	}
	return nowPlayingReply(g.player.Status()), nil
}
