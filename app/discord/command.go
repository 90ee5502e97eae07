package discord

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
)

// Access says who may run a command.
type Access int

const (
	// Approved commands run only in guilds on the allowlist.
	Approved Access = iota
	// Everyone commands run anywhere, also in unapproved guilds and DMs.
	Everyone
	// Owners commands run anywhere, for the bot's owners only.
	Owners
)

// HandlerFunc runs one command or component interaction. It returns the
// reply to show; a returned error becomes an ephemeral message (see
// errorReply), so handlers never talk to Discord themselves.
type HandlerFunc func(ctx context.Context, r *Request) (Reply, error)

// Command declares a slash command or, inside Subcommands, a subcommand.
// A command either has Subcommands or a Run function, never both.
type Command struct {
	Name        string
	Description string
	Access      Access // of a top-level command; subcommands inherit it
	Options     []Option
	Subcommands []Command
	Run         HandlerFunc
	// Unlocked runs Run without the guild's command lock, alongside the
	// guild's other commands, for handlers that wait on slow sources: Run
	// takes the lock itself, with Request.Locked, for the part that
	// changes the guild's state.
	Unlocked bool
	// Timeout bounds Run. Default: the router's HandlerTimeout.
	Timeout time.Duration
}

// Option declares a command option. Only the types the bot uses exist.
type Option struct {
	Name        string
	Description string
	Type        OptionType
	Required    bool
	MaxLength   int      // strings: at most this many characters (0: Discord's 6000)
	MinValue    int      // integers: at least this
	MaxValue    int      // integers: at most this (0: unbounded)
	Choices     []string // strings: the only values allowed, offered as a list
	// Autocomplete, for strings, suggests values while the user types, to
	// the user r names (r has no option values). It must answer by ctx's
	// deadline with what it has.
	Autocomplete func(ctx context.Context, r *Request, typed string) []Choice
}

// Choice is an autocomplete suggestion: Name is shown, Value is sent.
type Choice struct {
	Name, Value string
}

// Discord's bounds on autocomplete: choices in an answer, characters in a
// choice's name and value.
const (
	maxChoices   = 25
	maxChoiceLen = 100
)

// autocompleteFor returns the autocomplete of the option being typed in an
// autocomplete interaction, with what was typed so far; nil when it has none.
func (t *commandTable) autocompleteFor(data discordgo.ApplicationCommandInteractionData) (complete func(context.Context, *Request, string) []Choice, typed string) {
	c, ok := t.byName[data.Name]
	if !ok {
		return nil, ""
	}
	opts := data.Options
	for len(c.Subcommands) > 0 {
		if len(opts) != 1 {
			return nil, ""
		}
		if c = c.subcommand(opts[0].Name); c == nil {
			return nil, ""
		}
		opts = opts[0].Options
	}
	for _, o := range opts {
		if !o.Focused {
			continue
		}
		decl := c.option(o.Name)
		s, isString := o.Value.(string)
		if decl == nil || decl.Autocomplete == nil || !isString {
			return nil, ""
		}
		return decl.Autocomplete, s
	}
	return nil, ""
}

// OptionType is the value type of an option.
type OptionType int

const (
	String OptionType = iota + 1
	Integer
	Boolean
)

func (t OptionType) discord() discordgo.ApplicationCommandOptionType {
	switch t {
	case Integer:
		return discordgo.ApplicationCommandOptionInteger
	case Boolean:
		return discordgo.ApplicationCommandOptionBoolean
	}
	return discordgo.ApplicationCommandOptionString
}

func (t OptionType) String() string {
	switch t {
	case Integer:
		return "number"
	case Boolean:
		return "true/false"
	}
	return "text"
}

// commandTable indexes top-level commands by name.
type commandTable struct {
	list   []Command
	byName map[string]*Command
}

func newCommandTable(cmds []Command) (*commandTable, error) {
	t := &commandTable{list: cmds, byName: make(map[string]*Command, len(cmds))}
	for i := range cmds {
		c := &cmds[i]
		if err := c.check(); err != nil {
			return nil, err
		}
		if _, dup := t.byName[c.Name]; dup {
			return nil, fmt.Errorf("command %q declared twice", c.Name)
		}
		t.byName[c.Name] = c
	}
	return t, nil
}

// check catches declaration mistakes at start-up instead of at Discord.
func (c *Command) check() error {
	if (c.Run == nil) == (len(c.Subcommands) == 0) {
		return fmt.Errorf("command %q must have either Run or Subcommands", c.Name)
	}
	if c.Description == "" || len(c.Description) > 100 {
		return fmt.Errorf("command %q: description must be 1-100 characters", c.Name)
	}
	for _, o := range c.Options {
		if o.Description == "" || len([]rune(o.Description)) > 100 {
			return fmt.Errorf("command %q option %q: description must be 1-100 characters", c.Name, o.Name)
		}
	}
	for i := range c.Subcommands {
		if err := c.Subcommands[i].check(); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	return nil
}

// applicationCommands converts the table to Discord's registration payload.
func (t *commandTable) applicationCommands() []*discordgo.ApplicationCommand {
	out := make([]*discordgo.ApplicationCommand, 0, len(t.list))
	for _, c := range t.list {
		ac := &discordgo.ApplicationCommand{
			Name:        c.Name,
			Description: c.Description,
			Options:     c.discordOptions(),
		}
		if c.Access == Owners {
			// Hidden from members by default; Discord shows it to administrators,
			// and the router still checks the owner list.
			var admin int64 = discordgo.PermissionAdministrator
			ac.DefaultMemberPermissions = &admin
		}
		out = append(out, ac)
	}
	return out
}

func (c *Command) discordOptions() []*discordgo.ApplicationCommandOption {
	var out []*discordgo.ApplicationCommandOption
	for _, sub := range c.Subcommands {
		out = append(out, &discordgo.ApplicationCommandOption{
			Type:        discordgo.ApplicationCommandOptionSubCommand,
			Name:        sub.Name,
			Description: sub.Description,
			Options:     sub.discordOptions(),
		})
	}
	for _, o := range c.Options {
		opt := &discordgo.ApplicationCommandOption{
			Type:         o.Type.discord(),
			Name:         o.Name,
			Description:  o.Description,
			Required:     o.Required,
			MaxLength:    o.MaxLength,
			Autocomplete: o.Autocomplete != nil,
		}
		for _, c := range o.Choices {
			opt.Choices = append(opt.Choices, &discordgo.ApplicationCommandOptionChoice{Name: c, Value: c})
		}
		if o.Type == Integer {
			minV := float64(o.MinValue)
			opt.MinValue = &minV
			if o.MaxValue > 0 {
				opt.MaxValue = float64(o.MaxValue)
			}
		}
		out = append(out, opt)
	}
	return out
}

// resolve finds the leaf command an interaction names and checks its
// options against the declaration. It returns the leaf, its path ("allowlist
// approve") and the option values.
func (t *commandTable) resolve(data discordgo.ApplicationCommandInteractionData) (*Command, string, map[string]any, error) {
	c, ok := t.byName[data.Name]
	if !ok {
		return nil, "", nil, music.Errorf(music.EINVALID, "Unknown command /%s. Try /help.", music.Truncate(data.Name, 32))
	}
	path := c.Name
	opts := data.Options
	for len(c.Subcommands) > 0 {
		if len(opts) != 1 || opts[0].Type != discordgo.ApplicationCommandOptionSubCommand {
			return nil, "", nil, music.Errorf(music.EINVALID, "/%s needs a subcommand: %s.", path, subcommandNames(c))
		}
		sub := c.subcommand(opts[0].Name)
		if sub == nil {
			return nil, "", nil, music.Errorf(music.EINVALID, "/%s has no subcommand %q: use %s.", path, music.Truncate(opts[0].Name, 32), subcommandNames(c))
		}
		c, path, opts = sub, path+" "+sub.Name, opts[0].Options
	}
	values, err := c.validate(path, opts)
	if err != nil {
		return nil, "", nil, err
	}
	return c, path, values, nil
}

func (c *Command) subcommand(name string) *Command {
	for i := range c.Subcommands {
		if c.Subcommands[i].Name == name {
			return &c.Subcommands[i]
		}
	}
	return nil
}

func subcommandNames(c *Command) string {
	names := make([]string, len(c.Subcommands))
	for i, s := range c.Subcommands {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// validate checks types, bounds, unknown and missing options. Discord
// validates too, but the bot must not trust the wire.
func (c *Command) validate(path string, given []*discordgo.ApplicationCommandInteractionDataOption) (map[string]any, error) {
	values := make(map[string]any, len(given))
	for _, g := range given {
		decl := c.option(g.Name)
		if decl == nil {
			return nil, music.Errorf(music.EINVALID, "/%s has no option %q.", path, music.Truncate(g.Name, 32))
		}
		if _, dup := values[g.Name]; dup {
			return nil, music.Errorf(music.EINVALID, "Option %q was given twice.", g.Name)
		}
		v, err := decl.value(g)
		if err != nil {
			return nil, err
		}
		values[g.Name] = v
	}
	for _, o := range c.Options {
		if _, ok := values[o.Name]; o.Required && !ok {
			return nil, music.Errorf(music.EINVALID, "/%s needs the option %q (%s).", path, o.Name, o.Description)
		}
	}
	return values, nil
}

func (c *Command) option(name string) *Option {
	for i := range c.Options {
		if c.Options[i].Name == name {
			return &c.Options[i]
		}
	}
	return nil
}

func (o *Option) value(g *discordgo.ApplicationCommandInteractionDataOption) (any, error) {
	switch o.Type {
	case String:
		s, ok := g.Value.(string)
		if !ok || g.Type != discordgo.ApplicationCommandOptionString {
			return nil, music.Errorf(music.EINVALID, "Option %q must be text.", o.Name)
		}
		maxLen := o.MaxLength
		if maxLen == 0 {
			maxLen = 6000
		}
		if n := len([]rune(s)); n > maxLen {
			return nil, music.Errorf(music.EINVALID, "Option %q is too long: %d characters, at most %d.", o.Name, n, maxLen)
		}
		if len(o.Choices) > 0 && !slices.Contains(o.Choices, s) {
			return nil, music.Errorf(music.EINVALID, "Option %q must be one of: %s.", o.Name, strings.Join(o.Choices, ", "))
		}
		return s, nil
	case Boolean:
		b, ok := g.Value.(bool)
		if !ok || g.Type != discordgo.ApplicationCommandOptionBoolean {
			return nil, music.Errorf(music.EINVALID, "Option %q must be true or false.", o.Name)
		}
		return b, nil
	case Integer:
		f, ok := g.Value.(float64)
		if !ok || g.Type != discordgo.ApplicationCommandOptionInteger || f != float64(int64(f)) {
			return nil, music.Errorf(music.EINVALID, "Option %q must be a whole number.", o.Name)
		}
		n := int(f)
		if n < o.MinValue || (o.MaxValue > 0 && n > o.MaxValue) {
			return nil, music.Errorf(music.EINVALID, "Option %q must be between %d and %s.", o.Name, o.MinValue, maxString(o.MaxValue))
		}
		return n, nil
	}
	return nil, fmt.Errorf("option %q has undeclared type %d", o.Name, o.Type)
}

func maxString(n int) string {
	if n == 0 {
		return "any larger number"
	}
	return fmt.Sprint(n)
}

// helpText renders the command table for /help. Owner commands are listed
// only for owners.
func helpText(cmds []Command, owner bool) string {
	var lines []string
	var walk func(prefix string, c *Command, access Access)
	walk = func(prefix string, c *Command, access Access) {
		if access == Owners && !owner {
			return
		}
		path := strings.TrimSpace(prefix + " " + c.Name)
		if len(c.Subcommands) > 0 {
			for i := range c.Subcommands {
				walk(path, &c.Subcommands[i], access)
			}
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "`/%s", path)
		for _, o := range c.Options {
			kind := o.Type.String()
			if len(o.Choices) > 0 {
				kind = strings.Join(o.Choices, "|")
			}
			if o.Required {
				fmt.Fprintf(&b, " %s:<%s>", o.Name, kind)
			} else {
				fmt.Fprintf(&b, " [%s:<%s>]", o.Name, kind)
			}
		}
		fmt.Fprintf(&b, "` — %s", c.Description)
		if access == Owners {
			b.WriteString(" *(owners)*")
		}
		lines = append(lines, b.String())
	}
	for i := range cmds {
		walk("", &cmds[i], cmds[i].Access)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
