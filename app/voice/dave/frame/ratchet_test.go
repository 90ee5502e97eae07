package frame

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/bits"
	"os"
	"testing"
)

// The DAVE sender ratchet is MLS's application-secret ratchet, so the
// official RFC 9420 secret-tree vectors (ciphersuite 2; leaf 0 extracted into
// testdata) check it: the leaf's application secret is reached from the
// encryption secret by "tree"/"left" steps, then "application".
func TestRatchetMatchesMLSSecretTreeVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/secret-tree-cs2.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		NLeaves          int    `json:"n_leaves"`
		EncryptionSecret string `json:"encryption_secret"`
		Leaf0            []struct {
			Generation     uint32 `json:"generation"`
			ApplicationKey string `json:"application_key"`
		} `json:"leaf0"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, v := range vectors {
		secret := mustHex(t, v.EncryptionSecret)
		// Leaf 0 sits "left" of every parent between it and the root.
		for range bits.Len(uint(v.NLeaves - 1)) {
			secret = mustExpand(t, secret, "tree", []byte("left"), secretSize)
		}
		app := mustExpand(t, secret, "application", nil, secretSize)
		r, err := NewRatchet(app)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range v.Leaf0 {
			got, err := r.Key(g.Generation)
			if err != nil {
				t.Fatalf("%d leaves, generation %d: %v", v.NLeaves, g.Generation, err)
			}
			if want := g.ApplicationKey; hex.EncodeToString(got[:]) != want {
				t.Errorf("%d leaves, generation %d: key %x, want %s", v.NLeaves, g.Generation, got, want)
			}
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no vectors ran")
	}
	t.Logf("%d secret-tree vectors (ciphersuite 2, leaf 0) passed", ran)
}

func TestRatchetErase(t *testing.T) {
	r, err := NewRatchet(make([]byte, BaseSecretSize))
	if err != nil {
		t.Fatal(err)
	}
	k3, err := r.Key(3)
	if err != nil {
		t.Fatal(err)
	}
	// Skipped generations stay available until erased.
	k1, err := r.Key(1)
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k3 {
		t.Fatal("generations 1 and 3 share a key")
	}
	r.Erase(1)
	if _, err := r.Key(1); !errors.Is(err, ErrKeyErased) {
		t.Errorf("Key(1) after Erase(1): err %v, want ErrKeyErased", err)
	}
	if again, err := r.Key(3); err != nil || again != k3 {
		t.Errorf("Key(3) after Erase(1) = %x, %v; want %x", again, err, k3)
	}
	if _, err := NewRatchet(nil); err == nil {
		t.Error("NewRatchet(nil) succeeded")
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustExpand(t *testing.T, secret []byte, label string, ctx []byte, n int) []byte {
	t.Helper()
	out, err := expandWithLabel(secret, label, ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
