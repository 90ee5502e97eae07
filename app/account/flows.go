package account

import (
	"context"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Flow is one link flow under way, from the authorization URL that Start
// made to the callback that completes it, possibly in another process.
// State and Verifier are secret: never log or show them.
type Flow struct {
	// State is the random value the provider brings back to the callback.
	State   string
	User    music.UserID
	Service Service
	// Verifier is the PKCE code verifier sent with the code.
	Verifier string
	// Expires is when State stops being usable.
	Expires time.Time
}

// PendingFlows keeps the flows under way between Start and the callback.
// The bot starts flows and the web front completes them, which in AWS are
// two processes: the store is what they share.
type PendingFlows interface {
	// Put stores f and ends the same user's earlier flow for the same
	// service, if any, so that only the newest authorization URL works.
	// A store that bounds the flows it keeps answers music.ECONFLICT when
	// full.
	Put(ctx context.Context, f Flow) error
	// Take removes the flow of state and returns it, atomically: of
	// several Takes of one state, in any processes, at most one gets
	// ok. ok is false for a state unknown, taken already, cancelled by a
	// newer Put or expired (an expired flow is removed too).
	Take(ctx context.Context, state string) (f Flow, ok bool, err error)
}

// maxPending bounds the flows a MemoryFlows keeps, so that /link spam
// cannot grow memory without limit.
const maxPending = 1000

// MemoryFlows keeps the flows under way in this process's memory: the
// default when the bot serves its own callback. A restart only makes users
// run /link again.
type MemoryFlows struct {
	now     func() time.Time
	mu      sync.Mutex
	pending map[string]Flow // by state
}

var _ PendingFlows = (*MemoryFlows)(nil)

// NewMemoryFlows returns an empty store that expires flows by now.
func NewMemoryFlows(now func() time.Time) *MemoryFlows {
	return &MemoryFlows{now: now, pending: map[string]Flow{}}
}

// Put implements PendingFlows; it keeps at most 1000 flows at once.
func (m *MemoryFlows) Put(_ context.Context, f Flow) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for s, p := range m.pending {
		if !now.Before(p.Expires) || (p.User == f.User && p.Service == f.Service) {
			delete(m.pending, s)
		}
	}
	if len(m.pending) >= maxPending {
		return music.Errorf(music.ECONFLICT, "Too many links are under way; try again in a few minutes.")
	}
	m.pending[f.State] = f
	return nil
}

// Take implements PendingFlows.
func (m *MemoryFlows) Take(_ context.Context, state string) (Flow, bool, error) {
	m.mu.Lock()
	f, ok := m.pending[state]
	delete(m.pending, state)
	m.mu.Unlock()
	if !ok || !m.now().Before(f.Expires) {
		return Flow{}, false, nil
	}
	return f, true, nil
}
