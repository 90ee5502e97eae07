package discord

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// notifier sends a direct message to a user.
type notifier interface {
	DirectMessage(ctx context.Context, user music.UserID, text string) error
}

// Handlers holds what the slash commands work on.
type Handlers struct {
	Queues    music.QueueStore
	Allowlist music.AllowlistStore
	// Preferences and Playlists are what the bot keeps for each user.
	Preferences music.PreferenceStore
	Playlists   music.PlaylistStore
	Notifier    notifier
	Owners      []music.UserID
	// GuildName returns a guild's name for messages, "" when unknown.
	GuildName func(music.GuildID) string
	Now       func() time.Time
	// Filters names the audio filters /filter offers.
	Filters []string
	// Pages resolves the URLs of sites' pages (a YouTube video's, say) to
	// tracks. Default: none, every URL is played as a file.
	Pages PageResolver
	// MaxTrackDuration refuses, when /play queues them, tracks whose
	// known duration is longer: a single one with the limit's text, a
	// list's left out with a note. Default: none (the audio pipeline
	// still cuts a track there, live streams and unknown durations above
	// all).
	MaxTrackDuration time.Duration
	// Accounts links users' music accounts. Default: none, the account
	// commands say linking is not set up.
	Accounts Accounts
	// Requesters lets /forget-me remove the user's name from the tracks
	// they queued in any guild. Default: none, /forget-me leaves queues be.
	Requesters Requesters
	// Links turns Spotify and Deezer links into tracks found elsewhere.
	// Default: none, such links are played as any other URL.
	Links LinkResolver
	// Lyrics finds the current track's lyrics for /lyrics. Default: none.
	Lyrics LyricsFinder
	// Library reads linked users' playlists, liked and top tracks for
	// /play source: and playlist:. Default: none, /play has no such
	// options. It needs Accounts.
	Library Library

	audio *playback
	// recent finds tracks for /play and /search given words, not a URL,
	// remembering answers for autocomplete. nil: /play takes URLs only.
	recent *recentSearches
	// playlists remembers users' playlists for /play playlist:'s
	// autocomplete; nil without a Library.
	playlists *userPlaylists
	// plays are the /play commands in flight; Commands makes them when
	// the bot did not.
	plays *plays
}

// queuePageSize is how many entries one /queue page shows.
const queuePageSize = 10

// Commands returns the command table, /help included.
func (h *Handlers) Commands() []Command {
	guildOpt := Option{Name: "guild", Description: "Server ID", Type: String, Required: true, MaxLength: 20}
	query := Option{Name: "query", Description: "http(s) URL of an audio file, a stream, or a YouTube, SoundCloud or Bandcamp page", Type: String, Required: true, MaxLength: music.MaxURLLen}
	if h.recent != nil {
		query.Description = "Words to search for, or the http(s) URL of an audio file, a stream, or a page such as YouTube's"
		query.Autocomplete = func(ctx context.Context, _ *Request, typed string) []Choice { return h.recent.Suggest(ctx, typed) }
	}
	if h.plays == nil {
		h.plays = newPlays()
	}
	playOpts := []Option{query}
	if h.Library != nil && h.Accounts != nil {
		if h.playlists == nil {
			h.playlists = newUserPlaylists(h.Library, h.Accounts, time.Now)
		}
		// One of query, source or playlist: the handler checks.
		playOpts[0].Required = false
		playOpts = append(playOpts, libraryOptions(h.playlists)...)
	}
	playOpts = append(playOpts, Option{Name: "next", Description: "Play it after the current track instead of at the end", Type: Boolean})
	cmds := []Command{
		{Name: "play", Description: "Play an audio file, a stream, or a page of a site such as YouTube, by its URL or by searching", Run: h.play,
			Options: playOpts, Unlocked: true, Timeout: playTimeout},
		{Name: "queue", Description: "Show the queue", Run: h.queue,
			Options: []Option{{Name: "page", Description: "Page number", Type: Integer, MinValue: 1, MaxValue: music.MaxQueueLen/queuePageSize + 1}}},
		{Name: "remove", Description: "Remove a track from the queue", Run: h.remove,
			Options: []Option{{Name: "position", Description: "Position in the queue, 1 is the current track", Type: Integer, Required: true, MinValue: 1, MaxValue: music.MaxQueueLen}}},
		{Name: "clear", Description: "Empty the queue", Run: h.clear},
		{Name: "nowplaying", Description: "Show the current track and its position", Run: h.nowPlaying},
		{Name: "request-access", Description: "Ask the bot's owners to enable TimmyBot on this server", Access: Everyone, Run: h.requestAccess,
			Options: []Option{{Name: "reason", Description: "Why you'd like TimmyBot here", Type: String, Required: true, MaxLength: music.MaxReasonLen}}},
		{Name: "allowlist", Description: "Manage the servers TimmyBot serves", Access: Owners, Subcommands: []Command{
			{Name: "approve", Description: "Approve a server", Options: []Option{guildOpt}, Run: h.approve},
			{Name: "revoke", Description: "Revoke a server's approval", Options: []Option{guildOpt}, Run: h.revoke},
			{Name: "list", Description: "List approved servers", Run: h.listApproved},
			{Name: "requests", Description: "List pending access requests", Run: h.listRequests},
		}},
	}
	if h.recent != nil {
		cmds = append(cmds, Command{Name: "search", Description: "Search for tracks and pick one to queue", Run: h.search,
			Options: []Option{{Name: "query", Description: "Words to search for", Type: String, Required: true, MaxLength: maxSearchLen}}})
	}
	if h.Lyrics != nil {
		cmds = append(cmds, Command{Name: "lyrics", Description: "Show the current track's lyrics", Run: h.lyrics})
	}
	cmds = append(cmds, h.playbackCommands()...)
	cmds = append(cmds, h.accountCommands()...)
	cmds = append(cmds, h.playlistCommands()...)
	all := append(cmds, Command{Name: "help", Description: "List TimmyBot's commands", Access: Everyone})
	all[len(all)-1].Run = func(_ context.Context, r *Request) (Reply, error) {
		// An embed: the table outgrew a message's 2000 characters.
		return Reply{Embeds: listEmbeds("TimmyBot's commands", strings.Split(helpText(all, r.Owner), "\n")), Ephemeral: true}, nil
	}
	return all
}

// Components returns the button routes.
func (h *Handlers) Components() []Component {
	return []Component{{Prefix: "queue", Run: h.queuePageButton}, {Prefix: "np", Run: h.nowPlayingButton}, {Prefix: searchPickPrefix, Run: h.searchPick}}
}

// PageResolver turns the URL of a page it handles into queue entries, with
// a note for the user on what it cut or left out ("" when nothing): one
// for a video's page, the tracks of a playlist's, their titles and
// durations now; their audio is found again at play time.
type PageResolver interface {
	Handles(u *url.URL) bool
	Tracks(ctx context.Context, pageURL string) (tracks []music.Track, note string, err error)
}

// LinkResolver turns a link to a metadata-only source (Spotify, Deezer)
// into tracks found elsewhere, with a note for the user on what it left
// out ("" when nothing).
type LinkResolver interface {
	Handles(query string) bool
	Resolve(ctx context.Context, query string) (tracks []music.Track, note string, err error)
}

// playTimeout bounds a /play: time to mirror a long list, inside the 15
// minutes Discord keeps an interaction's reply editable.
const playTimeout = 10 * time.Minute

// play runs without the guild's lock (plays says in what order plays land
// and what cancels them): finding and mirroring tracks can take minutes,
// and the guild's other commands go on meanwhile. Its reply shows the
// progress of a long list.
func (h *Handlers) play(ctx context.Context, r *Request) (Reply, error) {
	query := strings.TrimSpace(r.String("query"))
	given := 0
	for _, v := range []string{query, r.String("source"), r.String("playlist")} {
		if v != "" {
			given++
		}
	}
	if given != 1 && h.Library != nil {
		return Reply{}, music.Errorf(music.EINVALID, "Give /play exactly one of query:, source: or playlist:.")
	}
	p, err := h.plays.begin(ctx, r.Guild)
	if err != nil {
		return Reply{}, err
	}
	defer h.plays.end(r.Guild, p)
	ctx = music.WithProgress(p.ctx, func(done, total int) { r.Progress(progressText(done, total)) })
	var reply Reply
	switch {
	case query == "" && h.Library != nil:
		reply, err = h.playLibrary(ctx, r, p)
	case h.Links != nil && h.Links.Handles(query):
		reply, err = h.playLink(ctx, r, p, query)
	default:
		reply, err = h.enqueue(ctx, r, p, query)
	}
	// Whatever failed once a stop or Close cancelled the play, the cause is
	// what the user needs to know; a stop's answer is public, as the
	// progress it replaces.
	switch cause := context.Cause(p.ctx); {
	case err != nil && errors.Is(cause, errStoppedDuringPlay):
		return Reply{Content: music.ErrorMessage(cause)}, nil
	case err != nil && errors.Is(cause, errShuttingDown):
		return Reply{}, cause
	}
	return reply, err
}

// progressText is a /play's progress: done of total tracks found, total 0
// while unknown.
func progressText(done, total int) string {
	if total > 0 {
		return fmt.Sprintf("Queueing… %d of %d", done, total)
	}
	return fmt.Sprintf("Queueing… %d so far", done)
}

// enqueue queues what query names and starts the player; p is the /play
// it runs for, nil for other commands.
func (h *Handlers) enqueue(ctx context.Context, r *Request, p *play, query string) (Reply, error) {
	tracks, note, err := h.tracksFor(ctx, query, r.User)
	if err != nil {
		return Reply{}, err
	}
	return h.enqueueList(ctx, r, p, tracks, note)
}

// playLink queues the tracks a Spotify or Deezer link resolves to.
func (h *Handlers) playLink(ctx context.Context, r *Request, p *play, query string) (Reply, error) {
	tracks, note, err := h.tracksForLink(ctx, query, r.User)
	if err != nil {
		return Reply{}, err
	}
	return h.enqueueList(ctx, r, p, tracks, note)
}

// enqueueList queues the tracks of a query, a link or a library list for
// the /play p (nil for other commands) and says where they went, with
// note.
func (h *Handlers) enqueueList(ctx context.Context, r *Request, p *play, tracks []music.Track, note string) (Reply, error) {
	tracks, note, err := h.withinDuration(tracks, note)
	if err != nil {
		return Reply{}, err
	}
	// "next" moves one track; a list keeps its order at the end.
	pos, err := h.land(ctx, r, p, tracks, r.Bool("next") && len(tracks) == 1)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Content: queuedText(tracks, pos, note)}, nil
}

// withinDuration applies MaxTrackDuration to tracks about to be queued: a
// single track too long is refused, a list's are left out with a word
// added to note.
func (h *Handlers) withinDuration(tracks []music.Track, note string) ([]music.Track, string, error) {
	if len(tracks) == 1 {
		return tracks, note, music.CheckDuration(tracks[0].Duration, h.MaxTrackDuration)
	}
	var kept []music.Track
	for _, t := range tracks {
		if music.CheckDuration(t.Duration, h.MaxTrackDuration) == nil {
			kept = append(kept, t)
		}
	}
	limit := music.DurationLimit(h.MaxTrackDuration)
	switch long := len(tracks) - len(kept); {
	case long == 0:
		return tracks, note, nil
	case len(kept) == 0:
		return nil, "", music.Errorf(music.EINVALID, "Every track of that list is longer than the %s limit.", limit)
	case long == 1:
		return kept, music.JoinNotes(note, fmt.Sprintf("Left out 1 track longer than the %s limit.", limit)), nil
	default:
		return kept, music.JoinNotes(note, fmt.Sprintf("Left out %d tracks longer than the %s limit.", long, limit)), nil
	}
}

// land queues tracks as enqueueAndStart does. For a /play (p not nil) it
// first waits for the guild's earlier plays to land, then takes the
// guild's lock, and queues nothing if p was cancelled meanwhile.
func (h *Handlers) land(ctx context.Context, r *Request, p *play, tracks []music.Track, next bool) (int, error) {
	if p != nil && p.before != nil {
		select {
		case <-p.before:
		default:
			r.Progress("Waiting for the /play before this one to be queued…")
		}
		if err := p.waitTurn(); err != nil {
			return 0, err
		}
	}
	var pos int
	err := r.Locked(ctx, func(ctx context.Context) error {
		// /stop and /clear cancel plays under the lock: a play they
		// cancelled sees it here and cannot land after them.
		if err := context.Cause(ctx); err != nil {
			return err
		}
		var err error
		pos, err = h.enqueueAndStart(ctx, r, tracks, next)
		return err
	})
	return pos, err
}

// tracksForLink makes the queue entries for a Spotify or Deezer link.
func (h *Handlers) tracksForLink(ctx context.Context, query string, user music.UserID) ([]music.Track, string, error) {
	tracks, note, err := h.Links.Resolve(ctx, query)
	if err != nil {
		return nil, "", fmt.Errorf("resolving the link: %w", err)
	}
	return claimFound("link", tracks, note, user)
}

// claimFound claims the tracks found for a link or a page (what): finding
// none is ENOTFOUND.
func claimFound(what string, tracks []music.Track, note string, user music.UserID) ([]music.Track, string, error) {
	if len(tracks) == 0 {
		return nil, "", music.Errorf(music.ENOTFOUND, "That %s has no tracks that can be played.", what)
	}
	if err := claim(tracks, user); err != nil {
		return nil, "", err
	}
	return tracks, note, nil
}

// claim marks tracks as requested by user and checks each for the queue.
func claim(tracks []music.Track, user music.UserID) error {
	for i := range tracks {
		tracks[i].RequestedBy = user
		if err := tracks[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// queuedText tells the user where tracks went: pos is the first's queue
// index, 0 when it plays now; note is appended.
func queuedText(tracks []music.Track, pos int, note string) string {
	var text string
	switch {
	case len(tracks) > 1:
		text = fmt.Sprintf("Queued %d tracks from position %d.", len(tracks), pos+1)
	case pos == 0:
		text = fmt.Sprintf("Playing **%s**.", escapeMarkdown(tracks[0].Title))
	default:
		text = fmt.Sprintf("Queued **%s** at position %d.", escapeMarkdown(tracks[0].Title), pos+1)
	}
	if note != "" {
		text += " " + note
	}
	return text
}

// tracksFor makes the queue entries for a /play query, with a note for
// the user: words become the first search result, a page of a site the
// page resolver handles becomes what it resolves to (a playlist's page its
// tracks), any other URL a file.
func (h *Handlers) tracksFor(ctx context.Context, query string, user music.UserID) ([]music.Track, string, error) {
	query = strings.TrimSpace(query)
	if h.recent != nil && !looksLikeURL(query) {
		found, err := h.recent.Find(ctx, query, 1)
		if err != nil {
			return nil, "", fmt.Errorf("searching: %w", err)
		}
		if len(found) == 0 {
			return nil, "", music.Errorf(music.ENOTFOUND, "Nothing found for %q.", music.Truncate(query, 100))
		}
		query = found[0].URL
	}
	u, err := h.audio.checkURL(query)
	if err != nil {
		return nil, "", err
	}
	tracks := []music.Track{{Title: titleFromURL(u), URL: u.String(), Source: "http"}}
	var note string
	if h.Pages != nil && h.Pages.Handles(u) {
		if tracks, note, err = h.Pages.Tracks(ctx, u.String()); err != nil {
			return nil, "", fmt.Errorf("resolving the page: %w", err)
		}
	}
	return claimFound("page", tracks, note, user)
}

// titleFromURL names a track after its file, "song.mp3" in
// https://host/music/song.mp3, or after the host when the path is empty.
func titleFromURL(u *url.URL) string {
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		name = u.Hostname()
	}
	return music.Truncate(name, music.MaxTitleLen)
}

func (h *Handlers) queue(ctx context.Context, r *Request) (Reply, error) {
	page, ok := r.Int("page")
	if !ok {
		page = 1
	}
	return h.renderQueuePage(ctx, r.Guild, page)
}

// queuePageButton serves the "queue:<page>" buttons.
func (h *Handlers) queuePageButton(ctx context.Context, r *Request) (Reply, error) {
	_, arg, _ := strings.Cut(r.Command, ":")
	page, err := strconv.Atoi(arg)
	if err != nil || page < 1 {
		return Reply{}, music.Errorf(music.EINVALID, "This button no longer works.")
	}
	return h.renderQueuePage(ctx, r.Guild, page)
}

func (h *Handlers) renderQueuePage(ctx context.Context, guild music.GuildID, page int) (Reply, error) {
	p, err := h.Queues.Page(ctx, guild, (page-1)*queuePageSize, queuePageSize)
	if err != nil {
		return Reply{}, fmt.Errorf("reading the queue: %w", err)
	}
	pages := max(1, (p.Total+queuePageSize-1)/queuePageSize)
	if page > pages && p.Total > 0 {
		// The queue shrank under the button: show the last page instead.
		return h.renderQueuePage(ctx, guild, pages)
	}
	return Reply{Embeds: queueEmbeds(p, page, pages), Components: queueButtons(page, pages)}, nil
}

func (h *Handlers) remove(ctx context.Context, r *Request) (Reply, error) {
	pos, _ := r.Int("position")
	if !h.audio.isDJ(r) {
		p, err := h.Queues.Page(ctx, r.Guild, pos-1, 1)
		if err != nil {
			return Reply{}, fmt.Errorf("reading position %d: %w", pos, err)
		}
		if len(p.Entries) == 1 && p.Entries[0].Track.RequestedBy != r.User {
			return Reply{}, music.Errorf(music.EFORBIDDEN, "Only the DJ role can remove other people's tracks.")
		}
	}
	e, err := h.Queues.RemoveAt(ctx, r.Guild, pos-1)
	switch music.ErrorCode(err) {
	case "":
		if err := h.queueChanged(ctx, r.Guild, pos == 1); err != nil {
			return Reply{}, err
		}
		return Reply{Content: fmt.Sprintf("Removed **%s** (position %d).", escapeMarkdown(e.Track.Title), pos)}, nil
	case music.EINVALID, music.ENOTFOUND:
		n, lenErr := h.Queues.Len(ctx, r.Guild)
		if lenErr != nil {
			return Reply{}, fmt.Errorf("reading the queue length: %w", lenErr)
		}
		return Reply{}, music.Errorf(music.EINVALID, "There is no track at position %d; the queue has %d.", pos, n)
	}
	return Reply{}, fmt.Errorf("removing position %d: %w", pos, err)
}

func (h *Handlers) clear(ctx context.Context, r *Request) (Reply, error) {
	if !h.audio.isDJ(r) {
		return Reply{}, music.Errorf(music.EFORBIDDEN, "Only the DJ role can clear everyone's tracks.")
	}
	// The /plays still finding tracks would refill what the user cleared.
	cancelled := h.plays.cancelGuild(r.Guild)
	n, err := h.Queues.Clear(ctx, r.Guild)
	if err != nil {
		return Reply{}, fmt.Errorf("clearing the queue: %w", err)
	}
	if err := h.queueChanged(ctx, r.Guild, true); err != nil {
		return Reply{}, err
	}
	text := fmt.Sprintf("Cleared the queue (%d %s).", n, plural(n, "track", "tracks"))
	if cancelled > 0 {
		text += fmt.Sprintf(" Cancelled %d %s still being queued.", cancelled, plural(cancelled, "/play", "/plays"))
	}
	return Reply{Content: text}, nil
}

func (h *Handlers) requestAccess(ctx context.Context, r *Request) (Reply, error) {
	if r.Guild == "" {
		return Reply{}, music.Errorf(music.EINVALID, "Use /request-access in the server that should get TimmyBot.")
	}
	approved, err := h.Allowlist.IsApproved(ctx, r.Guild)
	if err != nil {
		return Reply{}, fmt.Errorf("checking the allowlist: %w", err)
	} else if approved {
		return ephemeral("This server is already approved: try `/help`."), nil
	}
	ask := music.Ask{
		Guild:     r.Guild,
		GuildName: music.Truncate(h.GuildName(r.Guild), music.MaxGuildNameLen),
		Asker:     music.Asker{User: r.User, Reason: strings.TrimSpace(r.String("reason")), At: h.Now()},
	}
	asked, err := h.Allowlist.RequestAccess(ctx, ask)
	if err != nil {
		return Reply{}, fmt.Errorf("recording the access request: %w", err)
	}
	if !asked.NotifyOwners {
		return ephemeral("Thanks! Your ask was added to this server's pending request; TimmyBot's owners hear about it at most every %d hours.", int(music.NotifyOwnersEvery.Hours())), nil
	}
	req := asked.Request
	text := fmt.Sprintf("**Access request** from server %s (`%s`), %d %s so far. Latest by <@%s>:\n> %s\nApprove with `/allowlist approve guild:%s` or `timmybot allowlist approve %s`; list every ask with `/allowlist requests`.",
		escapeMarkdown(req.GuildName), req.Guild, req.Asks, plural(req.Asks, "ask", "asks"), ask.User, escapeMarkdown(ask.Reason), req.Guild, req.Guild)
	for _, owner := range h.Owners {
		// The request is stored; a failed DM must not fail the command.
		_ = h.Notifier.DirectMessage(ctx, owner, text)
	}
	return ephemeral("Thanks! Your request was sent to TimmyBot's owners. You'll be able to use the bot here once they approve it."), nil
}

func (h *Handlers) approve(ctx context.Context, r *Request) (Reply, error) {
	g := music.GuildID(r.String("guild"))
	if err := g.Validate(); err != nil {
		return Reply{}, err
	}
	if err := h.Allowlist.Approve(ctx, music.Approval{Guild: g, ApprovedBy: r.User, ApprovedAt: h.Now()}); err != nil {
		return Reply{}, fmt.Errorf("approving %s: %w", g, err)
	}
	return ephemeral("Approved server `%s`.", g), nil
}

func (h *Handlers) revoke(ctx context.Context, r *Request) (Reply, error) {
	g := music.GuildID(r.String("guild"))
	if err := g.Validate(); err != nil {
		return Reply{}, err
	}
	if err := h.Allowlist.Revoke(ctx, g); err != nil {
		return Reply{}, fmt.Errorf("revoking %s: %w", g, err)
	}
	return ephemeral("Revoked server `%s`.", g), nil
}

func (h *Handlers) listApproved(ctx context.Context, _ *Request) (Reply, error) {
	list, err := h.Allowlist.Approved(ctx)
	if err != nil {
		return Reply{}, fmt.Errorf("listing approved servers: %w", err)
	}
	return listReply("Approved servers", "No server is approved yet.", list, func(a music.Approval) string {
		return fmt.Sprintf("`%s` approved by <@%s> <t:%d:R>", a.Guild, a.ApprovedBy, a.ApprovedAt.Unix())
	}), nil
}

func (h *Handlers) listRequests(ctx context.Context, _ *Request) (Reply, error) {
	list, err := h.Allowlist.Requests(ctx)
	if err != nil {
		return Reply{}, fmt.Errorf("listing access requests: %w", err)
	}
	return listReply("Pending access requests", "No pending access requests.", list, func(q music.AccessRequest) string {
		line := fmt.Sprintf("`%s` %s — %d %s", q.Guild, escapeMarkdown(q.GuildName), q.Asks, plural(q.Asks, "ask", "asks"))
		if len(q.Askers) == 0 { // a request stored before askers were kept
			return line
		}
		first := q.Askers[0]
		return fmt.Sprintf("%s, first <@%s> <t:%d:R>: %s", line, first.User, first.At.Unix(), escapeMarkdown(music.Truncate(first.Reason, 120)))
	}), nil
}

// listReply shows one line per item in an ephemeral embed titled title, or
// the text empty when there are no items.
func listReply[T any](title, empty string, items []T, line func(T) string) Reply {
	if len(items) == 0 {
		return Reply{Content: empty, Ephemeral: true}
	}
	lines := make([]string, len(items))
	for i, item := range items {
		lines[i] = line(item)
	}
	return Reply{Embeds: listEmbeds(title, lines), Ephemeral: true}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
