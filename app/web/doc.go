// Package web is TimmyBot's web front: one http.Handler that serves the
// access-request pages, the owners' dashboard and the Discord sign-in
// behind them. `timmybot serve` mounts it on its HTTP server; a Lambda
// adapter can wrap the same handler.
//
// It owns the pages (html/template, rendered on the server and usable
// without JavaScript), the session cookie (sealed with AES-GCM, so it is
// both signed and unreadable; HttpOnly, SameSite=Lax, Secure unless the
// public URL is a loopback address), the CSRF tokens of every form, the
// OAuth 2.0 authorization-code flow with PKCE against Discord (state bound
// to the session and usable once), and rate limits on sign-in and the
// request form. It does not own the allowlist (music.AllowlistStore) nor
// how owners are messaged (a Notifier the bot provides).
//
// No access token, code, state or secret is ever written into a page, a
// log line or a URL other than the ones Discord's flow itself requires.
package web
