package mls

import (
	"crypto/hpke"
	"fmt"
)

const protocolVersionMLS10 uint16 = 1

// Extension is one entry of an extensions list.
type Extension struct {
	Type uint16
	Data []byte
}

func marshalExtensions(w *writer, exts []Extension) {
	w.vector(func(w *writer) {
		for _, e := range exts {
			w.u16(e.Type)
			w.opaque(e.Data)
		}
	})
}

func unmarshalExtensions(r *reader) []Extension {
	var exts []Extension
	seen := map[uint16]bool{}
	r.vector(func(r *reader) {
		e := Extension{Type: r.u16(), Data: r.opaque()}
		if seen[e.Type] {
			r.fail(fmt.Errorf("duplicate extension %d", e.Type))
		}
		seen[e.Type] = true
		exts = append(exts, e)
	})
	return exts
}

func findExtension(exts []Extension, typ uint16) (Extension, bool) {
	for _, e := range exts {
		if e.Type == typ {
			return e, true
		}
	}
	return Extension{}, false
}

// groupContext is GroupContext (RFC 9420 section 8.1).
type groupContext struct {
	groupID                 []byte
	epoch                   uint64
	treeHash                []byte
	confirmedTranscriptHash []byte
	extensions              []Extension
}

func (c *groupContext) marshal(w *writer) {
	w.u16(protocolVersionMLS10)
	w.u16(CipherSuite)
	w.opaque(c.groupID)
	w.u64(c.epoch)
	w.opaque(c.treeHash)
	w.opaque(c.confirmedTranscriptHash)
	marshalExtensions(w, c.extensions)
}

func (c *groupContext) unmarshal(r *reader) {
	r.checkVersion()
	r.checkSuite()
	c.groupID = r.opaque()
	c.epoch = r.u64()
	c.treeHash = r.opaque()
	c.confirmedTranscriptHash = r.opaque()
	c.extensions = unmarshalExtensions(r)
}

func (c *groupContext) bytes() []byte { return encode(c.marshal) }

// epochSecrets holds what the key schedule derives for one epoch
// (RFC 9420 section 8).
type epochSecrets struct {
	joinerSecret       []byte
	welcomeSecret      []byte
	senderDataSecret   []byte
	encryptionSecret   []byte
	exporterSecret     []byte
	externalSecret     []byte
	confirmationKey    []byte
	membershipKey      []byte
	resumptionPSK      []byte
	epochAuthenticator []byte
	initSecret         []byte
}

// joinerSecret derives the joiner secret from the previous init secret, the
// commit secret and the new group context.
func joinerSecret(initSecret, commitSecret []byte, ctx []byte) []byte {
	return ExpandWithLabel(extract(initSecret, commitSecret), "joiner", ctx, hashSize)
}

// fromJoiner runs the key schedule from the joiner secret on.
func fromJoiner(joiner, pskSecret, ctx []byte) epochSecrets {
	if pskSecret == nil {
		pskSecret = make([]byte, hashSize)
	}
	member := extract(joiner, pskSecret)
	s := fromEpochSecret(ExpandWithLabel(member, "epoch", ctx, hashSize))
	s.joinerSecret = joiner
	s.welcomeSecret = DeriveSecret(member, "welcome")
	return s
}

// fromEpochSecret derives the secrets that hang off the epoch secret; a group's
// creator starts epoch 0 from a random one.
func fromEpochSecret(epoch []byte) epochSecrets {
	return epochSecrets{
		senderDataSecret:   DeriveSecret(epoch, "sender data"),
		encryptionSecret:   DeriveSecret(epoch, "encryption"),
		exporterSecret:     DeriveSecret(epoch, "exporter"),
		externalSecret:     DeriveSecret(epoch, "external"),
		confirmationKey:    DeriveSecret(epoch, "confirm"),
		membershipKey:      DeriveSecret(epoch, "membership"),
		resumptionPSK:      DeriveSecret(epoch, "resumption"),
		epochAuthenticator: DeriveSecret(epoch, "authentication"),
		initSecret:         DeriveSecret(epoch, "init"),
	}
}

// welcomeKeyNonce derives the key and nonce that protect a Welcome's GroupInfo.
func welcomeKeyNonce(welcomeSecret []byte) (key, nonce []byte) {
	return ExpandWithLabel(welcomeSecret, "key", nil, keySize),
		ExpandWithLabel(welcomeSecret, "nonce", nil, nonceSize)
}

// exportSecret is MLS-Exporter (RFC 9420 section 8.5).
func exportSecret(exporterSecret []byte, label string, context []byte, length int) ([]byte, error) {
	if length <= 0 || length > 255*hashSize {
		return nil, fmt.Errorf("exporter length %d out of range", length)
	}
	return ExpandWithLabel(DeriveSecret(exporterSecret, label), "exported", hash(context), length), nil
}

// externalPublicKey derives the group's external HPKE public key.
func externalPublicKey(externalSecret []byte) (hpke.PublicKey, error) {
	k, err := deriveKeyPair(externalSecret)
	if err != nil {
		return nil, err
	}
	return k.PublicKey(), nil
}
