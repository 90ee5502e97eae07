package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// The bot, not discordgo, reconnects the gateway: discordgo's own loop
// holds the session's lock while it dials (so Close waits for a stalled
// attempt), backs off up to ten minutes and retries even when Discord
// refused the token.

// Errors Open and Failed report when retrying cannot help.
var (
	// ErrTokenRefused: Discord does not accept the bot token (gateway close
	// 4004 or HTTP 401).
	ErrTokenRefused = errors.New("discord refused the bot token")
	// ErrIntentsRefused: Discord does not accept the gateway intents the bot
	// asks for (close 4013 invalid or 4014 disallowed intents).
	ErrIntentsRefused = errors.New("discord refused the gateway intents")
	// ErrGatewayRefused: Discord will not serve this client version or shard
	// layout (close 4010, 4011 or 4012).
	ErrGatewayRefused = errors.New("discord refused the gateway connection")
)

// Gateway close codes after which Discord's documentation says not to
// reconnect.
var finalCloseCodes = map[int]error{
	4004: ErrTokenRefused,
	4010: ErrGatewayRefused,
	4011: ErrGatewayRefused,
	4012: ErrGatewayRefused,
	4013: ErrIntentsRefused,
	4014: ErrIntentsRefused,
}

// refusal returns the final error err amounts to, or nil when another
// attempt may succeed.
func refusal(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if final := finalCloseCodes[ce.Code]; final != nil {
			return fmt.Errorf("%w (gateway close %d %q)", final, ce.Code, ce.Text)
		}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("%w (HTTP 401 from %s %s)", ErrTokenRefused, re.Request.Method, re.Request.URL.Path)
	}
	return nil
}

// Reconnection delays: doubling from minRetryDelay up to maxRetryDelay.
const (
	minRetryDelay = time.Second
	maxRetryDelay = 2 * time.Minute
)

// retryDelay is the wait before attempt n+1 after n failed attempts.
func retryDelay(failures int) time.Duration {
	d := minRetryDelay
	for i := 1; i < failures && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}

// connectWithRetry opens the gateway, waiting retryDelay between failed
// attempts, until it is up, ctx ends or Discord refuses for good.
func (b *Bot) connectWithRetry(ctx context.Context) error {
	for failures := 1; ; failures++ {
		err := b.connect(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("connecting to the Discord gateway: %w", ctx.Err())
		}
		if final := refusal(err); final != nil {
			return final
		}
		delay := retryDelay(failures)
		b.log.Warn("connecting to the Discord gateway failed; retrying",
			slog.Int("attempt", failures), slog.Duration("retry_in", delay), slog.Any("err", redact(err, b.cfg.Token)))
		wait := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			wait.Stop()
			return fmt.Errorf("connecting to the Discord gateway: %w", ctx.Err())
		case <-wait.C:
		}
	}
}

// connect makes one attempt; ctx bounds all of its I/O.
func (b *Bot) connect(ctx context.Context) error {
	b.startup.begin(ctx)
	defer b.startup.end()
	err := b.session.Open()
	if errors.Is(err, discordgo.ErrWSAlreadyOpen) {
		return nil // a late disconnect notice; the connection is up
	}
	return err
}

// keepConnected reconnects whenever the gateway drops, until Close. A
// final refusal goes to Failed.
func (b *Bot) keepConnected() {
	defer close(b.keeperDone)
	for {
		select {
		case <-b.gwCtx.Done():
			return
		case <-b.lost:
		}
		if err := b.connectWithRetry(b.gwCtx); err != nil {
			if b.gwCtx.Err() == nil {
				b.failed <- err
			}
			return
		}
	}
}

// onDisconnect marks the gateway down and wakes the reconnect loop.
func (b *Bot) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	b.connected.Store(false)
	select {
	case b.lost <- struct{}{}:
	default: // a reconnect is already due
	}
}

// startupIO binds the I/O that discordgo's Session.Open starts without a
// context — GET /gateway, the websocket dial and handshake, the reads of
// HELLO and READY — to the context of the attempt in progress, so that
// ending the attempt aborts them. Between attempts nothing is bound: an
// open websocket belongs to the session, which Close shuts cleanly.
type startupIO struct {
	mu    sync.Mutex
	ctx   context.Context // nil between attempts
	stops []func() bool   // detach the attempt's connections from ctx
}

func (u *startupIO) begin(ctx context.Context) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ctx = ctx
}

func (u *startupIO) end() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, stop := range u.stops {
		stop()
	}
	u.ctx, u.stops = nil, nil
}

// attempt returns the attempt's context, or nil between attempts.
func (u *startupIO) attempt() context.Context {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ctx
}

// dialContext dials the gateway; the connection is closed if the attempt
// ends before Session.Open is done with it.
func (u *startupIO) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	attempt := u.attempt()
	if attempt == nil {
		return nil, errors.New("dialing the gateway outside a connection attempt")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopDial := context.AfterFunc(attempt, cancel)
	defer stopDial()
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stops = append(u.stops, context.AfterFunc(attempt, func() { _ = conn.Close() }))
	return conn, nil
}

// gatewayPath is the REST route Session.Open calls, without a context, for
// the websocket URL.
const gatewayPath = "/gateway"

// roundTrip sends req through next; a GET /gateway made during an attempt
// is aborted when the attempt ends. Its answer is small and read at once,
// so that the request's context can be released here.
func (u *startupIO) roundTrip(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	attempt := u.attempt()
	if attempt == nil || !strings.HasSuffix(req.URL.Path, gatewayPath) {
		return next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(attempt, cancel)
	defer stop()
	resp, err := next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading GET /gateway: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
