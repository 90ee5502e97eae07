package mls

import (
	"encoding/binary"
	"testing"
)

// The fuzz targets feed hostile bytes to every parser of MLS input a DAVE
// session receives; the property is "error or success, never a panic", plus a
// re-encoding round trip where the structure is canonical. Seed corpora live
// in testdata/fuzz.

func FuzzMLSMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMLSMessage(b)
		if err != nil {
			return
		}
		if _, err := parseMLSMessage(encode(m.marshal)); err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
	})
}

func FuzzKeyPackage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		kp, err := ParseKeyPackage(b)
		if err != nil {
			return
		}
		_ = kp.Validate()
		if _, err := ParseKeyPackage(kp.Bytes()); err != nil {
			t.Fatalf("re-encoded key package does not parse: %v", err)
		}
	})
}

func FuzzWelcome(f *testing.F) {
	key, err := GenerateSignatureKey()
	if err != nil {
		f.Fatal(err)
	}
	b, err := NewKeyPackageBundle(key, binary.BigEndian.AppendUint64(nil, 7))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, w []byte) {
		_, _ = JoinGroup(w, b, nil, daveConfig)
	})
}

func FuzzRatchetTree(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		tree, err := parseRatchetTree(b)
		if err != nil {
			return
		}
		_ = tree.validate(nil, nil)
		_ = tree.rootHash()
	})
}

// FuzzGroupHandshake feeds proposals and commits to a two-member group.
func FuzzGroupHandshake(f *testing.F) {
	gwKey, err := GenerateSignatureKey()
	if err != nil {
		f.Fatal(err)
	}
	ext := ExternalSendersExtension(ExternalSender{SignatureKey: gwKey.PublicKey(), Credential: Credential{Type: credentialBasic, Identity: []byte("gw")}})
	mk := func(id uint64) *KeyPackageBundle {
		k, err := GenerateSignatureKey()
		if err != nil {
			f.Fatal(err)
		}
		b, err := NewKeyPackageBundle(k, binary.BigEndian.AppendUint64(nil, id))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	// The group is built once; each input meets a fresh copy of it.
	base, err := CreateGroup([]byte("fuzz"), mk(1), []Extension{ext}, daveConfig)
	if err != nil {
		f.Fatal(err)
	}
	add, _, err := NewExternalProposal(base.GroupID(), 0, 0, AddProposal(mk(2).KeyPackage), gwKey)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := base.StoreProposal(add); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		g := base.clone()
		_, _ = g.StoreProposal(msg)
		_ = g.ProcessCommit(msg)
	})
}
