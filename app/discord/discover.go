package discord

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/lrclib"
)

// LyricsFinder finds a track's lyrics: LRCLIB.
type LyricsFinder interface {
	Find(ctx context.Context, q lrclib.Query) (lrclib.Lyrics, error)
}

const (
	// maxSearchLen bounds /search's words; the searcher has its own bound.
	maxSearchLen = 200
	// searchResults is how many results /search offers.
	searchResults = 5
	// searchPickPrefix routes the buttons of /search's results: the
	// button's custom ID is the prefix, ":" and the page's URL.
	searchPickPrefix = "pick"
	// maxCustomIDLen is Discord's bound on a button's custom ID.
	maxCustomIDLen = 100
	// lyricsLinesAround is how many synced lines /lyrics shows before and
	// after the one being sung.
	lyricsLinesAround = 6
	// maxLyricsRunes keeps /lyrics well inside an embed description's
	// 4096 characters.
	maxLyricsRunes = 3500
)

// looksLikeURL tells a /play URL from words to search for.
func looksLikeURL(query string) bool {
	return strings.Contains(query, "://") && !strings.ContainsAny(query, " \t")
}

// search shows the first results for the words, each with a button that
// queues it.
func (h *Handlers) search(ctx context.Context, r *Request) (Reply, error) {
	found, err := h.recent.Find(ctx, r.String("query"), searchResults)
	if err != nil {
		return Reply{}, fmt.Errorf("searching: %w", err)
	}
	var lines []string
	var buttons []discordgo.MessageComponent
	for _, t := range found {
		id := searchPickPrefix + ":" + t.URL
		if len(id) > maxCustomIDLen {
			continue
		}
		n := len(buttons) + 1
		line := fmt.Sprintf("%d. [%s](%s)", n, escapeMarkdown(t.Title), t.URL)
		if t.Duration > 0 {
			line += " `" + formatDuration(t.Duration) + "`"
		}
		lines = append(lines, line)
		buttons = append(buttons, discordgo.Button{Label: fmt.Sprint(n), Style: discordgo.SecondaryButton, CustomID: id})
	}
	if len(buttons) == 0 {
		return Reply{}, music.Errorf(music.ENOTFOUND, "Nothing found for %q.", music.Truncate(strings.TrimSpace(r.String("query")), 100))
	}
	embed := &discordgo.MessageEmbed{Title: "Search results", Description: strings.Join(lines, "\n"), Footer: &discordgo.MessageEmbedFooter{Text: "Pick one to queue it."}}
	return Reply{Embeds: []*discordgo.MessageEmbed{embed}, Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: buttons}}}, nil
}

// searchPick serves the buttons of /search: it queues the page picked.
func (h *Handlers) searchPick(ctx context.Context, r *Request) (Reply, error) {
	_, page, _ := strings.Cut(r.Command, ":")
	if !looksLikeURL(page) {
		return Reply{}, music.Errorf(music.EINVALID, "This button no longer works.")
	}
	return h.enqueue(ctx, r, nil, page)
}

// lyrics shows the current track's lyrics: the synced lines around the
// position when LRCLIB has them, otherwise the start of the plain text.
func (h *Handlers) lyrics(ctx context.Context, r *Request) (Reply, error) {
	g := h.audio.active(r.Guild)
	if g == nil {
		return Reply{}, music.Errorf(music.EINVALID, "Nothing is playing.")
	}
	st := g.player.Status()
	if st.Entry.Track.URL == "" {
		return Reply{}, music.Errorf(music.EINVALID, "Nothing is playing.")
	}
	found, err := h.Lyrics.Find(ctx, lrclib.Query{Title: st.Entry.Track.Title, Duration: st.Duration})
	if err != nil {
		return Reply{}, fmt.Errorf("finding lyrics: %w", err)
	}
	return Reply{Embeds: []*discordgo.MessageEmbed{lyricsEmbed(found, st.Position)}}, nil
}

// lyricsEmbed renders lyrics at position pos within Discord's embed limits.
func lyricsEmbed(l lrclib.Lyrics, pos time.Duration) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title:  music.Truncate(l.Track, 256),
		Author: &discordgo.MessageEmbedAuthor{Name: music.Truncate(l.Artist, 256)},
		Footer: &discordgo.MessageEmbedFooter{Text: "Lyrics from LRCLIB"},
	}
	switch {
	case l.Instrumental:
		e.Description = "*Instrumental*"
	case len(l.Synced) > 0:
		window, current := lrclib.Window(l.Synced, pos, lyricsLinesAround, lyricsLinesAround)
		lines := make([]string, len(window))
		for i, line := range window {
			text := escapeMarkdown(music.Truncate(line.Text, 200))
			if text == "" {
				text = "♪"
			}
			if i == current {
				text = "**▶ " + text + "**"
			}
			lines[i] = fmt.Sprintf("`%s` %s", formatDuration(line.At), text)
		}
		e.Description = strings.Join(lines, "\n")
	default:
		e.Description = escapeMarkdown(music.Truncate(l.Plain, maxLyricsRunes))
	}
	// Escaping may lengthen the text: cut again at the embed's own bound.
	e.Description = music.Truncate(e.Description, 4096)
	return e
}
