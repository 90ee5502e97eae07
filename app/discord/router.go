package discord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
)

// responder is the part of *discordgo.Session the router answers through.
type responder interface {
	InteractionRespond(i *discordgo.Interaction, r *discordgo.InteractionResponse, opts ...discordgo.RequestOption) error
	InteractionResponseEdit(i *discordgo.Interaction, e *discordgo.WebhookEdit, opts ...discordgo.RequestOption) (*discordgo.Message, error)
	InteractionResponseDelete(i *discordgo.Interaction, opts ...discordgo.RequestOption) error
	FollowupMessageCreate(i *discordgo.Interaction, wait bool, p *discordgo.WebhookParams, opts ...discordgo.RequestOption) (*discordgo.Message, error)
}

// observer records each answered interaction: the time to its first
// answer and whether it failed on the bot's side.
type observer interface {
	ObserveInteraction(latency time.Duration, failed bool)
}

// approvals is the part of the allowlist the router checks.
type approvals interface {
	IsApproved(ctx context.Context, guild music.GuildID) (bool, error)
}

// Component routes a message component (button) by the prefix of its custom
// ID, "queue" in "queue:2".
type Component struct {
	Prefix string
	Access Access
	Run    HandlerFunc
}

// Router turns interactions into handler calls and handler results into
// Discord responses.
//
// Every interaction is answered within AckAfter (well inside Discord's 3 s):
// with the handler's reply when it is ready by then, otherwise with a
// deferral that the reply later replaces, and that the handler's progress
// edits meanwhile. Commands of one guild run one at a time, but for the
// slow parts of Unlocked ones; different guilds run in parallel.
type Router struct {
	commands   *commandTable
	components map[string]Component
	approvals  approvals
	owners     map[music.UserID]bool
	respond    responder
	observe    observer
	log        *slog.Logger
	locks      guildLocks

	// AckAfter is how long a handler may take before the router defers.
	AckAfter time.Duration
	// HandlerTimeout bounds a handler's work, deferral included.
	HandlerTimeout time.Duration
	// AutocompleteTimeout bounds an autocomplete answer: Discord drops
	// answers later than 3 s, and autocomplete cannot be deferred.
	AutocompleteTimeout time.Duration
	// EditEvery spaces the edits that show a deferred handler's progress,
	// the deferral counting as the first: Discord rate-limits the edits
	// of one message.
	EditEvery time.Duration
}

// RouterConfig holds what a Router needs.
type RouterConfig struct {
	Commands   []Command
	Components []Component
	Approvals  approvals
	Owners     []music.UserID
	Responder  responder
	Observer   observer // optional
	Logger     *slog.Logger
}

// NewRouter checks the command table and returns a router.
func NewRouter(cfg RouterConfig) (*Router, error) {
	table, err := newCommandTable(cfg.Commands)
	if err != nil {
		return nil, fmt.Errorf("command table: %w", err)
	}
	rt := &Router{
		commands:            table,
		components:          make(map[string]Component, len(cfg.Components)),
		approvals:           cfg.Approvals,
		owners:              make(map[music.UserID]bool, len(cfg.Owners)),
		respond:             cfg.Responder,
		observe:             cfg.Observer,
		log:                 cfg.Logger,
		AckAfter:            1500 * time.Millisecond,
		HandlerTimeout:      30 * time.Second,
		AutocompleteTimeout: 2 * time.Second,
		EditEvery:           2 * time.Second,
	}
	for _, c := range cfg.Components {
		rt.components[c.Prefix] = c
	}
	for _, o := range cfg.Owners {
		rt.owners[o] = true
	}
	return rt, nil
}

// route is what the router resolved an interaction to.
type route struct {
	run    HandlerFunc
	access Access
	req    *Request
	update bool // a component: the reply replaces the message the button is on
	// unlocked and timeout are the command's Unlocked and Timeout.
	unlocked bool
	timeout  time.Duration
}

// HandleInteraction answers one interaction. It never panics and never
// returns before the interaction was answered or answering failed.
func (rt *Router) HandleInteraction(ctx context.Context, i *discordgo.Interaction) {
	start := time.Now()
	log := rt.log.With(slog.String("interaction", i.ID), slog.String("guild", i.GuildID))
	if i.Type == discordgo.InteractionApplicationCommandAutocomplete {
		rt.autocomplete(ctx, log, i)
		return
	}
	r, err := rt.resolve(i)
	if err != nil {
		rt.answer(ctx, log, start, i, false, rt.errorReply(log, "", err))
		return
	}
	log = log.With(slog.String("command", r.req.Command))
	if reply, denied := rt.deny(r); denied {
		rt.answer(ctx, log, start, i, r.update, reply)
		return
	}

	timeout := rt.HandlerTimeout
	if r.timeout > 0 {
		timeout = r.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r.req.progress = newProgressReport()
	done := make(chan Reply, 1)
	go func() { done <- rt.run(ctx, log, r) }()

	timer := time.NewTimer(rt.AckAfter)
	defer timer.Stop()
	select {
	case reply := <-done:
		rt.answer(ctx, log, start, i, r.update, reply)
	case <-timer.C:
		rt.deferThenEdit(ctx, log, start, i, r.update, r.req.progress, done)
	}
}

// autocomplete answers suggestions for the option being typed, within
// AutocompleteTimeout: no guild lock (suggestions change nothing) and no
// deferral (Discord has none for autocomplete). Unapproved guilds and
// failures get no suggestions.
func (rt *Router) autocomplete(ctx context.Context, log *slog.Logger, i *discordgo.Interaction) {
	ctx, cancel := context.WithTimeout(ctx, rt.AutocompleteTimeout)
	defer cancel()
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	for _, c := range rt.suggest(ctx, log, i) {
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: c.Name, Value: c.Value})
	}
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult, Data: &discordgo.InteractionResponseData{Choices: choices}}
	// The answer gets its own short deadline: the suggestions may have used
	// all of ctx's.
	sendCtx, cancelSend := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancelSend()
	if err := rt.respond.InteractionRespond(i, resp, discordgo.WithContext(sendCtx)); err != nil {
		log.Warn("answering autocomplete", slog.Any("err", err))
	}
}

// suggest runs the focused option's autocomplete when the user may run its
// command.
func (rt *Router) suggest(ctx context.Context, log *slog.Logger, i *discordgo.Interaction) []Choice {
	complete, typed := rt.commands.autocompleteFor(i.ApplicationCommandData())
	if complete == nil {
		return nil
	}
	switch rt.commands.byName[i.ApplicationCommandData().Name].Access {
	case Owners:
		if u := interactionUser(i); u == nil || !rt.owners[music.UserID(u.ID)] {
			return nil
		}
	case Approved:
		if i.GuildID == "" || music.GuildID(i.GuildID).Validate() != nil {
			return nil
		}
		ok, err := rt.approvals.IsApproved(ctx, music.GuildID(i.GuildID))
		if err != nil {
			log.Warn("autocomplete: checking the allowlist", slog.Any("err", err))
			return nil
		}
		if !ok {
			return nil
		}
	}
	req := &Request{Guild: music.GuildID(i.GuildID), Channel: i.ChannelID}
	if u := interactionUser(i); u != nil {
		req.User = music.UserID(u.ID)
	}
	if req.User.Validate() != nil {
		return nil
	}
	req.Owner = rt.owners[req.User]
	choices := complete(ctx, req, typed)
	return choices[:min(len(choices), maxChoices)]
}

// record reports an answered interaction to the observer, if any.
func (rt *Router) record(latency time.Duration, failed bool) {
	if rt.observe != nil {
		rt.observe.ObserveInteraction(latency, failed)
	}
}

// resolve parses the interaction into a route, validating IDs and options.
func (rt *Router) resolve(i *discordgo.Interaction) (*route, error) {
	req := &Request{Guild: music.GuildID(i.GuildID), Channel: i.ChannelID}
	if i.Member != nil {
		req.Roles = i.Member.Roles
	}
	if u := interactionUser(i); u != nil {
		req.User = music.UserID(u.ID)
	}
	if err := req.User.Validate(); err != nil {
		return nil, err
	}
	if req.Guild != "" {
		if err := req.Guild.Validate(); err != nil {
			return nil, err
		}
	}
	req.Owner = rt.owners[req.User]

	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		c, path, values, err := rt.commands.resolve(i.ApplicationCommandData())
		if err != nil {
			return nil, err
		}
		req.Command, req.options = path, values
		return &route{run: c.Run, access: rt.commands.byName[i.ApplicationCommandData().Name].Access, req: req, unlocked: c.Unlocked, timeout: c.Timeout}, nil
	case discordgo.InteractionMessageComponent:
		id := i.MessageComponentData().CustomID
		prefix, _, _ := strings.Cut(id, ":")
		c, ok := rt.components[prefix]
		if !ok {
			return nil, music.Errorf(music.EINVALID, "This button no longer works.")
		}
		req.Command = id
		return &route{run: c.Run, access: c.Access, req: req, update: true}, nil
	}
	return nil, music.Errorf(music.EINVALID, "TimmyBot does not handle this kind of interaction.")
}

func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

// deny answers the access rules that need no I/O: owner-only commands and
// guild-only commands used in a DM.
func (rt *Router) deny(r *route) (Reply, bool) {
	switch {
	case r.access == Owners && !r.req.Owner:
		return ephemeral("Only the bot's owners can use /%s.", r.req.Command), true
	case r.access == Approved && r.req.Guild == "":
		return ephemeral("/%s works in a server, not in direct messages.", r.req.Command), true
	}
	return Reply{}, false
}

// run executes the handler under the guild's lock (an Unlocked one with
// the means to take it), after the allowlist check, turning errors and
// panics into replies.
func (rt *Router) run(ctx context.Context, log *slog.Logger, r *route) (reply Reply) {
	defer func() {
		if p := recover(); p != nil {
			reply = rt.errorReply(log, r.req.Command, fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	if r.req.Guild != "" && r.unlocked {
		r.req.lock = func(ctx context.Context) (func(), error) { return rt.locks.lock(ctx, r.req.Guild) }
		r.req.lockedTimeout = rt.HandlerTimeout
	} else if r.req.Guild != "" {
		unlock, err := rt.locks.lock(ctx, r.req.Guild)
		if err != nil {
			return rt.errorReply(log, r.req.Command, fmt.Errorf("waiting for the guild's previous command: %w", err))
		}
		defer unlock()
	}
	if r.access == Approved {
		ok, err := rt.approvals.IsApproved(ctx, r.req.Guild)
		if err != nil {
			return rt.errorReply(log, r.req.Command, fmt.Errorf("checking the allowlist: %w", err))
		}
		if !ok {
			return ephemeral("TimmyBot isn't enabled on this server yet. A server admin can ask for access with `/request-access reason:<why>`.")
		}
	}
	reply, err := r.run(ctx, r.req)
	if err != nil {
		return rt.errorReply(log, r.req.Command, err)
	}
	return reply
}

// answer sends the reply as the interaction's first and only response.
// The observation precedes the send, so that whoever sees the answer also
// sees it counted.
func (rt *Router) answer(ctx context.Context, log *slog.Logger, start time.Time, i *discordgo.Interaction, update bool, reply Reply) {
	rt.record(time.Since(start), reply.failed)
	typ := discordgo.InteractionResponseChannelMessageWithSource
	if update && !reply.Ephemeral {
		typ = discordgo.InteractionResponseUpdateMessage
	}
	err := rt.respond.InteractionRespond(i, &discordgo.InteractionResponse{Type: typ, Data: reply.responseData()}, discordgo.WithContext(ctx))
	if err != nil {
		log.Error("answering interaction", slog.Any("err", err))
	}
}

// deferThenEdit acknowledges now, shows the handler's progress, and
// replaces the placeholder when the handler is done. An ephemeral reply
// (an error) cannot replace a public placeholder, so the placeholder is
// deleted and the reply follows up.
func (rt *Router) deferThenEdit(ctx context.Context, log *slog.Logger, start time.Time, i *discordgo.Interaction, update bool, progress *progressReport, done <-chan Reply) {
	typ := discordgo.InteractionResponseDeferredChannelMessageWithSource
	if update {
		typ = discordgo.InteractionResponseDeferredMessageUpdate
	}
	latency := time.Since(start)
	err := rt.respond.InteractionRespond(i, &discordgo.InteractionResponse{Type: typ}, discordgo.WithContext(ctx))
	var reply Reply
	if err != nil {
		reply = <-done // the handler honours ctx, so done always delivers
	} else {
		reply = rt.showProgress(ctx, log, i, progress, done)
	}
	rt.record(latency, reply.failed)
	if err != nil {
		log.Error("deferring interaction", slog.Any("err", err))
		return
	}
	// The handler may have spent ctx (a timeout, a cancelled import): the
	// reply gets its own short deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	if reply.Ephemeral {
		if !update {
			if err := rt.respond.InteractionResponseDelete(i, discordgo.WithContext(ctx)); err != nil {
				log.Error("deleting deferred placeholder", slog.Any("err", err))
			}
		}
		params := &discordgo.WebhookParams{Content: reply.Content, Embeds: reply.Embeds, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: &discordgo.MessageAllowedMentions{}}
		if _, err := rt.respond.FollowupMessageCreate(i, false, params, discordgo.WithContext(ctx)); err != nil {
			log.Error("sending follow-up", slog.Any("err", err))
		}
		return
	}
	if _, err := rt.respond.InteractionResponseEdit(i, reply.webhookEdit(), discordgo.WithContext(ctx)); err != nil {
		log.Error("editing deferred response", slog.Any("err", err))
	}
}

// sendTimeout bounds sending a deferred handler's reply.
const sendTimeout = 5 * time.Second

// showProgress edits the deferred placeholder with the handler's progress
// until the handler is done, and returns its reply. Edits are EditEvery
// apart, the deferral counting as the first; a change that comes sooner
// waits, and only the latest text of the wait is shown.
func (rt *Router) showProgress(ctx context.Context, log *slog.Logger, i *discordgo.Interaction, p *progressReport, done <-chan Reply) Reply {
	wait := time.After(rt.EditEvery) // nil once an edit may go at once
	pending, shown := false, ""
	for {
		select {
		case reply := <-done:
			return reply
		case <-p.changed:
			pending = true
		case <-wait:
			wait = nil
		}
		if !pending || wait != nil {
			continue
		}
		pending = false
		if text := p.latest(); text != shown {
			shown = text
			if _, err := rt.respond.InteractionResponseEdit(i, Reply{Content: text}.webhookEdit(), discordgo.WithContext(ctx)); err != nil {
				log.Warn("showing progress", slog.Any("err", err))
			}
			wait = time.After(rt.EditEvery)
		}
	}
}

// progressReport is the latest progress text of a handler.
type progressReport struct {
	mu      sync.Mutex
	text    string
	changed chan struct{} // capacity 1: a change not yet seen
}

func newProgressReport() *progressReport {
	return &progressReport{changed: make(chan struct{}, 1)}
}

func (p *progressReport) set(text string) {
	p.mu.Lock()
	p.text = text
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *progressReport) latest() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.text
}

// errorReply turns an error into what the user sees. Failures that are not
// the user's doing are logged with a short ID that the user also sees.
func (rt *Router) errorReply(log *slog.Logger, command string, err error) Reply {
	switch music.ErrorCode(err) {
	case music.EINVALID, music.ENOTFOUND, music.EFORBIDDEN, music.ECONFLICT:
		return ephemeral("%s", music.ErrorMessage(err))
	}
	id := newErrorID()
	log.Error("command failed", slog.String("error_id", id), slog.Any("err", err))
	msg := "Something went wrong on our side"
	if music.ErrorCode(err) == music.EUNAVAILABLE {
		// A dependency is down: its error says which (the store, a source).
		msg = strings.TrimSuffix(music.ErrorMessage(err), ".")
		if msg == "" {
			msg = "TimmyBot can't reach a service it needs right now; try again in a minute"
		}
	}
	if command != "" {
		msg += " while running /" + command
	}
	reply := ephemeral("%s. (error ID `%s`)", msg, id)
	reply.failed = true
	return reply
}

func newErrorID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// guildLocks serialises commands per guild. Entries are removed when no
// one holds or waits for them, so idle guilds cost nothing.
type guildLocks struct {
	mu sync.Mutex
	m  map[music.GuildID]*guildLock
}

type guildLock struct {
	sem  chan struct{}
	refs int
}

func (l *guildLocks) lock(ctx context.Context, g music.GuildID) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[music.GuildID]*guildLock)
	}
	gl := l.m[g]
	if gl == nil {
		gl = &guildLock{sem: make(chan struct{}, 1)}
		l.m[g] = gl
	}
	gl.refs++
	l.mu.Unlock()

	release := func() {
		l.mu.Lock()
		if gl.refs--; gl.refs == 0 {
			delete(l.m, g)
		}
		l.mu.Unlock()
	}
	select {
	case gl.sem <- struct{}{}:
		return func() { <-gl.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
