package mls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"errors"
	"fmt"
)

var errMembershipTag = errors.New("invalid membership tag")

// confirmedTranscriptHash folds a commit into the transcript (RFC 9420 section 8.2).
func confirmedTranscriptHash(interim []byte, ac *authenticatedContent) []byte {
	return hash(encode(func(w *writer) {
		w.raw(interim)
		w.u16(ac.wireFormat)
		ac.content.marshal(w)
		w.opaque(ac.auth.signature)
	}))
}

// interimTranscriptHash folds the confirmation tag in after the confirmed hash.
func interimTranscriptHash(confirmed, confirmationTag []byte) []byte {
	return hash(encode(func(w *writer) {
		w.raw(confirmed)
		w.opaque(confirmationTag)
	}))
}

// protectPublic wraps signed content into a PublicMessage, adding the membership
// tag for member senders.
func protectPublic(ac *authenticatedContent, membershipKey, ctx []byte) (*publicMessage, error) {
	if ac.content.contentType == contentApplication {
		return nil, errors.New("application data must not be sent as a PublicMessage")
	}
	m := &publicMessage{content: ac.content, auth: ac.auth}
	if ac.content.sender.typ == senderMember {
		m.membershipTag = membershipMAC(membershipKey, ac, ctx)
	}
	return m, nil
}

// checkMembershipTag verifies a member sender's membership tag.
func (m *publicMessage) checkMembershipTag(membershipKey, ctx []byte) error {
	if m.content.sender.typ != senderMember {
		return nil
	}
	if !hmac.Equal(m.membershipTag, membershipMAC(membershipKey, m.authenticated(), ctx)) {
		return errMembershipTag
	}
	return nil
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		// Keys come from ExpandWithLabel with length Nk; NewCipher cannot fail.
		panic(fmt.Sprintf("mls: aes: %v", err))
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("mls: gcm: %v", err))
	}
	return gcm
}

func senderDataAAD(groupID []byte, epoch uint64, contentType uint8) []byte {
	return encode(func(w *writer) {
		w.opaque(groupID)
		w.u64(epoch)
		w.u8(contentType)
	})
}

func privateContentAAD(m *privateMessage) []byte {
	return encode(func(w *writer) {
		w.opaque(m.groupID)
		w.u64(m.epoch)
		w.u8(m.contentType)
		w.opaque(m.authenticatedData)
	})
}

func ratchetFor(contentType uint8) ratchetKind {
	if contentType == contentApplication {
		return ratchetApplication
	}
	return ratchetHandshake
}

// protectPrivate encrypts signed content from a member into a PrivateMessage
// using the given ratchet generation (RFC 9420 section 6.3).
func protectPrivate(ac *authenticatedContent, tree secretTree, senderDataSecret []byte, generation uint32) (*privateMessage, error) {
	c := &ac.content
	if c.sender.typ != senderMember {
		return nil, errors.New("only members send PrivateMessages")
	}
	key, nonce, err := tree.keyNonce(c.sender.index, ratchetFor(c.contentType), generation)
	if err != nil {
		return nil, err
	}
	guard := randomBytes(4)
	for i := range guard {
		nonce[i] ^= guard[i]
	}
	m := &privateMessage{groupID: c.groupID, epoch: c.epoch, contentType: c.contentType, authenticatedData: c.authenticatedData}
	plaintext := encode(func(w *writer) {
		c.marshalBody(w)
		ac.auth.marshal(w, c.contentType)
	})
	m.ciphertext = newGCM(key).Seal(nil, nonce, plaintext, privateContentAAD(m))

	sdKey, sdNonce := senderDataKeyNonce(senderDataSecret, m.ciphertext)
	senderData := encode(func(w *writer) {
		w.u32(c.sender.index)
		w.u32(generation)
		w.raw(guard)
	})
	m.encryptedSenderData = newGCM(sdKey).Seal(nil, sdNonce, senderData, senderDataAAD(m.groupID, m.epoch, m.contentType))
	return m, nil
}

// unprotectPrivate decrypts a PrivateMessage into authenticated content; the
// caller verifies the signature against the sender's leaf.
func unprotectPrivate(m *privateMessage, tree secretTree, senderDataSecret []byte) (*authenticatedContent, error) {
	sdKey, sdNonce := senderDataKeyNonce(senderDataSecret, m.ciphertext)
	senderData, err := newGCM(sdKey).Open(nil, sdNonce, m.encryptedSenderData, senderDataAAD(m.groupID, m.epoch, m.contentType))
	if err != nil {
		return nil, fmt.Errorf("decrypting sender data: %w", err)
	}
	var leaf, generation uint32
	var guard []byte
	if err := decode(senderData, "sender data", func(r *reader) {
		leaf, generation, guard = r.u32(), r.u32(), r.take(4)
	}); err != nil {
		return nil, err
	}
	key, nonce, err := tree.keyNonce(leaf, ratchetFor(m.contentType), generation)
	if err != nil {
		return nil, err
	}
	for i := range guard {
		nonce[i] ^= guard[i]
	}
	plaintext, err := newGCM(key).Open(nil, nonce, m.ciphertext, privateContentAAD(m))
	if err != nil {
		return nil, fmt.Errorf("decrypting content: %w", err)
	}
	ac := &authenticatedContent{
		wireFormat: wireFormatPrivateMessage,
		content: framedContent{
			groupID:           m.groupID,
			epoch:             m.epoch,
			sender:            sender{typ: senderMember, index: leaf},
			authenticatedData: m.authenticatedData,
			contentType:       m.contentType,
		},
	}
	r := newReader(plaintext)
	ac.content.unmarshalBody(r)
	ac.auth.unmarshal(r, m.contentType)
	for _, b := range r.b {
		if b != 0 {
			r.fail(errors.New("non-zero padding"))
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("decoding private content: %w", r.err)
	}
	return ac, nil
}
