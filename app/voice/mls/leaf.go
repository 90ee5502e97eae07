package mls

import (
	"bytes"
	"fmt"
	"slices"
)

// Credential types, leaf node sources and other code points of RFC 9420.
const (
	credentialBasic uint16 = 1
	credentialX509  uint16 = 2

	leafSourceKeyPackage uint8 = 1
	leafSourceUpdate     uint8 = 2
	leafSourceCommit     uint8 = 3
)

// Credential is an MLS credential. DAVE uses basic credentials whose identity is
// the user ID; X.509 chains are parsed so that foreign trees decode.
type Credential struct {
	Type         uint16
	Identity     []byte   // basic
	Certificates [][]byte // x509
}

func (c *Credential) marshal(w *writer) {
	w.u16(c.Type)
	switch c.Type {
	case credentialBasic:
		w.opaque(c.Identity)
	case credentialX509:
		w.vector(func(w *writer) {
			for _, cert := range c.Certificates {
				w.opaque(cert)
			}
		})
	}
}

func (c *Credential) unmarshal(r *reader) {
	c.Type = r.u16()
	switch c.Type {
	case credentialBasic:
		c.Identity = r.opaque()
	case credentialX509:
		r.vector(func(r *reader) { c.Certificates = append(c.Certificates, r.opaque()) })
	default:
		r.fail(fmt.Errorf("unsupported credential type %d", c.Type))
	}
}

// Capabilities lists what a member supports.
type Capabilities struct {
	Versions     []uint16
	CipherSuites []uint16
	Extensions   []uint16
	Proposals    []uint16
	Credentials  []uint16
}

func marshalU16s(w *writer, v []uint16) {
	w.vector(func(w *writer) {
		for _, x := range v {
			w.u16(x)
		}
	})
}

func unmarshalU16s(r *reader) []uint16 {
	var v []uint16
	r.vector(func(r *reader) { v = append(v, r.u16()) })
	return v
}

func (c *Capabilities) marshal(w *writer) {
	marshalU16s(w, c.Versions)
	marshalU16s(w, c.CipherSuites)
	marshalU16s(w, c.Extensions)
	marshalU16s(w, c.Proposals)
	marshalU16s(w, c.Credentials)
}

func (c *Capabilities) unmarshal(r *reader) {
	c.Versions = unmarshalU16s(r)
	c.CipherSuites = unmarshalU16s(r)
	c.Extensions = unmarshalU16s(r)
	c.Proposals = unmarshalU16s(r)
	c.Credentials = unmarshalU16s(r)
}

// LeafNode is a member's leaf in the ratchet tree (RFC 9420 section 7.2).
type LeafNode struct {
	EncryptionKey []byte
	SignatureKey  []byte
	Credential    Credential
	Capabilities  Capabilities
	Source        uint8
	NotBefore     uint64 // key_package source
	NotAfter      uint64 // key_package source
	ParentHash    []byte // commit source
	Extensions    []Extension
	Signature     []byte
}

func (l *LeafNode) marshalTBSBody(w *writer) {
	w.opaque(l.EncryptionKey)
	w.opaque(l.SignatureKey)
	l.Credential.marshal(w)
	l.Capabilities.marshal(w)
	w.u8(l.Source)
	switch l.Source {
	case leafSourceKeyPackage:
		w.u64(l.NotBefore)
		w.u64(l.NotAfter)
	case leafSourceCommit:
		w.opaque(l.ParentHash)
	}
	marshalExtensions(w, l.Extensions)
}

func (l *LeafNode) marshal(w *writer) {
	l.marshalTBSBody(w)
	w.opaque(l.Signature)
}

func (l *LeafNode) unmarshal(r *reader) {
	l.EncryptionKey = r.opaque()
	l.SignatureKey = r.opaque()
	l.Credential.unmarshal(r)
	l.Capabilities.unmarshal(r)
	l.Source = r.u8()
	switch l.Source {
	case leafSourceKeyPackage:
		l.NotBefore = r.u64()
		l.NotAfter = r.u64()
	case leafSourceUpdate:
	case leafSourceCommit:
		l.ParentHash = r.opaque()
	default:
		r.fail(fmt.Errorf("invalid leaf node source %d", l.Source))
	}
	l.Extensions = unmarshalExtensions(r)
	l.Signature = r.opaque()
}

// tbs is LeafNodeTBS; groupID and leaf matter only for update and commit leaves.
func (l *LeafNode) tbs(groupID []byte, leaf uint32) []byte {
	return encode(func(w *writer) {
		l.marshalTBSBody(w)
		if l.Source == leafSourceUpdate || l.Source == leafSourceCommit {
			w.opaque(groupID)
			w.u32(leaf)
		}
	})
}

func (l *LeafNode) sign(key *SignatureKey, groupID []byte, leaf uint32) error {
	sig, err := key.SignWithLabel("LeafNodeTBS", l.tbs(groupID, leaf))
	if err != nil {
		return err
	}
	l.Signature = sig
	return nil
}

func (l *LeafNode) verifySignature(groupID []byte, leaf uint32) error {
	return VerifyWithLabel(l.SignatureKey, "LeafNodeTBS", l.tbs(groupID, leaf), l.Signature)
}

// defaultProposalTypes and friends are implied by every client (RFC 9420
// section 7.2) and need not be listed in Capabilities.
var (
	defaultExtensionTypes = []uint16{extApplicationID, extRatchetTree, extRequiredCapabilities, extExternalPub, extExternalSenders}
	defaultProposalTypes  = []uint16{proposalAdd, proposalUpdate, proposalRemove, proposalPSK, proposalReInit, proposalExternalInit, proposalGroupContextExtensions}
)

// validateLeaf performs the checks of RFC 9420 section 7.3 that do not depend on
// where the leaf came from: signature, capabilities, extensions, credential type.
func (l *LeafNode) validate(groupID []byte, leaf uint32, ctxExtensions []Extension) error {
	if err := l.verifySignature(groupID, leaf); err != nil {
		return fmt.Errorf("leaf %d signature: %w", leaf, err)
	}
	if !slices.Contains(l.Capabilities.CipherSuites, CipherSuite) {
		return fmt.Errorf("leaf %d does not support cipher suite %d", leaf, CipherSuite)
	}
	if !slices.Contains(l.Capabilities.Versions, protocolVersionMLS10) {
		return fmt.Errorf("leaf %d does not support MLS 1.0", leaf)
	}
	if !slices.Contains(l.Capabilities.Credentials, l.Credential.Type) {
		return fmt.Errorf("leaf %d credential type %d not in its capabilities", leaf, l.Credential.Type)
	}
	for _, e := range l.Extensions {
		if !slices.Contains(l.Capabilities.Extensions, e.Type) && !slices.Contains(defaultExtensionTypes, e.Type) {
			return fmt.Errorf("leaf %d uses extension %d it does not list", leaf, e.Type)
		}
	}
	if rc, ok := findExtension(ctxExtensions, extRequiredCapabilities); ok {
		if err := l.checkRequired(rc.Data); err != nil {
			return fmt.Errorf("leaf %d: %w", leaf, err)
		}
	}
	return nil
}

// checkRequired checks the leaf against a required_capabilities extension.
func (l *LeafNode) checkRequired(data []byte) error {
	var exts, props, creds []uint16
	if err := decode(data, "required capabilities", func(r *reader) {
		exts, props, creds = unmarshalU16s(r), unmarshalU16s(r), unmarshalU16s(r)
	}); err != nil {
		return err
	}
	for _, e := range exts {
		if !slices.Contains(l.Capabilities.Extensions, e) && !slices.Contains(defaultExtensionTypes, e) {
			return fmt.Errorf("lacks required extension %d", e)
		}
	}
	for _, p := range props {
		if !slices.Contains(l.Capabilities.Proposals, p) && !slices.Contains(defaultProposalTypes, p) {
			return fmt.Errorf("lacks required proposal %d", p)
		}
	}
	for _, c := range creds {
		if !slices.Contains(l.Capabilities.Credentials, c) {
			return fmt.Errorf("lacks required credential %d", c)
		}
	}
	return nil
}

func (l *LeafNode) equal(o *LeafNode) bool {
	return bytes.Equal(encode(l.marshal), encode(o.marshal))
}

// parentNode is ParentNode (RFC 9420 section 7.1).
type parentNode struct {
	encryptionKey  []byte
	parentHash     []byte
	unmergedLeaves []uint32
}

func (p *parentNode) marshal(w *writer) {
	w.opaque(p.encryptionKey)
	w.opaque(p.parentHash)
	w.vector(func(w *writer) {
		for _, u := range p.unmergedLeaves {
			w.u32(u)
		}
	})
}

func (p *parentNode) unmarshal(r *reader) {
	p.encryptionKey = r.opaque()
	p.parentHash = r.opaque()
	r.vector(func(r *reader) { p.unmergedLeaves = append(p.unmergedLeaves, r.u32()) })
}
