// Package fakediscord is a local stand-in for Discord that speaks its real
// wire protocol: the gateway (websocket, JSON encoding, API v9 and v10) and the
// REST routes a slash-command bot uses. An unmodified discordgo Session whose
// HTTP client sends discord.com requests to Server.URL connects, identifies,
// resumes and makes its REST calls against it.
//
// The package owns the Discord side of a test: guilds the bot is in, the
// slash commands it registered, interactions a user starts (Interact, Click)
// and the messages the bot answered with. It enforces Discord's documented
// rules where a bot could get them wrong — token checks, the 3-second
// acknowledgement window, one callback per interaction, command and message
// limits — and answers with Discord's error shapes, so that a bot that works
// here has a fair chance of working against Discord.
//
// It does not implement the voice gateway, rate limits, sharding, caching of
// guild members or any route a slash-command bot does not call: such requests
// get Discord's 404 JSON and are recorded (UnknownRoutes) so tests can assert
// that none happened.
//
// Nothing here polls: waiting for the bot (Interact, Click, Await) is driven
// by channels that the request handlers close, so the fake adds microseconds,
// not milliseconds, to a measured round trip.
package fakediscord
