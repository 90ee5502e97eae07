package web

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iddv/timmybot/app/music"
)

// Bounds of the request form.
const (
	maxUseCaseLen    = 400 // runes; with the expected users it fits music.MaxReasonLen
	maxExpectedUsers = 10_000_000
)

// view is what every page template gets.
type view struct {
	Title       string
	User        *member
	Owner       bool
	CSRF        string
	SignInReady bool
	Data        any
}

// message is the data of the message page: a refusal or an outcome.
type message struct {
	Heading string
	Text    string
	SignIn  bool // offer the sign-in button
}

// current returns the request's session, starting one when it has none.
func (h *Handler) current(w http.ResponseWriter, r *http.Request) session {
	now := h.cfg.Now()
	if sess, ok := h.cookies.read(r, now); ok {
		return sess
	}
	sess := newSession(now)
	h.save(w, sess)
	return sess
}

func (h *Handler) save(w http.ResponseWriter, sess session) {
	if err := h.cookies.write(w, sess, h.cfg.Now()); err != nil {
		h.cfg.Logger.Error("writing the session cookie", slog.Any("err", err))
	}
}

func (h *Handler) render(w http.ResponseWriter, status int, sess session, page, title string, data any) {
	var buf bytes.Buffer
	v := view{Title: title, User: sess.User, Owner: h.isOwner(sess.User), CSRF: h.cookies.csrf(sess), SignInReady: h.signInReady(), Data: data}
	if err := h.pages[page].Execute(&buf, v); err != nil {
		h.cfg.Logger.Error("rendering a page", slog.String("page", page), slog.Any("err", err))
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) refuse(w http.ResponseWriter, status int, sess session, heading, text string) {
	h.render(w, status, sess, "message", heading, message{Heading: heading, Text: text, SignIn: status == http.StatusUnauthorized})
}

// fail shows a domain error's own text, and a generic one for internal
// failures, which it logs.
func (h *Handler) fail(w http.ResponseWriter, sess session, what string, err error) {
	status := map[string]int{
		music.EINVALID: http.StatusBadRequest, music.ENOTFOUND: http.StatusNotFound,
		music.ECONFLICT: http.StatusConflict, music.EUNAVAILABLE: http.StatusServiceUnavailable,
	}[music.ErrorCode(err)]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		h.cfg.Logger.Error(what, slog.Any("err", err))
	}
	h.refuse(w, status, sess, "That did not work", music.ErrorMessage(err))
}

// form reads a POST form and checks its CSRF token; it answers the
// request itself and returns false when the token is missing or wrong.
func (h *Handler) form(w http.ResponseWriter, r *http.Request, sess session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.refuse(w, http.StatusBadRequest, sess, "Bad form", "The form could not be read.")
		return false
	}
	if !h.cookies.checkCSRF(sess, r.PostForm.Get("csrf")) {
		h.refuse(w, http.StatusForbidden, sess, "Form expired", "This form is out of date or did not come from this site. Go back, reload the page and try again.")
		return false
	}
	return true
}

// signedIn answers with a sign-in prompt and returns false when sess has
// no user.
func (h *Handler) signedIn(w http.ResponseWriter, sess session) bool {
	if sess.User == nil {
		h.refuse(w, http.StatusUnauthorized, sess, "Sign in first", "Sign in with Discord to continue.")
		return false
	}
	return true
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	sess := h.current(w, r)
	h.render(w, http.StatusOK, sess, "home", "TimmyBot", nil)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	sess := h.current(w, r)
	if !h.signInReady() {
		h.refuse(w, http.StatusServiceUnavailable, sess, "Sign-in is not configured", "This TimmyBot has no Discord client secret configured, so signing in is not possible yet.")
		return
	}
	if !h.form(w, r, sess) {
		return
	}
	if !h.signIns.allow(clientAddr(r)) {
		h.refuse(w, http.StatusTooManyRequests, sess, "Slow down", "Too many sign-ins from your address; try again in a few minutes.")
		return
	}
	sess.Flow = &flow{State: randomToken(24), Verifier: randomToken(48), Expires: h.cfg.Now().Add(flowLifetime)}
	h.save(w, sess)
	http.Redirect(w, r, h.oauth.authorizeURL(sess.Flow.State, sess.Flow.Verifier), http.StatusSeeOther)
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	now := h.cfg.Now()
	sess := h.current(w, r)
	q := r.URL.Query()
	f := sess.Flow
	sess.Flow = nil
	h.save(w, sess) // the state is single-use whatever happens next
	switch {
	case !h.signIns.allow(clientAddr(r)):
		h.refuse(w, http.StatusTooManyRequests, sess, "Slow down", "Too many sign-ins from your address; try again in a few minutes.")
		return
	case f == nil || !now.Before(f.Expires):
		h.refuse(w, http.StatusBadRequest, sess, "Sign-in expired", "This sign-in expired or was used already. Start again.")
		return
	case q.Get("state") != f.State || !h.used.consume(f.State, f.Expires, now):
		h.refuse(w, http.StatusBadRequest, sess, "Sign-in refused", "This sign-in did not start in this browser or was used already. Start again.")
		return
	case q.Get("error") != "" || q.Get("code") == "":
		h.refuse(w, http.StatusBadRequest, sess, "Sign-in cancelled", "Discord did not sign you in. Start again if you meant to.")
		return
	}
	t, err := h.oauth.exchange(r.Context(), q.Get("code"), f.Verifier)
	if err != nil {
		h.cfg.Logger.Warn("signing in", slog.Any("err", err))
		h.refuse(w, http.StatusBadGateway, sess, "Sign-in failed", "Discord did not confirm the sign-in. Start again.")
		return
	}
	u, err := h.oauth.me(r.Context(), t.AccessToken)
	if err != nil {
		h.cfg.Logger.Warn("signing in", slog.Any("err", err))
		h.refuse(w, http.StatusBadGateway, sess, "Sign-in failed", "Discord did not say who you are. Start again.")
		return
	}
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	// A new session ID on sign-in, so that one fixed before it is useless.
	signed := newSession(now)
	if tokenEnds := now.Add(time.Duration(t.ExpiresIn) * time.Second); t.ExpiresIn > 0 && tokenEnds.Before(signed.Expires) {
		signed.Expires = tokenEnds
	}
	signed.User = &member{ID: u.ID, Name: music.Truncate(name, 64), Token: t.AccessToken}
	h.save(w, signed)
	next := "/request"
	if h.isOwner(signed.User) {
		next = "/dashboard"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	sess := h.current(w, r)
	if !h.form(w, r, sess) {
		return
	}
	h.save(w, newSession(h.cfg.Now()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// guilds lists the servers the signed-in user manages.
func (h *Handler) guilds(w http.ResponseWriter, r *http.Request, sess session) ([]discordGuild, bool) {
	gs, err := h.oauth.managedGuilds(r.Context(), sess.User.Token)
	if err != nil {
		h.cfg.Logger.Warn("listing a user's servers", slog.Any("err", err))
		h.refuse(w, http.StatusBadGateway, sess, "Discord did not answer", "Your servers could not be read from Discord. Sign in again or try later.")
		return nil, false
	}
	return gs, true
}

// signedInGuilds is the start of the pages about the user's servers: the
// session and the servers its user manages, or false once it answered.
func (h *Handler) signedInGuilds(w http.ResponseWriter, r *http.Request) (session, []discordGuild, bool) {
	sess := h.current(w, r)
	if !h.signedIn(w, sess) {
		return sess, nil, false
	}
	gs, ok := h.guilds(w, r, sess)
	return sess, gs, ok
}

func (h *Handler) requestPage(w http.ResponseWriter, r *http.Request) {
	sess, gs, ok := h.signedInGuilds(w, r)
	if !ok {
		return
	}
	h.render(w, http.StatusOK, sess, "request", "Request access", struct {
		Guilds     []discordGuild
		MaxUseCase int
		MaxUsers   int
	}{gs, maxUseCaseLen, maxExpectedUsers})
}

func (h *Handler) submitRequest(w http.ResponseWriter, r *http.Request) {
	sess := h.current(w, r)
	if !h.signedIn(w, sess) || !h.form(w, r, sess) {
		return
	}
	if !h.asks.allow(string(sess.User.ID)) {
		h.refuse(w, http.StatusTooManyRequests, sess, "Slow down", "Too many requests; try again in a few minutes.")
		return
	}
	useCase := strings.TrimSpace(r.PostForm.Get("use_case"))
	users, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("users")))
	switch {
	case useCase == "" || !utf8.ValidString(useCase) || utf8.RuneCountInString(useCase) > maxUseCaseLen:
		h.refuse(w, http.StatusBadRequest, sess, "Check the form", fmt.Sprintf("Say what you will use TimmyBot for, in at most %d characters.", maxUseCaseLen))
		return
	case err != nil || users < 1 || users > maxExpectedUsers:
		h.refuse(w, http.StatusBadRequest, sess, "Check the form", "Give the number of people you expect to use TimmyBot, as a whole number.")
		return
	}
	gs, ok := h.guilds(w, r, sess)
	if !ok {
		return
	}
	guild := music.GuildID(r.PostForm.Get("guild"))
	i := slices.IndexFunc(gs, func(g discordGuild) bool { return g.ID == guild })
	if i < 0 {
		h.refuse(w, http.StatusForbidden, sess, "Not your server", "You can request TimmyBot only for a server where you have the Manage Server permission.")
		return
	}
	access, err := h.cfg.Allowlist.Access(r.Context(), guild)
	if err != nil {
		h.fail(w, sess, "reading a server's access", err)
		return
	}
	switch {
	case access.Approval != nil:
		h.fail(w, sess, "", music.AlreadyApproved())
		return
	case access.Request != nil:
		h.fail(w, sess, "", music.Errorf(music.ECONFLICT, "That server has a pending request already; see its status."))
		return
	}
	ask := music.Ask{
		Guild:     guild,
		GuildName: music.Truncate(gs[i].Name, music.MaxGuildNameLen),
		Asker:     music.Asker{User: sess.User.ID, Reason: fmt.Sprintf("%s (expected users: %d)", useCase, users), At: h.cfg.Now()},
	}
	asked, err := h.cfg.Allowlist.RequestAccess(r.Context(), ask)
	if err != nil {
		h.fail(w, sess, "recording an access request", err)
		return
	}
	if asked.NotifyOwners {
		h.notifyOwners(r.Context(), ask)
	}
	http.Redirect(w, r, "/status", http.StatusSeeOther)
}

func (h *Handler) notifyOwners(ctx context.Context, ask music.Ask) {
	text := fmt.Sprintf("**Access request** from server %s (`%s`) on the web, by <@%s>:\n> %s\nReview it on the dashboard: %s/dashboard",
		ask.GuildName, ask.Guild, ask.User, ask.Reason, h.public)
	for _, owner := range h.cfg.Owners {
		// The request is stored; a failed message must not fail the page.
		if err := h.cfg.Notifier.DirectMessage(ctx, owner, text); err != nil {
			h.cfg.Logger.Warn("telling an owner of a request", slog.Any("err", err))
		}
	}
}

// guildStatus is one row of the status page.
type guildStatus struct {
	Guild  discordGuild
	Access music.GuildAccess
	Invite string
}

func (h *Handler) statusPage(w http.ResponseWriter, r *http.Request) {
	sess, gs, ok := h.signedInGuilds(w, r)
	if !ok {
		return
	}
	var rows []guildStatus
	for _, g := range gs {
		a, err := h.cfg.Allowlist.Access(r.Context(), g.ID)
		if err != nil {
			h.fail(w, sess, "reading a server's access", err)
			return
		}
		if a == (music.GuildAccess{}) {
			continue
		}
		row := guildStatus{Guild: g, Access: a}
		if a.Approval != nil {
			row.Invite = InviteURL(h.cfg.ApplicationID, g.ID)
		}
		rows = append(rows, row)
	}
	h.render(w, http.StatusOK, sess, "status", "Your requests", rows)
}

// owner answers with a refusal and returns false unless sess is an owner's.
func (h *Handler) owner(w http.ResponseWriter, sess session) bool {
	if !h.signedIn(w, sess) {
		return false
	}
	if !h.isOwner(sess.User) {
		h.refuse(w, http.StatusForbidden, sess, "Owners only", "The dashboard is for TimmyBot's owners.")
		return false
	}
	return true
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	sess := h.current(w, r)
	if !h.owner(w, sess) {
		return
	}
	reqs, err := h.cfg.Allowlist.Requests(r.Context())
	if err != nil {
		h.fail(w, sess, "listing access requests", err)
		return
	}
	approved, err := h.cfg.Allowlist.Approved(r.Context())
	if err != nil {
		h.fail(w, sess, "listing approved servers", err)
		return
	}
	figures := append([]Figure{
		{"Pending requests", strconv.Itoa(len(reqs))},
		{"Approved servers", strconv.Itoa(len(approved))},
	}, h.cfg.Figures()...)
	h.render(w, http.StatusOK, sess, "dashboard", "Owners' dashboard", struct {
		Requests []music.AccessRequest
		Approved []music.Approval
		Figures  []Figure
	}{reqs, approved, figures})
}

func (h *Handler) dashboardAction(w http.ResponseWriter, r *http.Request) {
	sess := h.current(w, r)
	if !h.owner(w, sess) || !h.form(w, r, sess) {
		return
	}
	guild := music.GuildID(r.PostForm.Get("guild"))
	now := h.cfg.Now()
	var err error
	switch r.PathValue("action") {
	case "approve":
		err = h.cfg.Allowlist.Approve(r.Context(), music.Approval{Guild: guild, ApprovedBy: sess.User.ID, ApprovedAt: now})
	case "decline":
		reason := strings.TrimSpace(r.PostForm.Get("reason"))
		err = h.cfg.Allowlist.Decline(r.Context(), music.Decline{Guild: guild, DeclinedBy: sess.User.ID, Reason: reason, DeclinedAt: now})
	case "revoke":
		err = h.cfg.Allowlist.Revoke(r.Context(), guild)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, sess, "changing the allowlist", err)
		return
	}
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

//go:embed templates/style.css
var css []byte

func serveCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(css)
}
