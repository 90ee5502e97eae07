package discord

import (
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// Discord's embed limits that rendering must respect.
const (
	embedDescriptionMax = 4096
	shownTitleMax       = 80  // runes of a title in a list line
	linkedURLMax        = 250 // longer URLs are not linked, keeping a page under the limit
	embedColor          = 0x5865F2
)

func queueEmbeds(p music.QueuePage, page, pages int) []*discordgo.MessageEmbed {
	if p.Total == 0 {
		return []*discordgo.MessageEmbed{{Title: "Queue", Description: "The queue is empty. Add a track with `/play query:<url>`.", Color: embedColor}}
	}
	lines := make([]string, len(p.Entries))
	for i, e := range p.Entries {
		lines[i] = fmt.Sprintf("`%d.` %s%s", p.Offset+i+1, trackLink(e.Track), durationSuffix(e.Track.Duration))
		if by := requester(e.Track); by != "" {
			lines[i] += " · " + by
		}
	}
	return []*discordgo.MessageEmbed{{
		Title:       fmt.Sprintf("Queue · %d %s", p.Total, plural(p.Total, "track", "tracks")),
		Description: strings.Join(lines, "\n"),
		Footer:      &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Page %d/%d", page, pages)},
		Color:       embedColor,
	}}
}

func queueButtons(page, pages int) []discordgo.MessageComponent {
	if pages <= 1 {
		return nil
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "◀ Previous", Style: discordgo.SecondaryButton, CustomID: fmt.Sprintf("queue:%d", page-1), Disabled: page <= 1},
		discordgo.Button{Label: "Next ▶", Style: discordgo.SecondaryButton, CustomID: fmt.Sprintf("queue:%d", page+1), Disabled: page >= pages},
	}}}
}

// nowPlayingStatusEmbeds renders the player's status: the current track,
// who asked for it, a progress bar, and the settings in effect.
func nowPlayingStatusEmbeds(st player.Status) []*discordgo.MessageEmbed {
	if st.State == player.StateIdle {
		return []*discordgo.MessageEmbed{{Title: "Nothing playing", Description: "The queue is empty. Add a track with `/play query:<url>`.", Color: embedColor}}
	}
	t := st.Entry.Track
	title := "Now playing"
	if st.State == player.StatePaused {
		title = "Paused"
	}
	var fields []*discordgo.MessageEmbedField
	if by := requester(t); by != "" {
		fields = append(fields, &discordgo.MessageEmbedField{Name: "Requested by", Value: by, Inline: true})
	}
	fields = append(fields,
		&discordgo.MessageEmbedField{Name: "Volume", Value: fmt.Sprintf("%d%%", st.Volume), Inline: true},
		&discordgo.MessageEmbedField{Name: "Loop", Value: st.Loop.String(), Inline: true},
	)
	if fx := effectsText(st); fx != "" {
		fields = append(fields, &discordgo.MessageEmbedField{Name: "Effects", Value: fx, Inline: true})
	}
	if st.AlwaysOn {
		fields = append(fields, &discordgo.MessageEmbedField{Name: "24/7", Value: "on", Inline: true})
	}
	if st.Autoplay {
		fields = append(fields, &discordgo.MessageEmbedField{Name: "Autoplay", Value: "on", Inline: true})
	}
	e := &discordgo.MessageEmbed{
		Title:       title,
		Description: trackLink(t) + "\n" + progressBar(st.Position, st.Duration),
		Fields:      fields,
		Color:       embedColor,
	}
	// Stores and sources admit only URLs Discord shows; checking again
	// keeps a bad one from failing the whole message.
	if art := music.Artwork(t.ArtworkURL); art != "" {
		e.Thumbnail = &discordgo.MessageEmbedThumbnail{URL: art}
	}
	return []*discordgo.MessageEmbed{e}
}

// requester mentions who queued t; autoplay's tracks say so. It is ""
// for a track whose requester /forget-me forgot: such a track names
// nobody, and the lists leave the requester out.
func requester(t music.Track) string {
	switch t.RequestedBy {
	case music.Autoplay:
		return "autoplay"
	case "":
		return ""
	}
	return fmt.Sprintf("<@%s>", t.RequestedBy)
}

func effectsText(st player.Status) string {
	fx := append([]string(nil), st.Filters...)
	if st.Normalize {
		fx = append(fx, "loudness normalisation")
	}
	return strings.Join(fx, ", ")
}

// progressBarWidth is how many segments the bar has.
const progressBarWidth = 16

// progressBar renders "▬▬▬🔘▬▬▬ 1:23 / 3:45", or only the position when the
// length is unknown (live streams).
func progressBar(pos, length time.Duration) string {
	if length <= 0 {
		return "`" + formatDuration(pos) + "` · live or unknown length"
	}
	pos = min(max(pos, 0), length)
	at := int(int64(pos) * progressBarWidth / int64(length))
	at = min(at, progressBarWidth-1)
	return strings.Repeat("▬", at) + "🔘" + strings.Repeat("▬", progressBarWidth-1-at) +
		" `" + formatDuration(pos) + " / " + formatDuration(length) + "`"
}

// nowPlayingButtons are the controls under the now-playing message.
func nowPlayingButtons(st player.Status) []discordgo.MessageComponent {
	if st.State == player.StateIdle {
		return []discordgo.MessageComponent{}
	}
	pause := discordgo.Button{Label: "Pause", Emoji: &discordgo.ComponentEmoji{Name: "⏸"}, Style: discordgo.SecondaryButton, CustomID: "np:pause"}
	if st.State == player.StatePaused {
		pause = discordgo.Button{Label: "Resume", Emoji: &discordgo.ComponentEmoji{Name: "▶"}, Style: discordgo.PrimaryButton, CustomID: "np:resume"}
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Previous", Emoji: &discordgo.ComponentEmoji{Name: "⏮"}, Style: discordgo.SecondaryButton, CustomID: "np:previous"},
		pause,
		discordgo.Button{Label: "Skip", Emoji: &discordgo.ComponentEmoji{Name: "⏭"}, Style: discordgo.SecondaryButton, CustomID: "np:skip"},
		discordgo.Button{Label: "Loop: " + st.Loop.String(), Emoji: &discordgo.ComponentEmoji{Name: "🔁"}, Style: discordgo.SecondaryButton, CustomID: "np:loop"},
		discordgo.Button{Label: "Stop", Emoji: &discordgo.ComponentEmoji{Name: "⏹"}, Style: discordgo.DangerButton, CustomID: "np:stop"},
	}}, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Shuffle", Emoji: &discordgo.ComponentEmoji{Name: "🔀"}, Style: discordgo.SecondaryButton, CustomID: "np:shuffle"},
	}}}
}

// listEmbeds shows lines in one embed, cutting the list where the
// description would exceed Discord's limit.
func listEmbeds(title string, lines []string) []*discordgo.MessageEmbed {
	var b strings.Builder
	for i, l := range lines {
		more := fmt.Sprintf("\n…and %d more", len(lines)-i)
		if b.Len()+len(l)+1+len(more) > embedDescriptionMax {
			b.WriteString(more)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
	}
	return []*discordgo.MessageEmbed{{Title: title, Description: b.String(), Color: embedColor}}
}

func trackLink(t music.Track) string {
	title := escapeMarkdown(music.Truncate(t.Title, shownTitleMax))
	if len(t.URL) > linkedURLMax || strings.ContainsAny(t.URL, "()<> ") {
		return "**" + title + "**"
	}
	return fmt.Sprintf("**[%s](%s)**", title, t.URL)
}

func durationSuffix(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " `" + formatDuration(d) + "`"
}

// formatDuration renders 3:07 or 1:02:03.
func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "~", `\~`, "|", `\|`,
	">", `\>`, "[", `\[`, "]", `\]`, "@", "@\u200b", "#", `\#`,
)

// escapeMarkdown keeps user-supplied text from formatting a message or
// mentioning anyone.
func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }
