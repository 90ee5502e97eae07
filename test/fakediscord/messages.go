package fakediscord

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// Message flags (https://discord.com/developers/docs/resources/message#message-object-message-flags).
const (
	FlagSuppressEmbeds        = 1 << 2
	FlagEphemeral             = 1 << 6
	FlagLoading               = 1 << 7
	FlagSuppressNotifications = 1 << 12
)

// Message is a message the bot sent: a channel message, a DM, an
// interaction response or a follow-up.
type Message struct {
	ID         string      `json:"id"`
	ChannelID  string      `json:"channel_id"`
	Content    string      `json:"content"`
	Embeds     []Embed     `json:"embeds,omitempty"`
	Components []Component `json:"components,omitempty"`
	Flags      int         `json:"flags,omitempty"`
}

// Ephemeral reports whether only the invoking user sees the message.
func (m Message) Ephemeral() bool { return m.Flags&FlagEphemeral != 0 }

// Embed is a rich embed.
type Embed struct {
	Type        string       `json:"type,omitempty"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Timestamp   string       `json:"timestamp,omitempty"`
	Color       int          `json:"color,omitempty"`
	Footer      *EmbedFooter `json:"footer,omitempty"`
	Image       *EmbedMedia  `json:"image,omitempty"`
	Thumbnail   *EmbedMedia  `json:"thumbnail,omitempty"`
	Author      *EmbedAuthor `json:"author,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
}

// EmbedFooter is an embed's footer.
type EmbedFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

// EmbedMedia is an embed's image or thumbnail.
type EmbedMedia struct {
	URL string `json:"url"`
}

// EmbedAuthor is an embed's author line.
type EmbedAuthor struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

// EmbedField is one name/value field of an embed.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Component types.
const (
	ComponentActionRow    = 1
	ComponentButton       = 2
	ComponentStringSelect = 3
)

// Button styles.
const (
	ButtonPrimary   = 1
	ButtonSecondary = 2
	ButtonSuccess   = 3
	ButtonDanger    = 4
	ButtonLink      = 5
)

// Component is a message component: an action row, a button or a select menu.
type Component struct {
	Type        int            `json:"type"`
	CustomID    string         `json:"custom_id,omitempty"`
	Label       string         `json:"label,omitempty"`
	Style       int            `json:"style,omitempty"`
	Disabled    bool           `json:"disabled,omitempty"`
	URL         string         `json:"url,omitempty"`
	Emoji       *Emoji         `json:"emoji,omitempty"`
	Placeholder string         `json:"placeholder,omitempty"`
	MinValues   *int           `json:"min_values,omitempty"`
	MaxValues   *int           `json:"max_values,omitempty"`
	Options     []SelectOption `json:"options,omitempty"`
	Components  []Component    `json:"components,omitempty"`
}

// Emoji is a component's emoji.
type Emoji struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// SelectOption is one choice of a string select menu.
type SelectOption struct {
	Label       string `json:"label"`
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
	Default     bool   `json:"default,omitempty"`
}

// record is a stored message with its metadata. Guarded by Server.mu.
type record struct {
	msg         Message
	guildID     string
	created     time.Time
	edited      *time.Time
	interaction *interaction // the interaction it answers, if any
	deleted     bool
}

// messageBody is what the bot sends to create or edit a message; nil fields
// were absent, so an edit leaves them unchanged.
type messageBody struct {
	Content    *string      `json:"content"`
	Embeds     *[]Embed     `json:"embeds"`
	Components *[]Component `json:"components"`
	Flags      *int         `json:"flags"`
}

// apply merges b into m, as a PATCH does.
func (b messageBody) apply(m *Message) {
	if b.Content != nil {
		m.Content = *b.Content
	}
	if b.Embeds != nil {
		m.Embeds = append([]Embed(nil), *b.Embeds...)
		for i := range m.Embeds {
			if m.Embeds[i].Type == "" {
				m.Embeds[i].Type = "rich" // what Discord stores for bot embeds
			}
		}
	}
	if b.Components != nil {
		m.Components = append([]Component(nil), *b.Components...)
	}
}

// message is the new message b describes; unlike an edit, a create sets the
// flags it names.
func (b messageBody) message() Message {
	var m Message
	b.apply(&m)
	if b.Flags != nil {
		m.Flags = *b.Flags
	}
	return m
}

// checkNewMessage checks a message about to be created: its flags against
// allowed, then its content against Discord's limits; prefix is the path of
// the message in the request body.
func checkNewMessage(m Message, allowed int, prefix ...string) *apiError {
	if e := checkFlags(m.Flags, allowed, append(append([]string(nil), prefix...), "flags")...); e != nil {
		return e
	}
	return validateMessage(m, prefix...)
}

// Limits Discord enforces on messages.
const (
	maxContent          = 2000
	maxEmbeds           = 10
	maxEmbedTitle       = 256
	maxEmbedDescription = 4096
	maxEmbedFields      = 25
	maxEmbedFieldName   = 256
	maxEmbedFieldValue  = 1024
	maxEmbedFooter      = 2048
	maxEmbedAuthor      = 256
	maxEmbedTotal       = 6000
	maxEmbedURL         = 2048
	maxActionRows       = 5
	maxRowButtons       = 5
	maxCustomID         = 100
	maxButtonLabel      = 80
	maxSelectOptions    = 25
)

// validateMessage checks m against Discord's limits; prefix is the path of
// the message in the request body (e.g. "data" in an interaction callback).
func validateMessage(m Message, prefix ...string) *apiError {
	var fe formErrors
	at := func(p ...string) []string { return append(append([]string(nil), prefix...), p...) }
	if n := utf8.RuneCountInString(m.Content); n > maxContent {
		fe.add(at("content"), "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
	}
	if len(m.Embeds) > maxEmbeds {
		fe.add(at("embeds"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
	}
	total := 0
	for i, e := range m.Embeds {
		ei := strconv.Itoa(i)
		total += validateEmbed(&fe, e, at("embeds", ei))
	}
	if total > maxEmbedTotal {
		fe.add(at("embeds"), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	}
	validateComponents(&fe, m.Components, at("components"))
	if err := fe.err(); err != nil {
		return err
	}
	if m.Content == "" && len(m.Embeds) == 0 && len(m.Components) == 0 {
		return &apiError{status: 400, Code: 50006, Message: "Cannot send an empty message"}
	}
	return nil
}

// validateEmbed records e's errors and returns its size in characters.
func validateEmbed(fe *formErrors, e Embed, path []string) int {
	at := func(p ...string) []string { return append(append([]string(nil), path...), p...) }
	maxLen := func(s string, n int, p ...string) int {
		c := utf8.RuneCountInString(s)
		if c > n {
			fe.add(at(p...), "BASE_TYPE_MAX_LENGTH", "Must be "+strconv.Itoa(n)+" or fewer in length.")
		}
		return c
	}
	size := maxLen(e.Title, maxEmbedTitle, "title") + maxLen(e.Description, maxEmbedDescription, "description")
	if e.Footer != nil {
		size += maxLen(e.Footer.Text, maxEmbedFooter, "footer", "text")
	}
	if e.Author != nil {
		size += maxLen(e.Author.Name, maxEmbedAuthor, "author", "name")
	}
	validateEmbedURL(fe, e.URL, false, at("url"))
	if e.Footer != nil {
		validateEmbedURL(fe, e.Footer.IconURL, true, at("footer", "icon_url"))
	}
	if e.Author != nil {
		validateEmbedURL(fe, e.Author.URL, false, at("author", "url"))
		validateEmbedURL(fe, e.Author.IconURL, true, at("author", "icon_url"))
	}
	if e.Thumbnail != nil {
		validateEmbedURL(fe, e.Thumbnail.URL, true, at("thumbnail", "url"))
	}
	if e.Image != nil {
		validateEmbedURL(fe, e.Image.URL, true, at("image", "url"))
	}
	if e.Color < 0 || e.Color > 0xFFFFFF {
		fe.add(at("color"), "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.")
	}
	if len(e.Fields) > maxEmbedFields {
		fe.add(at("fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	for i, f := range e.Fields {
		fi := strconv.Itoa(i)
		if f.Name == "" {
			fe.add(at("fields", fi, "name"), "BASE_TYPE_REQUIRED", "This field is required")
		}
		if f.Value == "" {
			fe.add(at("fields", fi, "value"), "BASE_TYPE_REQUIRED", "This field is required")
		}
		size += maxLen(f.Name, maxEmbedFieldName, "fields", fi, "name")
		size += maxLen(f.Value, maxEmbedFieldValue, "fields", fi, "value")
	}
	return size
}

// validateEmbedURL checks one of an embed's URLs as Discord does: at most
// 2048 characters, well formed, http(s), or attachment:// for media (an
// uploaded file). An empty link is no link.
func validateEmbedURL(fe *formErrors, raw string, media bool, path []string) {
	if raw == "" {
		return
	}
	if utf8.RuneCountInString(raw) > maxEmbedURL {
		fe.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 2048 or fewer in length.")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		fe.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
		return
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
	case media && u.Scheme == "attachment":
	case media:
		fe.add(path, "URL_TYPE_INVALID_SCHEME", "Scheme \""+u.Scheme+"\" is not supported. Scheme must be one of ('http', 'https', 'attachment').")
	default:
		fe.add(path, "URL_TYPE_INVALID_SCHEME", "Scheme \""+u.Scheme+"\" is not supported. Scheme must be one of ('http', 'https').")
	}
}

func validateComponents(fe *formErrors, rows []Component, path []string) {
	if len(rows) > maxActionRows {
		fe.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
	}
	seen := map[string]bool{}
	for i, row := range rows {
		rp := append(append([]string(nil), path...), strconv.Itoa(i))
		if row.Type != ComponentActionRow {
			fe.add(append(rp, "type"), "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,).")
			continue
		}
		if len(row.Components) == 0 || len(row.Components) > maxRowButtons {
			fe.add(append(rp, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
		}
		for j, c := range row.Components {
			cp := append(append([]string(nil), rp...), "components", strconv.Itoa(j))
			validateComponent(fe, c, cp, len(row.Components))
			if c.CustomID == "" {
				continue
			}
			if seen[c.CustomID] {
				fe.add(append(cp, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
			}
			seen[c.CustomID] = true
		}
	}
}

func validateComponent(fe *formErrors, c Component, path []string, rowLen int) {
	at := func(p string) []string { return append(append([]string(nil), path...), p) }
	switch c.Type {
	case ComponentButton:
		if c.Style < ButtonPrimary || c.Style > ButtonLink {
			fe.add(at("style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5}.")
		}
		if c.Label == "" && c.Emoji == nil {
			fe.add(at("label"), "BASE_TYPE_REQUIRED", "This field is required")
		}
		if utf8.RuneCountInString(c.Label) > maxButtonLabel {
			fe.add(at("label"), "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
		}
		if c.Style == ButtonLink {
			if c.URL == "" {
				fe.add(at("url"), "BASE_TYPE_REQUIRED", "This field is required")
			}
			if c.CustomID != "" {
				fe.add(at("custom_id"), "BUTTON_COMPONENT_LINK_CUSTOM_ID", "A link button cannot have a custom id")
			}
			return
		}
		validateCustomID(fe, c.CustomID, at("custom_id"))
	case ComponentStringSelect:
		if rowLen != 1 {
			fe.add(path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width")
		}
		validateCustomID(fe, c.CustomID, at("custom_id"))
		if len(c.Options) == 0 || len(c.Options) > maxSelectOptions {
			fe.add(at("options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
		}
	default:
		fe.add(at("type"), "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (2, 3).")
	}
}

func validateCustomID(fe *formErrors, id string, path []string) {
	if id == "" {
		fe.add(path, "BASE_TYPE_REQUIRED", "This field is required")
	} else if utf8.RuneCountInString(id) > maxCustomID {
		fe.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
}

// messagePayload is a message object as Discord's REST API and gateway
// return it. The caller holds s.mu.
func (s *Server) messagePayload(r *record) map[string]any {
	m := r.msg
	var edited any
	if r.edited != nil {
		edited = discordTime(*r.edited)
	}
	p := map[string]any{
		"id":               m.ID,
		"type":             0,
		"channel_id":       m.ChannelID,
		"author":           userPayload(s.botUser()),
		"content":          m.Content,
		"embeds":           nonNil(m.Embeds),
		"components":       nonNil(m.Components),
		"attachments":      []any{},
		"mentions":         []any{},
		"mention_roles":    []string{},
		"mention_everyone": false,
		"pinned":           false,
		"tts":              false,
		"timestamp":        discordTime(r.created),
		"edited_timestamp": edited,
		"flags":            m.Flags,
	}
	if r.guildID != "" {
		p["guild_id"] = r.guildID
	}
	if in := r.interaction; in != nil {
		p["webhook_id"] = s.opts.ApplicationID
		p["application_id"] = s.opts.ApplicationID
		if in.kind == interactionCommand {
			p["type"] = 20 // CHAT_INPUT_COMMAND
		}
		p["interaction_metadata"] = map[string]any{
			"id":                             in.id,
			"type":                           in.kind,
			"user":                           userPayload(userFor(in.userID)),
			"authorizing_integration_owners": map[string]string{"0": in.guildID},
		}
	}
	return p
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newRecordLocked stores a new message. The caller holds s.mu.
func (s *Server) newRecordLocked(ch *channelState, m Message, in *interaction) *record {
	m.ID = s.NewID()
	m.ChannelID = ch.id
	r := &record{msg: m, guildID: ch.guildID, created: time.Now().UTC(), interaction: in}
	s.messages[m.ID] = r
	ch.messages = append(ch.messages, r)
	return r
}

// Messages returns the messages the bot created in a channel (interaction
// responses and follow-ups included, ephemeral or not), in creation order,
// with their latest edits. Deleted messages are left out.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return nil
	}
	var out []Message
	for _, r := range ch.messages {
		if !r.deleted {
			out = append(out, cloneMessage(r.msg))
		}
	}
	return out
}

// DMs returns the messages in the bot's DM channel with a user, in order:
// what it sent there, and its answers to commands the user ran in the DM.
func (s *Server) DMs(userID string) []Message {
	s.mu.Lock()
	id := s.dmByUser[userID]
	s.mu.Unlock()
	if id == "" {
		return nil
	}
	return s.Messages(id)
}

func cloneMessage(m Message) Message {
	// Round-trip through JSON so callers cannot alias stored slices.
	var out Message
	if err := json.Unmarshal(mustJSON(m), &out); err != nil {
		panic("fakediscord: copying a message: " + err.Error()) // Message always round-trips
	}
	return out
}
