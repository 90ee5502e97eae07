package davetest

import (
	"fmt"

	"github.com/iddv/timmybot/app/voice/dave"
)

// Member is one DAVE client on the simulated network.
type Member interface {
	UserID() uint64
	HandleMessage(m dave.Message) ([]dave.Message, error)
}

// Local adapts an in-process session.
type Local struct {
	ID uint64
	*dave.Session
}

// UserID implements Member.
func (l Local) UserID() uint64 { return l.ID }

// Network delivers gateway messages to members and their replies to the
// gateway, one at a time, until nothing is left to deliver.
type Network struct {
	GW      *Gateway
	members map[uint64]Member
	queue   []Delivery
	// MemberErrors collects the errors members reported, by user. Members
	// recover from them on their own; tests assert on them.
	MemberErrors map[uint64][]error
	// Filter, when set, sees every delivery and may drop or alter it.
	Filter func(d *Delivery) bool
}

// NewNetwork starts an empty network around gw.
func NewNetwork(gw *Gateway) *Network {
	return &Network{GW: gw, members: map[uint64]Member{}, MemberErrors: map[uint64][]error{}}
}

// maxDeliveries stops a run that would never settle.
const maxDeliveries = 10000

// Connect adds a member and runs until the network settles.
func (n *Network) Connect(m Member) error {
	n.members[m.UserID()] = m
	n.queue = append(n.queue, n.GW.Connect(m.UserID())...)
	return n.Run()
}

// Disconnect removes a member and runs until the network settles.
func (n *Network) Disconnect(user uint64) error {
	delete(n.members, user)
	ds, err := n.GW.Disconnect(user)
	if err != nil {
		return err
	}
	n.queue = append(n.queue, ds...)
	return n.Run()
}

// Enqueue adds deliveries, for gateway actions a test triggers directly.
func (n *Network) Enqueue(ds ...Delivery) { n.queue = append(n.queue, ds...) }

// Run delivers until the queue is empty.
func (n *Network) Run() error {
	for i := 0; len(n.queue) > 0; i++ {
		if i == maxDeliveries {
			return fmt.Errorf("davetest: network did not settle after %d deliveries", maxDeliveries)
		}
		d := n.queue[0]
		n.queue = n.queue[1:]
		if n.Filter != nil && !n.Filter(&d) {
			continue
		}
		m, ok := n.members[d.To]
		if !ok {
			continue
		}
		replies, err := m.HandleMessage(d.Msg)
		if err != nil {
			n.MemberErrors[d.To] = append(n.MemberErrors[d.To], err)
		}
		for _, r := range replies {
			ds, err := n.GW.Handle(d.To, r)
			if err != nil {
				return fmt.Errorf("davetest: gateway refused opcode %d from %d: %w", r.Op, d.To, err)
			}
			n.queue = append(n.queue, ds...)
		}
	}
	return nil
}
