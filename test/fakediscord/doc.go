// Package fakediscord is a local stand-in for Discord that speaks its real
// wire protocol: the gateway (websocket, JSON encoding, API v9 and v10,
// optional zlib payload compression) and the REST routes a slash-command bot
// uses. An unmodified discordgo Session whose HTTP client sends discord.com
// requests to Server.URL connects, identifies, resumes and makes its REST
// calls against it; the gateway address comes from the fake's GET /gateway.
// It also plays Discord's OAuth2 side for a web front (oauth.go): the
// browser's GET /oauth2/authorize, which consents at once for the user a
// test chose with SignInAs, the token endpoint's authorization code grant
// with PKCE, and GET /users/@me and /users/@me/guilds for bearer tokens.
//
// The package owns the Discord side of a test: the guilds the bot is in,
// the commands it registered, the interactions users start (Interact, Click)
// and the messages the bot answered with. It enforces Discord's documented
// rules where a bot could get them wrong — token checks, intents, the
// 3-second acknowledgement window, one callback per interaction, command
// registration and message limits — and answers with Discord's status codes
// and JSON error bodies, so that a bot that works here has a fair chance of
// working against Discord.
//
// It does not implement the voice gateway (it only hands out a configurable
// voice server endpoint), rate limits, sharding, presences, member chunks,
// OAuth2 refresh tokens or the expiry of codes and tokens, or any route a
// slash-command bot or a web front does not call: such requests get Discord's
// 404 body and are recorded (UnknownRoutes) so tests can assert that none
// happened. Sessions do not expire and heartbeats are counted, not enforced.
//
// A typical end-to-end test:
//
//	srv := fakediscord.New(t, fakediscord.Options{})
//	g := srv.AddGuild(fakediscord.Guild{}) // before the bot registers guild commands
//	// start the bot with its Discord API base URL set to srv.URL()
//	// and its token set to srv.Token(), then wait for its commands:
//	err := srv.Await(ctx, func(s *fakediscord.Server) bool { return len(s.Commands(g.ID)) > 0 })
//	resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: "play",
//		Options: []fakediscord.Option{{Name: "query", Value: "https://example.test/a.mp3"}}})
//	// resp.Message is the final answer; resp.Ack and resp.Done the latencies.
//
// Nothing here polls: waiting for the bot (Interact, Click, Await) is driven
// by channels that the request handlers close, so the fake adds microseconds,
// not milliseconds, to a measured round trip.
package fakediscord
