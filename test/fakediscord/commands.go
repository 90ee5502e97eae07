package fakediscord

import (
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Application command types.
const (
	CommandChatInput = 1
	CommandUser      = 2
	CommandMessage   = 3
)

// Application command option types.
const (
	OptionSubCommand      = 1
	OptionSubCommandGroup = 2
	OptionString          = 3
	OptionInteger         = 4
	OptionBoolean         = 5
	OptionUser            = 6
	OptionChannel         = 7
	OptionRole            = 8
	OptionMentionable     = 9
	OptionNumber          = 10
	OptionAttachment      = 11
)

// ApplicationCommand is a registered command as Discord stores and returns it.
type ApplicationCommand struct {
	ID                       string            `json:"id,omitempty"`
	ApplicationID            string            `json:"application_id,omitempty"`
	GuildID                  string            `json:"guild_id,omitempty"`
	Version                  string            `json:"version,omitempty"`
	Type                     int               `json:"type,omitempty"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations,omitempty"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations,omitempty"`
	Options                  []CommandOption   `json:"options,omitempty"`
	DefaultMemberPermissions *string           `json:"default_member_permissions"`
	DMPermission             *bool             `json:"dm_permission,omitempty"`
	Contexts                 []int             `json:"contexts,omitempty"`
	IntegrationTypes         []int             `json:"integration_types,omitempty"`
	NSFW                     bool              `json:"nsfw"`
}

// CommandOption is an option (parameter, sub-command or group) of a command.
type CommandOption struct {
	Type                     int               `json:"type"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations,omitempty"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations,omitempty"`
	Required                 bool              `json:"required,omitempty"`
	Choices                  []CommandChoice   `json:"choices,omitempty"`
	Options                  []CommandOption   `json:"options,omitempty"`
	ChannelTypes             []int             `json:"channel_types,omitempty"`
	MinValue                 *float64          `json:"min_value,omitempty"`
	MaxValue                 *float64          `json:"max_value,omitempty"`
	MinLength                *int              `json:"min_length,omitempty"`
	MaxLength                *int              `json:"max_length,omitempty"`
	Autocomplete             bool              `json:"autocomplete,omitempty"`
}

// CommandChoice is a predefined value of a string, integer or number option.
type CommandChoice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Limits Discord enforces on command registration.
const (
	maxChatCommands    = 100
	maxContextCommands = 5
	maxOptions         = 25
	maxChoices         = 25
	maxDescription     = 100
	maxChoiceName      = 100
	maxChoiceString    = 100
	maxStringOption    = 6000
	maxCommandSize     = 4000
	maxSafeInteger     = 1<<53 - 1
)

var (
	chatNameRE    = regexp.MustCompile(`^[-_\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)
	contextNameRE = regexp.MustCompile(`^[-_ \p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)
)

// Commands returns the commands registered for a guild, or the global ones
// when guildID is "".
func (s *Server) Commands(guildID string) []ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ApplicationCommand
	if err := json.Unmarshal(mustJSON(s.commands[guildID]), &out); err != nil {
		panic("fakediscord: copying commands: " + err.Error()) // ApplicationCommand always round-trips
	}
	return out
}

// commandScope checks the application and guild of a commands route and
// returns the guild ID ("" for global commands).
func (s *Server) commandScope(r *http.Request) (string, *apiError) {
	if r.PathValue("app") != s.opts.ApplicationID {
		return "", errMissingAccess
	}
	guildID := r.PathValue("guild")
	if guildID == "" {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guildLocked(guildID) == nil {
		return "", errMissingAccess // Discord's answer for a guild the app is not in
	}
	return guildID, nil
}

func (s *Server) getCommands(r *http.Request) (int, any) {
	guildID, e := s.commandScope(r)
	if e != nil {
		return fail(e)
	}
	return http.StatusOK, nonNil(s.Commands(guildID))
}

func (s *Server) putCommands(r *http.Request) (int, any) {
	guildID, e := s.commandScope(r)
	if e != nil {
		return fail(e)
	}
	var cmds []ApplicationCommand
	if e := decodeBody(r, &cmds); e != nil {
		return fail(e)
	}
	for i := range cmds {
		if cmds[i].Type == 0 {
			cmds[i].Type = CommandChatInput
		}
	}
	if e := validateCommands(cmds); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	existing := map[string]string{}
	for _, c := range s.commands[guildID] {
		existing[strconv.Itoa(c.Type)+c.Name] = c.ID
	}
	for i := range cmds {
		c := &cmds[i]
		c.ID = existing[strconv.Itoa(c.Type)+c.Name]
		if c.ID == "" {
			c.ID = s.NewID() // Discord keeps the IDs of commands an overwrite keeps
		}
		c.ApplicationID = s.opts.ApplicationID
		c.GuildID = guildID
		c.Version = s.NewID()
		if guildID == "" && c.DMPermission == nil {
			yes := true
			c.DMPermission = &yes
		}
	}
	s.commands[guildID] = cmds
	s.notifyLocked()
	return http.StatusOK, nonNil(cmds)
}

func validateCommands(cmds []ApplicationCommand) *apiError {
	var fe formErrors
	counts := map[int]int{}
	seen := map[string]bool{}
	for i, c := range cmds {
		path := []string{strconv.Itoa(i)}
		at := func(p ...string) []string { return append(append([]string(nil), path...), p...) }
		counts[c.Type]++
		switch c.Type {
		case CommandChatInput:
			if !validName(c.Name) {
				fe.add(at("name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			}
			checkDescription(&fe, c.Description, at("description"))
			validateOptions(&fe, c.Options, at("options"), true)
		case CommandUser, CommandMessage:
			if !contextNameRE.MatchString(c.Name) {
				fe.add(at("name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			}
			if c.Description != "" {
				fe.add(at("description"), "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have description")
			}
			if len(c.Options) > 0 {
				fe.add(at("options"), "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS", "Context menu commands cannot have options")
			}
		default:
			fe.add(at("type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
		}
		if key := strconv.Itoa(c.Type) + c.Name; seen[key] {
			fe.add(path, "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		} else {
			seen[key] = true
		}
		if commandSize(c) > maxCommandSize {
			fe.add(path, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (4000)")
		}
	}
	if e := fe.err(); e != nil {
		return e
	}
	if counts[CommandChatInput] > maxChatCommands || counts[CommandUser] > maxContextCommands || counts[CommandMessage] > maxContextCommands {
		return &apiError{status: 400, Code: 30032, Message: "Maximum number of application commands reached (100)"}
	}
	return nil
}

// validName applies Discord's rule for chat-input command and option names:
// 1-32 letters, digits, '-' or '_', lowercase wherever a letter has a case.
func validName(name string) bool {
	return chatNameRE.MatchString(name) && strings.ToLower(name) == name
}

func checkDescription(fe *formErrors, d string, path []string) {
	if n := utf8.RuneCountInString(d); n < 1 || n > maxDescription {
		fe.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
	}
}

// validateOptions checks one level of options. top is true for a command's
// own options, where sub-command groups may appear.
func validateOptions(fe *formErrors, opts []CommandOption, path []string, top bool) {
	if len(opts) > maxOptions {
		fe.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	subs, plain, optionalSeen := 0, 0, false
	names := map[string]bool{}
	for j, o := range opts {
		op := append(append([]string(nil), path...), strconv.Itoa(j))
		at := func(p string) []string { return append(append([]string(nil), op...), p) }
		if !validName(o.Name) {
			fe.add(at("name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if names[o.Name] {
			fe.add(at("name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique")
		}
		names[o.Name] = true
		checkDescription(fe, o.Description, at("description"))
		switch o.Type {
		case OptionSubCommandGroup:
			subs++
			if !top {
				fe.add(at("type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-command groups can only be nested in a command")
			}
			for k, sub := range o.Options {
				if sub.Type != OptionSubCommand {
					fe.add(append(at("options"), strconv.Itoa(k), "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-command groups can only contain sub-commands")
				}
			}
			validateOptions(fe, o.Options, at("options"), false)
		case OptionSubCommand:
			subs++
			for k, p := range o.Options {
				if p.Type == OptionSubCommand || p.Type == OptionSubCommandGroup {
					fe.add(append(at("options"), strconv.Itoa(k), "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-commands cannot contain sub-commands")
				}
			}
			validateOptions(fe, o.Options, at("options"), false)
		case OptionString, OptionInteger, OptionBoolean, OptionUser, OptionChannel, OptionRole, OptionMentionable, OptionNumber, OptionAttachment:
			plain++
			if o.Required && optionalSeen {
				fe.add(op, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID_ORDER", "Required options must be placed before non-required options")
			}
			optionalSeen = optionalSeen || !o.Required
			validateParameter(fe, o, op)
		default:
			fe.add(at("type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.")
		}
	}
	if subs > 0 && plain > 0 {
		fe.add(path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-command and sub-command group option types are mutually exclusive to all other types")
	}
}

// validateParameter checks the type-specific fields of a value option.
func validateParameter(fe *formErrors, o CommandOption, path []string) {
	at := func(p ...string) []string { return append(append([]string(nil), path...), p...) }
	hasChoices := o.Type == OptionString || o.Type == OptionInteger || o.Type == OptionNumber
	if len(o.Choices) > 0 && !hasChoices {
		fe.add(at("choices"), "APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED", "Choices are only allowed for string, integer and number options")
	}
	if len(o.Choices) > maxChoices {
		fe.add(at("choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	if len(o.Choices) > 0 && o.Autocomplete {
		fe.add(at("autocomplete"), "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID_CHOICES", "Autocomplete cannot be set when choices are present")
	}
	for k, c := range o.Choices {
		cp := at("choices", strconv.Itoa(k))
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > maxChoiceName {
			fe.add(append(cp, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		if hasChoices && !choiceFits(o.Type, c.Value) {
			fe.add(append(cp, "value"), "BASE_TYPE_BAD_LENGTH", "Choice value does not match the option type")
		}
	}
	if (o.MinLength != nil || o.MaxLength != nil) && o.Type != OptionString {
		fe.add(at("min_length"), "APPLICATION_COMMAND_OPTION_LENGTH_NOT_ALLOWED", "Length limits are only allowed for string options")
	}
	if o.MinLength != nil && (*o.MinLength < 0 || *o.MinLength > maxStringOption) {
		fe.add(at("min_length"), "NUMBER_TYPE_MAX", "int value should be between 0 and 6000.")
	}
	if o.MaxLength != nil && (*o.MaxLength < 1 || *o.MaxLength > maxStringOption) {
		fe.add(at("max_length"), "NUMBER_TYPE_MAX", "int value should be between 1 and 6000.")
	}
	if (o.MinValue != nil || o.MaxValue != nil) && o.Type != OptionInteger && o.Type != OptionNumber {
		fe.add(at("min_value"), "APPLICATION_COMMAND_OPTION_VALUE_NOT_ALLOWED", "Value limits are only allowed for integer and number options")
	}
	if len(o.ChannelTypes) > 0 && o.Type != OptionChannel {
		fe.add(at("channel_types"), "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_NOT_ALLOWED", "Channel types are only allowed for channel options")
	}
}

func choiceFits(optType int, v any) bool {
	switch optType {
	case OptionString:
		s, ok := v.(string)
		return ok && utf8.RuneCountInString(s) <= maxChoiceString
	case OptionInteger:
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger
	case OptionNumber:
		_, ok := v.(float64)
		return ok
	}
	return false
}

// commandSize is what Discord counts against its 4000-character limit:
// names, descriptions and choice names and values, at every level.
func commandSize(c ApplicationCommand) int {
	return utf8.RuneCountInString(c.Name) + utf8.RuneCountInString(c.Description) + optionsSize(c.Options)
}

func optionsSize(opts []CommandOption) int {
	n := 0
	for _, o := range opts {
		n += utf8.RuneCountInString(o.Name) + utf8.RuneCountInString(o.Description) + optionsSize(o.Options)
		for _, c := range o.Choices {
			n += utf8.RuneCountInString(c.Name)
			if s, ok := c.Value.(string); ok {
				n += utf8.RuneCountInString(s)
			}
		}
	}
	return n
}
