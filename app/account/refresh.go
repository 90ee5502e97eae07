package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/internal/oauthhttp"
	"github.com/iddv/timmybot/app/music"
)

const (
	// refreshAhead is how close to its expiry an access token is renewed,
	// so that the token AccessToken returns lasts at least minValidity
	// more, whatever the caller's request takes.
	refreshAhead = 2 * time.Minute
	minValidity  = time.Minute
	// refreshTimeout bounds one refresh: the provider's answer and the
	// store's writes.
	refreshTimeout = 30 * time.Second
)

// AccessToken returns an access token for the user's link to service, for
// reading their library at the provider, valid for at least the next
// minute: one about to expire is first renewed with the link's refresh
// token. music.ENOTFOUND when the user has not linked it; a broken link is
// refused with a message telling the user to link it again.
//
// A token without an expiry (the provider gave none) is taken as valid.
func (l *Linker) AccessToken(ctx context.Context, user music.UserID, service Service) (string, error) {
	if err := checkKey(user, service); err != nil {
		return "", err
	}
	tok, err := l.working(ctx, user, service)
	if err != nil || l.fresh(tok) {
		return tok.AccessToken, err
	}
	return l.renew(ctx, user, service, "")
}

// Rejected is told that the provider refused accessToken before its
// expiry (HTTP 401: revoked, or replaced by a renewal elsewhere). Unless
// another refresh has replaced that token already, it renews the link's
// tokens once and returns the access token to try again with; a refused
// renewal marks the link broken and tells the user, as AccessToken does.
func (l *Linker) Rejected(ctx context.Context, user music.UserID, service Service, accessToken string) (string, error) {
	if err := checkKey(user, service); err != nil {
		return "", err
	}
	if accessToken == "" {
		return "", errors.New("account: Rejected needs the access token the provider refused")
	}
	return l.renew(ctx, user, service, accessToken)
}

// renew runs one refresh of the link at a time in this process, sharing
// its result with every caller that waits for it; rejected is the access
// token the provider refused, "" for a renewal because of its expiry.
func (l *Linker) renew(ctx context.Context, user music.UserID, service Service, rejected string) (string, error) {
	return l.refreshes.do(ctx, flightKey{user, service}, func() (string, error) {
		// Not the caller's cancellation: a refresh cut off after the
		// provider rotated a single-use refresh token, but before the new
		// one is stored, would lose the link.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return l.refresh(ctx, user, service, rejected)
	})
}

// fresh reports whether tok lasts past refreshAhead.
func (l *Linker) fresh(tok Token) bool {
	return tok.Expiry.IsZero() || tok.Expiry.After(l.cfg.Now().Add(refreshAhead))
}

// refresh renews the link's tokens unless another refresh did meanwhile,
// and returns the access token to use. rejected is as for renew.
func (l *Linker) refresh(ctx context.Context, user music.UserID, service Service, rejected string) (string, error) {
	// Read again: a refresh that ended just before this one started
	// stored what this caller needs.
	tok, err := l.working(ctx, user, service)
	switch {
	case err != nil:
		return "", err
	case rejected == "" && l.fresh(tok), rejected != "" && tok.AccessToken != rejected:
		return tok.AccessToken, nil
	}
	p, err := l.provider(service)
	if err != nil {
		return "", err
	}
	if tok.RefreshToken == "" {
		l.cfg.Logger.Info("refreshing a token: the link has none to refresh with", slog.String("service", string(service)))
		return l.refused(ctx, user, service, "")
	}
	_, next, err := l.grant(ctx, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	var aerr *oauthhttp.StatusError
	switch {
	case errors.As(err, &aerr) && aerr.Code == "invalid_grant":
		l.cfg.Logger.Info("refreshing a token: refused", slog.String("service", string(service)), slog.Any("err", err))
		return l.refused(ctx, user, service, tok.RefreshToken)
	case err != nil && rejected == "" && tok.Expiry.After(l.cfg.Now().Add(minValidity)):
		// The renewal came early: the current token still serves.
		l.cfg.Logger.Warn("refreshing a token early", slog.String("service", string(service)), slog.Any("err", err))
		return tok.AccessToken, nil
	case err != nil:
		l.cfg.Logger.Warn("refreshing a token", slog.String("service", string(service)), slog.Any("err", err))
		return "", music.Errorf(music.EUNAVAILABLE, "%s is not answering right now; try again in a moment.", service.Title())
	}
	if next.RefreshToken == "" { // not rotated: the old one stays valid
		next.RefreshToken = tok.RefreshToken
	}
	err = l.cfg.Tokens.UpdateToken(ctx, user, service, tok.RefreshToken, next)
	if errors.Is(err, ErrTokenChanged) {
		// Another process stored newer tokens first: theirs hold the
		// refresh token that stays valid.
		return l.stored(ctx, user, service)
	}
	if err != nil {
		return "", fmt.Errorf("storing refreshed tokens: %w", err)
	}
	return next.AccessToken, nil
}

// refused handles a provider refusing the refresh token used: if another
// process stored a new one meanwhile (a single-use token it spent first),
// that one is used; otherwise the link is broken, and the user is told once.
func (l *Linker) refused(ctx context.Context, user music.UserID, service Service, used string) (string, error) {
	_, tok, err := l.cfg.Tokens.Load(ctx, user, service)
	if err != nil {
		return "", err
	}
	if tok.RefreshToken != used {
		return l.stored(ctx, user, service)
	}
	changed, err := l.cfg.Tokens.MarkBroken(ctx, user, service)
	if err != nil {
		return "", fmt.Errorf("marking a link broken: %w", err)
	}
	if changed {
		msg := fmt.Sprintf("Your %s link stopped working: %s no longer accepts TimmyBot's access (it was removed or expired). Run /link %s to link it again.", service.Title(), service.Title(), service)
		if err := l.cfg.Notifier.DirectMessage(ctx, user, msg); err != nil {
			l.cfg.Logger.Warn("telling a user their link broke", slog.String("service", string(service)), slog.Any("err", err))
		}
	}
	return "", errBroken(service)
}

// working loads the link's tokens, refusing a broken link.
func (l *Linker) working(ctx context.Context, user music.UserID, service Service) (Token, error) {
	link, tok, err := l.cfg.Tokens.Load(ctx, user, service)
	switch {
	case err != nil:
		return Token{}, err
	case link.Broken:
		return Token{}, errBroken(service)
	}
	return tok, nil
}

// stored returns the access token another refresh stored.
func (l *Linker) stored(ctx context.Context, user music.UserID, service Service) (string, error) {
	tok, err := l.working(ctx, user, service)
	return tok.AccessToken, err
}

func errBroken(service Service) error {
	return music.Errorf(music.EINVALID, "Your %s link no longer works: run /link %s again.", service.Title(), service)
}

// flightKey names one link's refresh.
type flightKey struct {
	user    music.UserID
	service Service
}

// flights runs one refresh per link at a time; callers that ask while one
// runs wait for it and share its result. The zero value is ready.
type flights struct {
	mu      sync.Mutex
	running map[flightKey]*flight
}

type flight struct {
	done    chan struct{}
	waiters int // callers waiting, for tests
	token   string
	err     error
}

// do returns the result of the refresh of key under way, starting one with
// refresh when none is. The refresh runs on a goroutine of its own, bounded
// by its own deadline, so that a caller giving up (its ctx ends) neither
// stops it nor fails the others waiting.
func (f *flights) do(ctx context.Context, key flightKey, refresh func() (string, error)) (string, error) {
	f.mu.Lock()
	fl, ok := f.running[key]
	if !ok {
		if f.running == nil {
			f.running = map[flightKey]*flight{}
		}
		fl = &flight{done: make(chan struct{})}
		f.running[key] = fl
		go func() {
			fl.token, fl.err = refresh()
			f.mu.Lock()
			delete(f.running, key)
			f.mu.Unlock()
			close(fl.done)
		}()
	}
	fl.waiters++
	f.mu.Unlock()
	select {
	case <-fl.done:
		return fl.token, fl.err
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for a token refresh: %w", ctx.Err())
	}
}

// waiting counts the callers waiting on refreshes under way.
func (f *flights) waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, fl := range f.running {
		n += fl.waiters
	}
	return n
}
