package fakediscord

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching REST requests fail before the fake acts on them, so
// tests can see how the bot copes with Discord refusing or failing.
type Fault struct {
	// Route is "METHOD /path" below /api/v{9,10}, where a "*" segment
	// matches any one segment: "POST /channels/*/messages".
	Route string
	// Status is the HTTP status, such as 429, 500 or 403.
	Status int
	// Code and Message are Discord's JSON error code and text. Default:
	// code 0 and a message in Discord's style for the status.
	Code    int
	Message string
	// RetryAfter is sent with a 429 as the Retry-After header and the
	// body's retry_after. Default: 10 ms.
	RetryAfter time.Duration
	// Times is how many matching requests fail. Default: 1.
	Times int
	// Hold, when set, keeps a matching request unanswered until Hold is
	// closed, the client gives up or the server closes, as a Discord that
	// accepted the connection and went silent. Once released the request
	// fails with Status or, when Status is 0, is served as usual.
	Hold <-chan struct{}
}

// InjectFault arms f; faults are tried in the order they were injected.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Message == "" && f.Status != 0 {
		f.Message = strconv.Itoa(f.Status) + ": " + http.StatusText(f.Status)
		if f.Status == http.StatusTooManyRequests {
			f.Message = "You are being rate limited."
		}
	}
	if f.Status == http.StatusTooManyRequests && f.RetryAfter <= 0 {
		f.RetryAfter = 10 * time.Millisecond
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// takeFaultLocked returns an armed fault matching the request and uses up
// one of its times, or nil. The caller holds s.mu.
func (s *Server) takeFaultLocked(method, apiPath string) *Fault {
	for i, f := range s.faults {
		if !routeMatches(f.Route, method, apiPath) {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func routeMatches(route, method, path string) bool {
	m, p, ok := strings.Cut(route, " ")
	if !ok || m != method {
		return false
	}
	want := strings.Split(strings.Trim(p, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != "*" && want[i] != got[i] {
			return false
		}
	}
	return true
}

// hold waits for f's release and reports whether the request should still
// be answered: false when the client gave up or the server closed.
func (s *Server) hold(r *http.Request, release <-chan struct{}) bool {
	s.mu.Lock()
	s.stats.Held++
	s.notifyLocked()
	s.mu.Unlock()
	select {
	case <-release:
		return true
	case <-r.Context().Done():
		return false
	case <-s.stopped:
		return false
	}
}

// writeFault answers with f as Discord would.
func writeFault(w http.ResponseWriter, f *Fault) {
	if f.Status != http.StatusTooManyRequests {
		writeJSON(w, f.Status, &apiError{status: f.Status, Code: f.Code, Message: f.Message})
		return
	}
	secs := f.RetryAfter.Seconds()
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	w.Header().Set("X-RateLimit-Scope", "user")
	writeJSON(w, f.Status, map[string]any{"message": f.Message, "retry_after": secs, "global": false, "code": f.Code})
}
