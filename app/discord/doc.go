// Package discord adapts the music domain to Discord through discordgo.
//
// It owns the slash-command table (declared once, as data, and used for
// registration, routing, option validation and the generated /help), the
// router that acknowledges every interaction inside Discord's 3-second window,
// serialises each guild's commands (but for the slow part of /play, which
// shows its progress and lands in order: plays.go) and maps errors to
// ephemeral replies, and the handlers that render queues and allowlist state.
//
// It does not own the voice connection (package voice), storage (the stores
// behind music's ports) or configuration (cmd/timmybot). No discordgo type
// leaves this package.
package discord
