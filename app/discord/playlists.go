package discord

import (
	"context"
	"fmt"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// serviceChoices are the services a user can name as their default.
var serviceChoices = []string{"spotify", "youtube", "soundcloud"}

// defaultVolume is what a user who set no default volume hears.
const defaultVolume = 100

// playlistCommands are /playlist and /settings: what the bot keeps for each
// user, whatever guild they use it in.
func (h *Handlers) playlistCommands() []Command {
	name := Option{Name: "name", Description: fmt.Sprintf("The playlist's name, 1-%d characters", music.MaxPlaylistNameLen),
		Type: String, Required: true, MaxLength: music.MaxPlaylistNameLen}
	return []Command{
		{Name: "playlist", Description: "Save the queue as your playlist, or play one you saved", Subcommands: []Command{
			{Name: "save", Description: "Save this server's queue as one of your playlists", Run: h.savePlaylist,
				Options: []Option{name, {Name: "overwrite", Description: "Replace your playlist of that name", Type: Boolean}}},
			{Name: "load", Description: "Add one of your playlists to the queue and play it", Run: h.loadPlaylist, Options: []Option{name}},
			{Name: "list", Description: "List your saved playlists", Run: h.listPlaylists},
			{Name: "delete", Description: "Delete one of your playlists", Run: h.deletePlaylist, Options: []Option{name}},
		}},
		{Name: "settings", Description: "Show or change your settings", Run: h.settings, Options: []Option{
			{Name: "volume", Description: "Volume when you start the music, 1 to 200 %", Type: Integer, MinValue: 1, MaxValue: music.MaxVolume},
			{Name: "announce", Description: "Post the now-playing message when you start the music", Type: Boolean},
			{Name: "service", Description: "Your default music service", Type: String, Choices: serviceChoices},
		}},
	}
}

func (h *Handlers) savePlaylist(ctx context.Context, r *Request) (Reply, error) {
	name, err := music.PlaylistName(r.String("name"))
	if err != nil {
		return Reply{}, err
	}
	tracks, err := h.queueTracks(ctx, r.Guild, music.MaxPlaylistTracks+1)
	if err != nil {
		return Reply{}, err
	}
	switch {
	case len(tracks) == 0:
		return Reply{}, music.Errorf(music.EINVALID, "The queue is empty: queue something with `/play` first, then save it.")
	case len(tracks) > music.MaxPlaylistTracks:
		return Reply{}, music.Errorf(music.EINVALID, "The queue has more than %d tracks, the most a playlist can hold.", music.MaxPlaylistTracks)
	}
	// A saved track names nobody: loading claims it for whoever loads it,
	// and who queued it must not outlast their /forget-me in someone
	// else's playlist.
	for i := range tracks {
		tracks[i].RequestedBy = ""
	}
	p := music.SavedPlaylist{User: r.User, Name: name, Tracks: tracks}
	if err := h.Playlists.SavePlaylist(ctx, p, r.Bool("overwrite")); err != nil {
		return Reply{}, fmt.Errorf("saving playlist %q: %w", name, err)
	}
	return ephemeral("Saved **%s** (%d %s).", escapeMarkdown(name), len(tracks), plural(len(tracks), "track", "tracks")), nil
}

// queueTracks returns the guild's queued tracks in order, at most limit.
func (h *Handlers) queueTracks(ctx context.Context, guild music.GuildID, limit int) ([]music.Track, error) {
	var tracks []music.Track
	for len(tracks) < limit {
		p, err := h.Queues.Page(ctx, guild, len(tracks), min(music.MaxPageLimit, limit-len(tracks)))
		if err != nil {
			return nil, fmt.Errorf("reading the queue: %w", err)
		}
		for _, e := range p.Entries {
			tracks = append(tracks, e.Track)
		}
		if len(p.Entries) == 0 || len(tracks) >= p.Total {
			break
		}
	}
	return tracks, nil
}

func (h *Handlers) loadPlaylist(ctx context.Context, r *Request) (Reply, error) {
	name, err := music.PlaylistName(r.String("name"))
	if err != nil {
		return Reply{}, err
	}
	p, err := h.Playlists.Playlist(ctx, r.User, name)
	if err != nil {
		return Reply{}, fmt.Errorf("reading playlist %q: %w", name, err)
	}
	// The duration limit may have changed since the playlist was saved.
	tracks, note, err := h.withinDuration(p.Tracks, "")
	if err != nil {
		return Reply{}, err
	}
	for i := range tracks {
		tracks[i].RequestedBy = r.User
	}
	pos, err := h.enqueueAndStart(ctx, r, tracks, false)
	if err != nil {
		return Reply{}, err
	}
	text := fmt.Sprintf("Queued **%s**: %d %s from position %d.",
		escapeMarkdown(name), len(tracks), plural(len(tracks), "track", "tracks"), pos+1)
	if note != "" {
		text += " " + note
	}
	return Reply{Content: text}, nil
}

func (h *Handlers) listPlaylists(ctx context.Context, r *Request) (Reply, error) {
	list, err := h.Playlists.Playlists(ctx, r.User)
	if err != nil {
		return Reply{}, fmt.Errorf("listing playlists: %w", err)
	}
	return listReply(fmt.Sprintf("Your playlists (%d of %d)", len(list), music.MaxPlaylists),
		"You have no saved playlists yet: save the queue with `/playlist save name:<name>`.", list,
		func(p music.PlaylistSummary) string {
			return fmt.Sprintf("**%s** — %d %s, saved <t:%d:R>", escapeMarkdown(p.Name), p.Tracks, plural(p.Tracks, "track", "tracks"), p.SavedAt.Unix())
		}), nil
}

func (h *Handlers) deletePlaylist(ctx context.Context, r *Request) (Reply, error) {
	name, err := music.PlaylistName(r.String("name"))
	if err != nil {
		return Reply{}, err
	}
	if err := h.Playlists.DeletePlaylist(ctx, r.User, name); err != nil {
		return Reply{}, fmt.Errorf("deleting playlist %q: %w", name, err)
	}
	return ephemeral("Deleted **%s**.", escapeMarkdown(name)), nil
}

func (h *Handlers) settings(ctx context.Context, r *Request) (Reply, error) {
	p, err := h.Preferences.Preferences(ctx, r.User)
	if err != nil {
		return Reply{}, fmt.Errorf("reading settings: %w", err)
	}
	volume, setVolume := r.Int("volume")
	announce, setAnnounce := r.OptionalBool("announce")
	service := r.String("service")
	if setVolume {
		p.Volume = volume
	}
	if setAnnounce {
		p.Quiet = !announce
	}
	if service != "" {
		p.Source = service
	}
	if !setVolume && !setAnnounce && service == "" {
		return ephemeral("Your settings:\n%s", settingsText(p)), nil
	}
	if err := h.Preferences.SetPreferences(ctx, p); err != nil {
		return Reply{}, fmt.Errorf("saving settings: %w", err)
	}
	return ephemeral("Saved. Your settings:\n%s", settingsText(p)), nil
}

func settingsText(p music.Preferences) string {
	volume := fmt.Sprintf("%d%%", p.Volume)
	if p.Volume == 0 {
		volume = fmt.Sprintf("%d%% (default)", defaultVolume)
	}
	announce := "on"
	if p.Quiet {
		announce = "off"
	}
	service := p.Source
	if service == "" {
		service = "none chosen"
	}
	return fmt.Sprintf("• Volume when you start the music: %s\n• Announce songs: %s\n• Default service: %s", volume, announce, service)
}

// enqueueAndStart is the way /play and /playlist load add music: join the
// caller's channel if needed, queue the tracks, and start the player. It
// returns the queue index of the first track.
func (h *Handlers) enqueueAndStart(ctx context.Context, r *Request, tracks []music.Track, next bool) (int, error) {
	g, err := h.audio.ensure(ctx, r)
	if err != nil {
		return 0, err
	}
	// An idle player is one this caller starts: their settings apply. They
	// are read before anything is queued, so a failure leaves no trace.
	idle := g.player.Status().State == player.StateIdle
	var settings music.Preferences
	if idle {
		if settings, err = h.userSettings(ctx, r.User); err != nil {
			return 0, err
		}
	}
	pos, err := h.Queues.Enqueue(ctx, r.Guild, tracks...)
	if err != nil {
		return 0, fmt.Errorf("enqueueing: %w", err)
	}
	if next && pos > 1 {
		if err := h.Queues.Move(ctx, r.Guild, pos, 1); err != nil {
			return 0, fmt.Errorf("moving the track up: %w", err)
		}
		pos = 1
	}
	if idle {
		if err := g.apply(ctx, settings); err != nil {
			return 0, err
		}
	}
	if err := g.player.Start(ctx); err != nil {
		return 0, err
	}
	return pos, nil
}

// userSettings returns the user's preferences; defaults when the bot keeps
// none.
func (h *Handlers) userSettings(ctx context.Context, user music.UserID) (music.Preferences, error) {
	if h.Preferences == nil {
		return music.Preferences{User: user}, nil
	}
	p, err := h.Preferences.Preferences(ctx, user)
	if err != nil {
		return music.Preferences{}, fmt.Errorf("reading your settings: %w", err)
	}
	return p, nil
}

// apply sets up the guild's playback as the user who starts it likes it:
// their volume, and whether the now-playing message is posted.
func (g *guildAudio) apply(ctx context.Context, p music.Preferences) error {
	// Quiet first: the volume change wakes the now-playing loop.
	g.quiet.Store(p.Quiet)
	volume := p.Volume
	if volume == 0 {
		volume = defaultVolume
	}
	if err := g.player.SetVolume(ctx, volume); err != nil {
		return fmt.Errorf("applying the volume: %w", err)
	}
	return nil
}
