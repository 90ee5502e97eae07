package mls

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// CipherSuite is the only MLS cipher suite this package implements:
// MLS_128_DHKEMP256_AES128GCM_SHA256_P256, the one DAVE uses.
const CipherSuite uint16 = 2

// Sizes fixed by cipher suite 2.
const (
	hashSize  = sha256.Size // Nh
	keySize   = 16          // Nk of AES-128-GCM
	nonceSize = 12          // Nn
)

const labelPrefix = "MLS 1.0 "

var (
	suiteKEM  = hpke.DHKEM(ecdh.P256())
	suiteKDF  = hpke.HKDFSHA256()
	suiteAEAD = hpke.AES128GCM()
)

var errBadSignature = errors.New("invalid signature")

func hash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func mac(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func extract(salt, ikm []byte) []byte {
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		// HKDF-Extract with SHA-256 has no failure mode for in-memory input.
		panic(fmt.Sprintf("mls: hkdf extract: %v", err))
	}
	return prk
}

// RefHash computes RefHash(label, value) (RFC 9420 section 5.2).
func RefHash(label string, value []byte) []byte {
	return hash(encode(func(w *writer) {
		w.opaque([]byte(label))
		w.opaque(value)
	}))
}

// ExpandWithLabel computes ExpandWithLabel (RFC 9420 section 8).
func ExpandWithLabel(secret []byte, label string, context []byte, length int) []byte {
	info := encode(func(w *writer) {
		w.u16(uint16(length))
		w.opaque([]byte(labelPrefix + label))
		w.opaque(context)
	})
	out, err := hkdf.Expand(sha256.New, secret, string(info), length)
	if err != nil {
		// Lengths in this package never exceed 255*Nh, HKDF's only limit.
		panic(fmt.Sprintf("mls: hkdf expand: %v", err))
	}
	return out
}

// DeriveSecret computes DeriveSecret(secret, label).
func DeriveSecret(secret []byte, label string) []byte {
	return ExpandWithLabel(secret, label, nil, hashSize)
}

// deriveTreeSecret computes DeriveTreeSecret (RFC 9420 section 9).
func deriveTreeSecret(secret []byte, label string, generation uint32, length int) []byte {
	return ExpandWithLabel(secret, label, encode(func(w *writer) { w.u32(generation) }), length)
}

func signContent(label string, content []byte) []byte {
	return encode(func(w *writer) {
		w.opaque([]byte(labelPrefix + label))
		w.opaque(content)
	})
}

// SignatureKey is an ECDSA P-256 signing key as MLS carries it.
type SignatureKey struct {
	priv *ecdsa.PrivateKey
}

// GenerateSignatureKey makes a fresh signing key.
func GenerateSignatureKey() (*SignatureKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating signature key: %w", err)
	}
	return &SignatureKey{priv: priv}, nil
}

// ParseSignatureKey reads a raw 32-byte P-256 scalar.
func ParseSignatureKey(b []byte) (*SignatureKey, error) {
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("parsing signature key: %w", err)
	}
	return &SignatureKey{priv: priv}, nil
}

// PublicKey returns the uncompressed SEC1 public key.
func (k *SignatureKey) PublicKey() []byte {
	b, err := k.priv.PublicKey.Bytes()
	if err != nil {
		// A key from GenerateKey or ParseRawPrivateKey is always on the curve.
		panic(fmt.Sprintf("mls: encoding public key: %v", err))
	}
	return b
}

// SignWithLabel signs content under label (RFC 9420 section 5.1.2).
func (k *SignatureKey) SignWithLabel(label string, content []byte) ([]byte, error) {
	digest := sha256.Sum256(signContent(label, content))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", label, err)
	}
	return sig, nil
}

// VerifyWithLabel checks a signature made by SignWithLabel with the public key pub.
func VerifyWithLabel(pub []byte, label string, content, sig []byte) error {
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pub)
	if err != nil {
		return fmt.Errorf("parsing signature public key: %w", err)
	}
	digest := sha256.Sum256(signContent(label, content))
	if !ecdsa.VerifyASN1(key, digest[:], sig) {
		return fmt.Errorf("%s: %w", label, errBadSignature)
	}
	return nil
}

// hpkeCiphertext is HPKECiphertext.
type hpkeCiphertext struct {
	kemOutput  []byte
	ciphertext []byte
}

func (c *hpkeCiphertext) marshal(w *writer) {
	w.opaque(c.kemOutput)
	w.opaque(c.ciphertext)
}

func (c *hpkeCiphertext) unmarshal(r *reader) {
	c.kemOutput = r.opaque()
	c.ciphertext = r.opaque()
}

func encryptContext(label string, context []byte) []byte {
	return encode(func(w *writer) {
		w.opaque([]byte(labelPrefix + label))
		w.opaque(context)
	})
}

// encryptWithLabel is EncryptWithLabel (RFC 9420 section 5.1.3) to the HPKE
// public key pub.
func encryptWithLabel(pub []byte, label string, context, plaintext []byte) (hpkeCiphertext, error) {
	pk, err := suiteKEM.NewPublicKey(pub)
	if err != nil {
		return hpkeCiphertext{}, fmt.Errorf("parsing hpke public key: %w", err)
	}
	enc, sender, err := hpke.NewSender(pk, suiteKDF, suiteAEAD, encryptContext(label, context))
	if err != nil {
		return hpkeCiphertext{}, fmt.Errorf("hpke setup: %w", err)
	}
	ct, err := sender.Seal(nil, plaintext)
	if err != nil {
		return hpkeCiphertext{}, fmt.Errorf("hpke seal: %w", err)
	}
	return hpkeCiphertext{kemOutput: enc, ciphertext: ct}, nil
}

// decryptWithLabel is DecryptWithLabel with the HPKE private key priv.
func decryptWithLabel(priv hpke.PrivateKey, label string, context []byte, ct hpkeCiphertext) ([]byte, error) {
	recipient, err := hpke.NewRecipient(ct.kemOutput, priv, suiteKDF, suiteAEAD, encryptContext(label, context))
	if err != nil {
		return nil, fmt.Errorf("hpke setup: %w", err)
	}
	pt, err := recipient.Open(nil, ct.ciphertext)
	if err != nil {
		return nil, fmt.Errorf("hpke open: %w", err)
	}
	return pt, nil
}

// parseHPKEPrivateKey reads a serialized DHKEM(P-256) private key.
func parseHPKEPrivateKey(b []byte) (hpke.PrivateKey, error) {
	k, err := suiteKEM.NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("parsing hpke private key: %w", err)
	}
	return k, nil
}

// deriveKeyPair derives the HPKE node key pair from a node secret.
func deriveKeyPair(secret []byte) (hpke.PrivateKey, error) {
	k, err := suiteKEM.DeriveKeyPair(secret)
	if err != nil {
		return nil, fmt.Errorf("deriving key pair: %w", err)
	}
	return k, nil
}

func generateHPKEKey() (hpke.PrivateKey, error) {
	k, err := suiteKEM.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generating hpke key: %w", err)
	}
	return k, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
