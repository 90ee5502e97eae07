package mls

import (
	"bytes"
	"fmt"
)

// DAVE never uses pre-shared keys; they are implemented because the official
// passive-client vectors join and commit with them, and that coverage is worth
// the few lines.

const (
	pskTypeExternal   uint8 = 1
	pskTypeResumption uint8 = 2

	resumptionUsageApplication uint8 = 1

	// resumptionHistory is how many past epochs keep their resumption PSK.
	resumptionHistory = 16
)

// pskSecret combines the listed pre-shared keys (RFC 9420 section 8.4); an
// empty list gives the all-zero secret.
func pskSecret(ids []pskID, lookup func(*pskID) ([]byte, error)) ([]byte, error) {
	secret := make([]byte, hashSize)
	for i := range ids {
		psk, err := lookup(&ids[i])
		if err != nil {
			return nil, err
		}
		label := encode(func(w *writer) {
			ids[i].marshal(w)
			w.u16(uint16(i))
			w.u16(uint16(len(ids)))
		})
		input := ExpandWithLabel(extract(make([]byte, hashSize), psk), "derived psk", label, hashSize)
		secret = extract(input, secret)
	}
	return secret, nil
}

// lookupPSK finds a pre-shared key among the configured external ones and the
// group's recent resumption secrets.
func (g *Group) lookupPSK(id *pskID) ([]byte, error) {
	switch id.typ {
	case pskTypeExternal:
		if psk, ok := g.cfg.ExternalPSKs[string(id.id)]; ok {
			return psk, nil
		}
		return nil, fmt.Errorf("%w: unknown external psk %x", ErrUnsupported, id.id)
	case pskTypeResumption:
		if id.usage == resumptionUsageApplication && bytes.Equal(id.groupID, g.ctx.groupID) {
			if psk, ok := g.resumption[id.epoch]; ok {
				return psk, nil
			}
		}
		return nil, fmt.Errorf("%w: resumption psk for epoch %d", ErrUnsupported, id.epoch)
	}
	return nil, fmt.Errorf("invalid psk type %d", id.typ)
}

// rememberResumption keeps the current epoch's resumption PSK and forgets old ones.
func (g *Group) rememberResumption() {
	next := make(map[uint64][]byte, resumptionHistory)
	for e, psk := range g.resumption {
		if e+resumptionHistory > g.ctx.epoch {
			next[e] = psk
		}
	}
	next[g.ctx.epoch] = g.secrets.resumptionPSK
	g.resumption = next
}
