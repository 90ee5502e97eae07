package mls

import (
	"bytes"
	"errors"
	"fmt"
)

// KeyPackage is a prospective member's signed offer to join (RFC 9420 section 10).
type KeyPackage struct {
	InitKey    []byte
	LeafNode   LeafNode
	Extensions []Extension
	Signature  []byte
}

func (k *KeyPackage) marshalTBS(w *writer) {
	w.u16(protocolVersionMLS10)
	w.u16(CipherSuite)
	w.opaque(k.InitKey)
	k.LeafNode.marshal(w)
	marshalExtensions(w, k.Extensions)
}

func (k *KeyPackage) marshal(w *writer) {
	k.marshalTBS(w)
	w.opaque(k.Signature)
}

func (k *KeyPackage) unmarshal(r *reader) {
	r.checkVersion()
	r.checkSuite()
	k.InitKey = r.opaque()
	k.LeafNode.unmarshal(r)
	k.Extensions = unmarshalExtensions(r)
	k.Signature = r.opaque()
}

// Bytes returns the bare KeyPackage encoding.
func (k *KeyPackage) Bytes() []byte { return encode(k.marshal) }

// Ref is the KeyPackageRef that names the package in a Welcome.
func (k *KeyPackage) Ref() []byte {
	return RefHash("MLS 1.0 KeyPackage Reference", k.Bytes())
}

// ParseKeyPackage decodes a bare KeyPackage (not wrapped in an MLSMessage).
func ParseKeyPackage(b []byte) (*KeyPackage, error) {
	if len(b) > maxMessageSize {
		return nil, errTooLarge
	}
	k := new(KeyPackage)
	if err := decode(b, "key package", k.unmarshal); err != nil {
		return nil, err
	}
	return k, nil
}

// Validate checks the package's signatures and the rules of RFC 9420 section
// 10.1 that need no group: the leaf node comes from a key package and its
// encryption key differs from the init key.
func (k *KeyPackage) Validate() error {
	if err := VerifyWithLabel(k.LeafNode.SignatureKey, "KeyPackageTBS", encode(k.marshalTBS), k.Signature); err != nil {
		return fmt.Errorf("key package: %w", err)
	}
	if k.LeafNode.Source != leafSourceKeyPackage {
		return errors.New("key package leaf node does not come from a key package")
	}
	if bytes.Equal(k.InitKey, k.LeafNode.EncryptionKey) {
		return errors.New("key package init key equals its encryption key")
	}
	if _, err := suiteKEM.NewPublicKey(k.InitKey); err != nil {
		return fmt.Errorf("key package init key: %w", err)
	}
	return k.LeafNode.validate(nil, 0, nil)
}
