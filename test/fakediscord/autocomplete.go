package fakediscord

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// Autocomplete interactions: what Discord's client sends while a user types
// an option that has autocomplete, and the bot's list of choices back.
const (
	interactionAutocomplete    = 4 // APPLICATION_COMMAND_AUTOCOMPLETE
	CallbackAutocompleteResult = 8 // APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
)

// Choice is an autocomplete suggestion as the bot sent it.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Discord's bounds on an autocomplete answer.
const (
	maxAutocompleteChoices = 25
	maxChoiceLen           = 100
)

// Autocomplete dispatches the autocomplete interaction of cmd while the
// user types the top-level option focused (which must be among cmd's
// options, with what was typed as its value) and returns the bot's
// choices. The bot must answer within the interaction timeout, and cannot
// defer.
func (s *Server) Autocomplete(ctx context.Context, cmd Slash, focused string) ([]Choice, error) {
	payload, in, err := s.prepareSlash(cmd)
	if err != nil {
		return nil, err
	}
	in.kind = interactionAutocomplete
	payload["type"] = interactionAutocomplete
	data, _ := payload["data"].(map[string]any)
	opts, _ := data["options"].([]any)
	marked := false
	for _, o := range opts {
		if w, ok := o.(map[string]any); ok && w["name"] == focused {
			w["focused"] = true
			marked = true
		}
	}
	if !marked {
		return nil, fmt.Errorf("fakediscord: /%s: the focused option %q is not among the options given", cmd.Name, focused)
	}
	if _, err := s.run(ctx, in, payload); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Choice(nil), in.choices...), nil
}

// checkChoices holds an autocomplete answer to Discord's bounds.
func checkChoices(choices []Choice) *apiError {
	var fe formErrors
	if len(choices) > maxAutocompleteChoices {
		fe.add([]string{"data", "choices"}, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxAutocompleteChoices))
	}
	for i, c := range choices {
		at := []string{"data", "choices", fmt.Sprint(i)}
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > maxChoiceLen {
			fe.add(append(at, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		if v, ok := c.Value.(string); ok && utf8.RuneCountInString(v) > maxChoiceLen {
			fe.add(append(at, "value"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
	}
	return fe.err()
}
