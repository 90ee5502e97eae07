package fakediscord

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"
)

// Interaction types.
const (
	interactionCommand   = 2
	interactionComponent = 3
)

// Interaction callback types.
const (
	CallbackMessage         = 4 // CHANNEL_MESSAGE_WITH_SOURCE
	CallbackDeferredMessage = 5 // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
	CallbackDeferredUpdate  = 6 // DEFERRED_UPDATE_MESSAGE (components)
	CallbackUpdateMessage   = 7 // UPDATE_MESSAGE (components)
	CallbackModal           = 9 // MODAL
)

// Errors Interact and Click return.
var (
	// ErrNotAcknowledged: the bot did not acknowledge the interaction within
	// Options.InteractionTimeout ("The application did not respond").
	ErrNotAcknowledged = errors.New("fakediscord: the application did not respond in time")
	// ErrNoSession: no bot has identified, so there is nobody to dispatch to.
	ErrNoSession = errors.New("fakediscord: no identified gateway session")
	// ErrClosed: the server was closed while a caller waited.
	ErrClosed = errors.New("fakediscord: server closed")
)

// Slash is a user invoking a slash command.
type Slash struct {
	GuildID   string // "" invokes the command in a DM with the bot
	ChannelID string // default: the guild's first text channel, or the DM channel
	UserID    string // default: a new snowflake
	Name      string
	Options   []Option
	Locale    string // default: "en-US"
	// Unchecked delivers the interaction even when Discord's client would
	// not: an unregistered command or options outside its registered schema
	// (a stale client), a guild the bot is not in, IDs that are not
	// snowflakes. Tests of the bot's own input handling set it.
	Unchecked bool
}

// Option is a value a user gave to a command option. A sub-command or
// sub-command group has a nil Value and its own Options.
type Option struct {
	Name    string
	Value   any // string, bool, an integer type or float64
	Options []Option
}

// Click is a user pressing a button or choosing from a select menu on a
// message the bot sent.
type Click struct {
	MessageID string // the message carrying the component
	CustomID  string
	UserID    string   // default: the user of the interaction the message answered
	Values    []string // select menus: the chosen values
	Locale    string   // default: "en-US"
	// Unchecked delivers the click even when the component is missing or
	// disabled.
	Unchecked bool
}

// Response is what the bot answered an interaction with.
type Response struct {
	InteractionID string
	Type          int     // the callback type the bot chose
	Message       Message // the final message; empty for a modal
	// Ack is the time from dispatching INTERACTION_CREATE to the callback;
	// Done to the final message: the same unless the bot deferred, then the
	// time to the edit of the original response.
	Ack  time.Duration
	Done time.Duration
}

// interaction is a dispatched interaction. The channels are closed once;
// everything else is guarded by Server.mu.
type interaction struct {
	id, token  string
	kind       int
	guildID    string
	channelID  string
	userID     string
	dispatched time.Time
	acked      chan struct{}
	done       chan struct{}

	callback  int
	ackAt     time.Time
	doneAt    time.Time
	expired   bool
	original  *record // the response message, or the clicked message for updates
	followups []*record
	sourceMsg *record  // components: the clicked message
	choices   []Choice // autocomplete: the bot's answer
	finished  bool
}

func (in *interaction) finishLocked(now time.Time) {
	if !in.finished {
		in.finished = true
		in.doneAt = now
		close(in.done)
	}
}

// Interact dispatches INTERACTION_CREATE for a slash command, waits for the
// bot's callback and, when the bot deferred, for the edit of the original
// response, and returns the final message with the latencies.
func (s *Server) Interact(ctx context.Context, cmd Slash) (Response, error) {
	payload, in, err := s.prepareSlash(cmd)
	if err != nil {
		return Response{}, err
	}
	return s.run(ctx, in, payload)
}

// Click dispatches a MESSAGE_COMPONENT interaction and waits like Interact.
func (s *Server) Click(ctx context.Context, c Click) (Response, error) {
	payload, in, err := s.prepareClick(c)
	if err != nil {
		return Response{}, err
	}
	return s.run(ctx, in, payload)
}

func (s *Server) run(ctx context.Context, in *interaction, payload map[string]any) (Response, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return Response{}, fmt.Errorf("fakediscord: encoding the interaction: %w", err)
	}
	s.mu.Lock()
	if len(s.sessions) == 0 {
		s.mu.Unlock()
		return Response{}, ErrNoSession
	}
	s.pending[in.id] = in
	s.byToken[in.token] = in
	s.stats.Interactions++
	in.dispatched = time.Now()
	s.mu.Unlock()
	s.dispatchJSON("INTERACTION_CREATE", data)

	window := time.NewTimer(time.Until(in.dispatched.Add(s.opts.InteractionTimeout)))
	defer window.Stop()
	select {
	case <-in.acked:
	case <-window.C:
		s.mu.Lock()
		acked := in.callback != 0
		in.expired = !acked
		s.mu.Unlock()
		if !acked {
			return Response{InteractionID: in.id}, ErrNotAcknowledged
		}
	case <-s.stopped:
		return Response{InteractionID: in.id}, ErrClosed
	case <-ctx.Done():
		return Response{InteractionID: in.id}, fmt.Errorf("waiting for the interaction callback: %w", ctx.Err())
	}
	select {
	case <-in.done:
	case <-s.stopped:
		return Response{InteractionID: in.id}, ErrClosed
	case <-ctx.Done():
		return Response{InteractionID: in.id}, fmt.Errorf("waiting for the deferred response: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Response{
		InteractionID: in.id,
		Type:          in.callback,
		Ack:           in.ackAt.Sub(in.dispatched),
		Done:          in.doneAt.Sub(in.dispatched),
	}
	if in.original != nil {
		r.Message = cloneMessage(in.original.msg)
	}
	return r, nil
}

// Followups returns the follow-up messages of an interaction, in order.
func (s *Server) Followups(interactionID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.pending[interactionID]
	if in == nil {
		return nil
	}
	out := make([]Message, 0, len(in.followups))
	for _, r := range in.followups {
		out = append(out, cloneMessage(r.msg))
	}
	return out
}

func (s *Server) newInteraction(kind int) *interaction {
	tok := make([]byte, 0, 96)
	tok = append(tok, "aW50ZXJhY3Rpb246"...) // base64("interaction:"), like Discord's tokens
	tok = append(tok, base64.RawURLEncoding.EncodeToString([]byte(randomHex(36)))...)
	return &interaction{
		id:    s.NewID(),
		token: string(tok),
		kind:  kind,
		acked: make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// prepareSlash validates a command invocation like Discord's client would
// and builds the INTERACTION_CREATE payload.
func (s *Server) prepareSlash(cmd Slash) (map[string]any, *interaction, error) {
	if cmd.UserID == "" {
		cmd.UserID = s.NewID()
	}
	if cmd.Locale == "" {
		cmd.Locale = "en-US"
	}
	in := s.newInteraction(interactionCommand)
	in.guildID, in.userID = cmd.GuildID, cmd.UserID

	s.mu.Lock()
	defer s.mu.Unlock()
	var g *guildState
	if cmd.GuildID != "" {
		g = s.guildLocked(cmd.GuildID)
		if g == nil && !cmd.Unchecked {
			return nil, nil, fmt.Errorf("fakediscord: the bot is not in guild %q", cmd.GuildID)
		}
	}
	if !cmd.Unchecked && !isSnowflake(cmd.UserID) {
		return nil, nil, fmt.Errorf("fakediscord: user ID %q is not a snowflake", cmd.UserID)
	}
	ch, err := s.invocationChannelLocked(cmd, g)
	if err != nil {
		return nil, nil, err
	}
	in.channelID = ch.id

	schema := s.findCommandLocked(cmd.GuildID, cmd.Name)
	if schema == nil && !cmd.Unchecked {
		return nil, nil, fmt.Errorf("fakediscord: command %q is not registered for guild %q or globally", cmd.Name, cmd.GuildID)
	}
	if schema != nil && cmd.GuildID == "" && !usableInDMs(*schema) && !cmd.Unchecked {
		return nil, nil, fmt.Errorf("fakediscord: command %q is not available in DMs", cmd.Name)
	}
	data := map[string]any{"name": cmd.Name, "type": CommandChatInput}
	var schemaOpts []CommandOption
	if schema != nil {
		data["id"], data["type"] = schema.ID, schema.Type
		if schema.GuildID != "" {
			data["guild_id"] = schema.GuildID
		}
		schemaOpts = schema.Options
	} else {
		data["id"] = s.NewID()
	}
	resolved := map[string]any{}
	opts, err := wireOptions(cmd.Options, schemaOpts, schema != nil && !cmd.Unchecked, resolved)
	if err != nil {
		return nil, nil, fmt.Errorf("fakediscord: /%s: %w", cmd.Name, err)
	}
	if len(opts) > 0 {
		data["options"] = opts
	}
	if len(resolved) > 0 {
		data["resolved"] = resolved
	}
	return s.interactionPayloadLocked(in, g, ch, data, cmd.Locale), in, nil
}

// invocationChannelLocked finds (or, in a DM, creates) the channel a
// command is invoked in.
func (s *Server) invocationChannelLocked(cmd Slash, g *guildState) (*channelState, error) {
	if cmd.GuildID == "" {
		dm := s.dmChannelLocked(cmd.UserID)
		if cmd.ChannelID != "" && cmd.ChannelID != dm.id && !cmd.Unchecked {
			return nil, fmt.Errorf("fakediscord: channel %q is not the DM channel of user %q", cmd.ChannelID, cmd.UserID)
		}
		return dm, nil
	}
	id := cmd.ChannelID
	if id == "" && g != nil {
		id = g.firstTextChannel()
	}
	if ch := s.channels[id]; ch != nil && ch.guildID == cmd.GuildID {
		return ch, nil
	}
	if !cmd.Unchecked {
		return nil, fmt.Errorf("fakediscord: channel %q is not a channel of guild %q", id, cmd.GuildID)
	}
	// An unchecked invocation may name a channel the fake does not know;
	// make one up so that the bot's answers have somewhere to go.
	if id == "" {
		id = s.NewID()
	}
	ch := &channelState{id: id, guildID: cmd.GuildID, name: "unknown", typ: ChannelText}
	s.channels[id] = ch
	return ch, nil
}

// usableInDMs reports whether Discord's client offers a global command in a
// DM with the bot: dm_permission not false and, when contexts are set,
// BOT_DM (1) among them.
func usableInDMs(c ApplicationCommand) bool {
	if c.DMPermission != nil && !*c.DMPermission {
		return false
	}
	return len(c.Contexts) == 0 || slices.Contains(c.Contexts, 1)
}

func (s *Server) findCommandLocked(guildID, name string) *ApplicationCommand {
	scopes := []string{""}
	if guildID != "" {
		scopes = []string{guildID, ""}
	}
	for _, scope := range scopes {
		for i := range s.commands[scope] {
			if c := &s.commands[scope][i]; c.Type == CommandChatInput && c.Name == name {
				return c
			}
		}
	}
	return nil
}

// wireOptions converts the options a test gives into the payload's option
// objects. With check set it enforces the registered schema as Discord's
// client does: known names, types, choices, lengths, ranges, required options.
func wireOptions(given []Option, schema []CommandOption, check bool, resolved map[string]any) ([]any, error) {
	out := make([]any, 0, len(given))
	seen := map[string]bool{}
	for _, o := range given {
		def := findOption(schema, o.Name)
		if check {
			if def == nil {
				return nil, fmt.Errorf("option %q is not registered", o.Name)
			}
			if seen[o.Name] {
				return nil, fmt.Errorf("option %q given twice", o.Name)
			}
		}
		seen[o.Name] = true
		typ := inferOptionType(o)
		if def != nil {
			typ = def.Type
		}
		w := map[string]any{"name": o.Name, "type": typ}
		if typ == OptionSubCommand || typ == OptionSubCommandGroup {
			var sub []CommandOption
			if def != nil {
				sub = def.Options
			}
			nested, err := wireOptions(o.Options, sub, check, resolved)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.Name, err)
			}
			if len(nested) > 0 || typ == OptionSubCommandGroup {
				w["options"] = nested
			}
			out = append(out, w)
			continue
		}
		if check {
			if err := checkValue(*def, o.Value); err != nil {
				return nil, fmt.Errorf("option %q: %w", o.Name, err)
			}
		}
		w["value"] = o.Value
		if typ == OptionUser {
			if id, ok := o.Value.(string); ok {
				addResolvedUser(resolved, id)
			}
		}
		out = append(out, w)
	}
	if check {
		for _, def := range schema {
			if def.Required && !seen[def.Name] {
				return nil, fmt.Errorf("required option %q missing", def.Name)
			}
		}
		if hasSubcommands(schema) && len(given) != 1 {
			return nil, fmt.Errorf("exactly one sub-command must be given, got %d", len(given))
		}
	}
	return out, nil
}

func addResolvedUser(resolved map[string]any, id string) {
	users, _ := resolved["users"].(map[string]any)
	if users == nil {
		users = map[string]any{}
		resolved["users"] = users
	}
	users[id] = userPayload(userFor(id))
}

func hasSubcommands(opts []CommandOption) bool {
	for _, o := range opts {
		if o.Type == OptionSubCommand || o.Type == OptionSubCommandGroup {
			return true
		}
	}
	return false
}

func findOption(opts []CommandOption, name string) *CommandOption {
	for i := range opts {
		if opts[i].Name == name {
			return &opts[i]
		}
	}
	return nil
}

func inferOptionType(o Option) int {
	switch o.Value.(type) {
	case nil:
		for _, sub := range o.Options {
			if sub.Value == nil {
				return OptionSubCommandGroup
			}
		}
		return OptionSubCommand
	case string:
		return OptionString
	case bool:
		return OptionBoolean
	case float32, float64:
		return OptionNumber
	default:
		return OptionInteger
	}
}

// checkValue enforces what Discord's client enforces on a typed value.
func checkValue(def CommandOption, v any) error {
	switch def.Type {
	case OptionString:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
		n := utf8.RuneCountInString(s)
		maxLen := maxStringOption
		if def.MaxLength != nil {
			maxLen = *def.MaxLength
		}
		minLen := 0
		if def.MinLength != nil {
			minLen = *def.MinLength
		}
		if n < minLen || n > maxLen {
			return fmt.Errorf("length %d outside [%d, %d]", n, minLen, maxLen)
		}
		if len(def.Choices) > 0 && !isChoice(def.Choices, s) {
			return fmt.Errorf("%q is not one of the choices", s)
		}
	case OptionInteger, OptionNumber:
		f, ok := number(v)
		if !ok || (def.Type == OptionInteger && f != math.Trunc(f)) || math.Abs(f) > maxSafeInteger {
			return fmt.Errorf("%v is not a valid %s", v, map[int]string{OptionInteger: "integer", OptionNumber: "number"}[def.Type])
		}
		if (def.MinValue != nil && f < *def.MinValue) || (def.MaxValue != nil && f > *def.MaxValue) {
			return fmt.Errorf("%v outside the allowed range", v)
		}
		if len(def.Choices) > 0 && !isChoice(def.Choices, f) {
			return fmt.Errorf("%v is not one of the choices", v)
		}
	case OptionBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want a bool, got %T", v)
		}
	case OptionUser, OptionChannel, OptionRole, OptionMentionable:
		if id, ok := v.(string); !ok || !isSnowflake(id) {
			return fmt.Errorf("want a snowflake, got %v", v)
		}
	default:
		return fmt.Errorf("option type %d is not supported by the fake", def.Type)
	}
	return nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func isChoice(choices []CommandChoice, v any) bool {
	for _, c := range choices {
		if c.Value == v {
			return true
		}
	}
	return false
}

// interactionPayloadLocked builds the common part of INTERACTION_CREATE.
func (s *Server) interactionPayloadLocked(in *interaction, g *guildState, ch *channelState, data map[string]any, locale string) map[string]any {
	p := map[string]any{
		"id":                    in.id,
		"application_id":        s.opts.ApplicationID,
		"type":                  in.kind,
		"token":                 in.token,
		"version":               1,
		"data":                  data,
		"channel_id":            ch.id,
		"channel":               channelPayload(ch),
		"app_permissions":       itoa(botPermissions),
		"locale":                locale,
		"entitlements":          []any{},
		"attachment_size_limit": 10 << 20,
	}
	user := userFor(in.userID)
	if in.guildID == "" {
		p["user"] = userPayload(user)
		p["context"] = 1 // BOT_DM
		p["authorizing_integration_owners"] = map[string]string{"0": "0"}
		return p
	}
	p["guild_id"] = in.guildID
	p["guild"] = map[string]any{"id": in.guildID, "locale": "en-US", "features": []string{}}
	p["guild_locale"] = "en-US"
	p["context"] = 0 // GUILD
	p["authorizing_integration_owners"] = map[string]string{"0": in.guildID}
	if g == nil {
		g = &guildState{Guild: Guild{ID: in.guildID}, joinedAt: time.Now().UTC()}
	}
	p["member"] = s.memberPayload(user, g)
	return p
}

// prepareClick builds a MESSAGE_COMPONENT interaction for a component of a
// message the bot sent.
func (s *Server) prepareClick(c Click) (map[string]any, *interaction, error) {
	if c.Locale == "" {
		c.Locale = "en-US"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.messages[c.MessageID]
	if src == nil || src.deleted {
		return nil, nil, fmt.Errorf("fakediscord: no message %q to click on", c.MessageID)
	}
	comp := findComponent(src.msg.Components, c.CustomID)
	if !c.Unchecked {
		if comp == nil {
			return nil, nil, fmt.Errorf("fakediscord: message %s has no component %q", c.MessageID, c.CustomID)
		}
		if comp.Disabled {
			return nil, nil, fmt.Errorf("fakediscord: component %q is disabled", c.CustomID)
		}
	}
	compType := ComponentButton
	if comp != nil {
		compType = comp.Type
	}
	if c.UserID == "" && src.interaction != nil {
		c.UserID = src.interaction.userID
	}
	if c.UserID == "" {
		c.UserID = s.NewID()
	}
	in := s.newInteraction(interactionComponent)
	in.guildID, in.userID, in.channelID, in.sourceMsg = src.guildID, c.UserID, src.msg.ChannelID, src
	data := map[string]any{"custom_id": c.CustomID, "component_type": compType}
	if compType == ComponentStringSelect {
		data["values"] = nonNil(c.Values)
	}
	ch := s.channels[src.msg.ChannelID]
	if ch == nil {
		return nil, nil, fmt.Errorf("fakediscord: the channel of message %s is gone", c.MessageID)
	}
	p := s.interactionPayloadLocked(in, s.guildLocked(src.guildID), ch, data, c.Locale)
	p["message"] = s.messagePayload(src)
	return p, in, nil
}

func findComponent(cs []Component, customID string) *Component {
	for i := range cs {
		if cs[i].CustomID == customID && cs[i].Type != ComponentActionRow {
			return &cs[i]
		}
		if c := findComponent(cs[i].Components, customID); c != nil {
			return c
		}
	}
	return nil
}
