package music

import "strconv"

// GuildID is a Discord guild (server) ID, a snowflake in decimal.
type GuildID string

// UserID is a Discord user ID, a snowflake in decimal.
type UserID string

// Validate reports whether g is a snowflake.
func (g GuildID) Validate() error { return validateSnowflake("guild ID", string(g)) }

// Validate reports whether u is a snowflake.
func (u UserID) Validate() error { return validateSnowflake("user ID", string(u)) }

// validateSnowflake accepts the decimal form of a non-zero uint64, which is
// what Discord sends; anything else is rejected before it reaches a store key.
func validateSnowflake(what, s string) error {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return Errorf(EINVALID, "%q is not a valid %s.", Truncate(s, 32), what)
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return Errorf(EINVALID, "%q is not a valid %s.", Truncate(s, 32), what)
	}
	return nil
}

// Truncate shortens s to at most n runes, marking the cut with an ellipsis:
// untrusted text is cut before it is echoed to a user or stored.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
