package fakevoice

import (
	"strconv"
	"sync"

	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
)

// DAVEChannel is a Handler that plays the voice gateway's DAVE role for one
// channel: the davetest gateway and delivery service, with the bot as a
// member reached over the fake's websocket and other members in process (a
// dave.Session listener, or another implementation). Listeners decrypt what
// the bot sends, as other clients in the channel would.
type DAVEChannel struct {
	mu        sync.Mutex
	net       *davetest.Network
	bot       *remoteMember
	connected bool
	errs      []error
}

var _ Handler = (*DAVEChannel)(nil)

// remoteMember is the bot as the gateway sees it: what the gateway sends it
// is queued and goes out over the fake's websocket.
type remoteMember struct {
	id  uint64
	out []dave.Message
}

func (r *remoteMember) UserID() uint64 { return r.id }

func (r *remoteMember) HandleMessage(m dave.Message) ([]dave.Message, error) {
	// The fake sends the real session description; the gateway's is for
	// in-process members.
	if m.Op != dave.OpSessionDescription {
		r.out = append(r.out, m)
	}
	return nil, nil
}

// NewDAVEChannel starts the channel's gateway with the given members
// already connected; the bot (botID) joins when its voice session starts.
func NewDAVEChannel(channelID, botID uint64, members ...davetest.Member) (*DAVEChannel, error) {
	gw, err := davetest.NewGateway(channelID)
	if err != nil {
		return nil, err
	}
	c := &DAVEChannel{net: davetest.NewNetwork(gw), bot: &remoteMember{id: botID}}
	for _, m := range members {
		if err := c.net.Connect(m); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// NewListener returns an in-process DAVE member for a channel.
func NewListener(channelID, userID uint64) (davetest.Local, error) {
	s, err := dave.NewSession(dave.Config{UserID: userID, ChannelID: channelID})
	if err != nil {
		return davetest.Local{}, err
	}
	return davetest.Local{ID: userID, Session: s}, nil
}

// Locked runs f with the channel's network, serialised with the gateway's
// own deliveries: members may only be used inside it.
func (c *DAVEChannel) Locked(f func(n *davetest.Network)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.net)
}

// Errors returns what the gateway and the members reported.
func (c *DAVEChannel) Errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]error(nil), c.errs...)
	for _, errs := range c.net.MemberErrors {
		out = append(out, errs...)
	}
	return out
}

func (c *DAVEChannel) drain() []Message {
	out := make([]Message, 0, len(c.bot.out))
	for _, m := range c.bot.out {
		out = append(out, Message(m))
	}
	c.bot.out = nil
	return out
}

// SessionStarted implements Handler.
func (c *DAVEChannel) SessionStarted(_, userID string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	if userID != strconv.FormatUint(c.bot.id, 10) {
		return nil
	}
	// A new voice session is a new member: the old one leaves first.
	if c.connected {
		if err := c.net.Disconnect(c.bot.id); err != nil {
			c.errs = append(c.errs, err)
		}
	}
	c.connected = true
	if err := c.net.Connect(c.bot); err != nil {
		c.errs = append(c.errs, err)
	}
	return c.drain()
}

// HandleClientMessage implements Handler.
func (c *DAVEChannel) HandleClientMessage(_ string, m Message) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, err := c.net.GW.Handle(c.bot.id, dave.Message(m))
	if err != nil {
		c.errs = append(c.errs, err)
		return nil
	}
	c.net.Enqueue(ds...)
	if err := c.net.Run(); err != nil {
		c.errs = append(c.errs, err)
	}
	return c.drain()
}
