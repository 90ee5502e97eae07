package mls

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"fmt"
	"math"
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

// KeyPackageBundle is a key package with the private keys behind it.
type KeyPackageBundle struct {
	KeyPackage *KeyPackage
	initKey    hpke.PrivateKey
	leafKey    hpke.PrivateKey
	sigKey     *SignatureKey
}

// NewKeyPackageBundle makes a key package with a basic credential for identity,
// the capabilities DAVE expects and the widest lifetime.
func NewKeyPackageBundle(sigKey *SignatureKey, identity []byte) (*KeyPackageBundle, error) {
	initKey, err := generateHPKEKey()
	if err != nil {
		return nil, err
	}
	leafKey, err := generateHPKEKey()
	if err != nil {
		return nil, err
	}
	kp := &KeyPackage{
		InitKey: initKey.PublicKey().Bytes(),
		LeafNode: LeafNode{
			EncryptionKey: leafKey.PublicKey().Bytes(),
			SignatureKey:  sigKey.PublicKey(),
			Credential:    Credential{Type: credentialBasic, Identity: identity},
			Capabilities: Capabilities{
				Versions:     []uint16{protocolVersionMLS10},
				CipherSuites: []uint16{CipherSuite},
				Credentials:  []uint16{credentialBasic},
			},
			Source:   leafSourceKeyPackage,
			NotAfter: math.MaxUint64,
		},
	}
	if err := kp.LeafNode.sign(sigKey, nil, 0); err != nil {
		return nil, err
	}
	sig, err := sigKey.SignWithLabel("KeyPackageTBS", encode(kp.marshalTBS))
	if err != nil {
		return nil, err
	}
	kp.Signature = sig
	return &KeyPackageBundle{KeyPackage: kp, initKey: initKey, leafKey: leafKey, sigKey: sigKey}, nil
}

// keyPackageBundleFromKeys rebuilds a bundle from its serialized private
// keys, for a key package made elsewhere (the passive-client vectors).
func keyPackageBundleFromKeys(kp *KeyPackage, initPriv, leafPriv []byte, sigKey *SignatureKey) (*KeyPackageBundle, error) {
	initKey, err := parseHPKEPrivateKey(initPriv)
	if err != nil {
		return nil, err
	}
	leafKey, err := parseHPKEPrivateKey(leafPriv)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(initKey.PublicKey().Bytes(), kp.InitKey) || !bytes.Equal(leafKey.PublicKey().Bytes(), kp.LeafNode.EncryptionKey) {
		return nil, errors.New("private keys do not match the key package")
	}
	return &KeyPackageBundle{KeyPackage: kp, initKey: initKey, leafKey: leafKey, sigKey: sigKey}, nil
}

// cachedProposal is a proposal received in the current epoch, kept for commits
