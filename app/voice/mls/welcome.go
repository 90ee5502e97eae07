package mls

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"fmt"
	"slices"
)

var errNotInWelcome = errors.New("welcome holds no secrets for this key package")

// groupInfo is GroupInfo (RFC 9420 section 12.4.3).
type groupInfo struct {
	context         groupContext
	extensions      []Extension
	confirmationTag []byte
	signer          uint32
	signature       []byte
}

func (g *groupInfo) marshalTBS(w *writer) {
	g.context.marshal(w)
	marshalExtensions(w, g.extensions)
	w.opaque(g.confirmationTag)
	w.u32(g.signer)
}

func (g *groupInfo) marshal(w *writer) {
	g.marshalTBS(w)
	w.opaque(g.signature)
}

func (g *groupInfo) unmarshal(r *reader) {
	g.context.unmarshal(r)
	g.extensions = unmarshalExtensions(r)
	g.confirmationTag = r.opaque()
	g.signer = r.u32()
	g.signature = r.opaque()
}

func (g *groupInfo) sign(key *SignatureKey) error {
	sig, err := key.SignWithLabel("GroupInfoTBS", encode(g.marshalTBS))
	if err != nil {
		return err
	}
	g.signature = sig
	return nil
}

func (g *groupInfo) verify(pub []byte) error {
	return VerifyWithLabel(pub, "GroupInfoTBS", encode(g.marshalTBS), g.signature)
}

// groupSecrets is GroupSecrets.
type groupSecrets struct {
	joinerSecret []byte
	pathSecret   []byte // nil when absent
	psks         []pskID
}

func (g *groupSecrets) marshal(w *writer) {
	w.opaque(g.joinerSecret)
	w.optional(g.pathSecret != nil, func(w *writer) { w.opaque(g.pathSecret) })
	w.vector(func(w *writer) {
		for _, p := range g.psks {
			p.marshal(w)
		}
	})
}

func (g *groupSecrets) unmarshal(r *reader) {
	g.joinerSecret = r.opaque()
	r.optional(func(r *reader) { g.pathSecret = r.opaque() })
	r.vector(func(r *reader) {
		var p pskID
		p.unmarshal(r)
		g.psks = append(g.psks, p)
	})
}

// encryptedGroupSecrets is EncryptedGroupSecrets.
type encryptedGroupSecrets struct {
	newMember []byte
	secrets   hpkeCiphertext
}

// welcome is Welcome.
type welcome struct {
	secrets            []encryptedGroupSecrets
	encryptedGroupInfo []byte
}

func (m *welcome) marshal(w *writer) {
	w.u16(CipherSuite)
	w.vector(func(w *writer) {
		for _, s := range m.secrets {
			w.opaque(s.newMember)
			s.secrets.marshal(w)
		}
	})
	w.opaque(m.encryptedGroupInfo)
}

func (m *welcome) unmarshal(r *reader) {
	r.checkSuite()
	r.vector(func(r *reader) {
		var s encryptedGroupSecrets
		s.newMember = r.opaque()
		s.secrets.unmarshal(r)
		m.secrets = append(m.secrets, s)
	})
	m.encryptedGroupInfo = r.opaque()
}

// openGroupSecrets finds the entry for the key package ref and decrypts the
// group secrets with the init key (RFC 9420 section 12.4.3.1).
func openGroupSecrets(w *welcome, kpRef []byte, initKey hpke.PrivateKey) (*groupSecrets, error) {
	i := slices.IndexFunc(w.secrets, func(s encryptedGroupSecrets) bool { return bytes.Equal(s.newMember, kpRef) })
	if i < 0 {
		return nil, errNotInWelcome
	}
	pt, err := decryptWithLabel(initKey, "Welcome", w.encryptedGroupInfo, w.secrets[i].secrets)
	if err != nil {
		return nil, fmt.Errorf("decrypting group secrets: %w", err)
	}
	gs := new(groupSecrets)
	if err := decode(pt, "group secrets", gs.unmarshal); err != nil {
		return nil, err
	}
	return gs, nil
}

// welcomeSecret derives the secret that protects the GroupInfo; no group
// context is needed for it.
func welcomeSecret(joiner, pskSecret []byte) []byte {
	return DeriveSecret(extract(joiner, pskSecret), "welcome")
}

// openGroupInfo decrypts a Welcome's GroupInfo.
func openGroupInfo(w *welcome, joiner, pskSecret []byte) (*groupInfo, error) {
	key, nonce := welcomeKeyNonce(welcomeSecret(joiner, pskSecret))
	giBytes, err := newGCM(key).Open(nil, nonce, w.encryptedGroupInfo, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypting group info: %w", err)
	}
	gi := new(groupInfo)
	if err := decode(giBytes, "group info", gi.unmarshal); err != nil {
		return nil, err
	}
	return gi, nil
}

// sealWelcome encrypts gi under the joiner secret and the group secrets to each
// new member's init key.
func sealWelcome(gi *groupInfo, joiner, pskSecret []byte, psks []pskID, members []welcomeMember) (*welcome, error) {
	key, nonce := welcomeKeyNonce(welcomeSecret(joiner, pskSecret))
	w := &welcome{encryptedGroupInfo: newGCM(key).Seal(nil, nonce, encode(gi.marshal), nil)}
	for _, m := range members {
		gs := groupSecrets{joinerSecret: joiner, pathSecret: m.pathSecret, psks: psks}
		ct, err := encryptWithLabel(m.keyPackage.InitKey, "Welcome", w.encryptedGroupInfo, encode(gs.marshal))
		if err != nil {
			return nil, fmt.Errorf("encrypting group secrets: %w", err)
		}
		w.secrets = append(w.secrets, encryptedGroupSecrets{newMember: m.keyPackage.Ref(), secrets: ct})
	}
	return w, nil
}

// welcomeMember is one recipient of a Welcome.
type welcomeMember struct {
	keyPackage *KeyPackage
	pathSecret []byte // the path secret at the lowest common ancestor, if any
}
