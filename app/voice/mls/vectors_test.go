package mls

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hexBytes decodes the vectors' hex strings; JSON null stays nil.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*h = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = d
	return nil
}

// loadVectors reads testdata/<file> into a slice of T.
func loadVectors[T any](t *testing.T, file string) []T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var out []T
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decoding %s: %v", file, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no vectors", file)
	}
	return out
}

// vectorTally counts what one vector file's test ran and logs it at the end.
type vectorTally struct {
	t       *testing.T
	file    string
	ran     int
	passed  int
	skipped map[string]int
}

func newTally(t *testing.T, file string) *vectorTally {
	v := &vectorTally{t: t, file: file, skipped: map[string]int{}}
	t.Cleanup(v.report)
	return v
}

// run runs one vector as a subtest.
func (v *vectorTally) run(name string, f func(t *testing.T)) {
	v.ran++
	if v.t.Run(name, f) {
		v.passed++
	}
}

// skip records a vector not run, with the reason.
func (v *vectorTally) skip(reason string) { v.skipped[reason]++ }

func (v *vectorTally) report() {
	msg := fmt.Sprintf("vectors: %s: ran %d, passed %d", v.file, v.ran, v.passed)
	var parts []string
	for reason, n := range v.skipped {
		parts = append(parts, fmt.Sprintf("skipped %d: %s", n, reason))
	}
	if len(parts) > 0 {
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	v.t.Log(msg)
	if v.ran == 0 {
		v.t.Errorf("%s: no vector ran", v.file)
	}
}

func assertBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

func TestVectorsTreeMath(t *testing.T) {
	type vector struct {
		NLeaves uint32    `json:"n_leaves"`
		NNodes  uint32    `json:"n_nodes"`
		Root    uint32    `json:"root"`
		Left    []*uint32 `json:"left"`
		Right   []*uint32 `json:"right"`
		Parent  []*uint32 `json:"parent"`
		Sibling []*uint32 `json:"sibling"`
	}
	tally := newTally(t, "tree-math.json")
	for _, tv := range loadVectors[vector](t, "tree-math.json") {
		tally.run(fmt.Sprintf("leaves=%d", tv.NLeaves), func(t *testing.T) {
			n := tv.NLeaves
			if got := nodeWidth(n); got != tv.NNodes {
				t.Errorf("nodeWidth = %d, want %d", got, tv.NNodes)
			}
			if got := root(n); got != tv.Root {
				t.Errorf("root = %d, want %d", got, tv.Root)
			}
			for x := uint32(0); x < tv.NNodes; x++ {
				leaf := level(x) == 0
				isRoot := x == tv.Root
				check := func(name string, want *uint32, ok bool, got uint32) {
					if (want == nil) != !ok {
						t.Errorf("%s(%d): defined=%v, vector says %v", name, x, ok, want)
						return
					}
					if want != nil && got != *want {
						t.Errorf("%s(%d) = %d, want %d", name, x, got, *want)
					}
				}
				check("left", tv.Left[x], !leaf, left(x))
				check("right", tv.Right[x], !leaf, right(x))
				check("parent", tv.Parent[x], !isRoot, parent(x, n))
				check("sibling", tv.Sibling[x], !isRoot, sibling(x, n))
			}
		})
	}
}

func TestVectorsDeserialization(t *testing.T) {
	type vector struct {
		Header hexBytes `json:"vlbytes_header"`
		Length int      `json:"length"`
	}
	tally := newTally(t, "deserialization.json")
	for _, tv := range loadVectors[vector](t, "deserialization.json") {
		tally.run(fmt.Sprintf("length=%d", tv.Length), func(t *testing.T) {
			var w writer
			w.varint(tv.Length)
			assertBytes(t, "header", w.b, tv.Header)
			r := newReader(tv.Header)
			if got := r.varint(); r.err != nil || got != tv.Length {
				t.Errorf("varint = %d, %v; want %d", got, r.err, tv.Length)
			}
		})
	}
}

func TestVectorsCryptoBasics(t *testing.T) {
	type vector struct {
		RefHash struct {
			Label string   `json:"label"`
			Out   hexBytes `json:"out"`
			Value hexBytes `json:"value"`
		} `json:"ref_hash"`
		ExpandWithLabel struct {
			Secret  hexBytes `json:"secret"`
			Label   string   `json:"label"`
			Context hexBytes `json:"context"`
			Length  int      `json:"length"`
			Out     hexBytes `json:"out"`
		} `json:"expand_with_label"`
		DeriveSecret struct {
			Label  string   `json:"label"`
			Out    hexBytes `json:"out"`
			Secret hexBytes `json:"secret"`
		} `json:"derive_secret"`
		DeriveTreeSecret struct {
			Secret     hexBytes `json:"secret"`
			Label      string   `json:"label"`
			Generation uint32   `json:"generation"`
			Length     int      `json:"length"`
			Out        hexBytes `json:"out"`
		} `json:"derive_tree_secret"`
		SignWithLabel struct {
			Priv      hexBytes `json:"priv"`
			Pub       hexBytes `json:"pub"`
			Content   hexBytes `json:"content"`
			Label     string   `json:"label"`
			Signature hexBytes `json:"signature"`
		} `json:"sign_with_label"`
		EncryptWithLabel struct {
			Priv       hexBytes `json:"priv"`
			Pub        hexBytes `json:"pub"`
			Label      string   `json:"label"`
			Context    hexBytes `json:"context"`
			Plaintext  hexBytes `json:"plaintext"`
			KEMOutput  hexBytes `json:"kem_output"`
			Ciphertext hexBytes `json:"ciphertext"`
		} `json:"encrypt_with_label"`
	}
	tally := newTally(t, "crypto-basics.json")
	for i, tv := range loadVectors[vector](t, "crypto-basics.json") {
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			assertBytes(t, "RefHash", RefHash(tv.RefHash.Label, tv.RefHash.Value), tv.RefHash.Out)
			e := tv.ExpandWithLabel
			assertBytes(t, "ExpandWithLabel", ExpandWithLabel(e.Secret, e.Label, e.Context, e.Length), e.Out)
			assertBytes(t, "DeriveSecret", DeriveSecret(tv.DeriveSecret.Secret, tv.DeriveSecret.Label), tv.DeriveSecret.Out)
			d := tv.DeriveTreeSecret
			assertBytes(t, "DeriveTreeSecret", deriveTreeSecret(d.Secret, d.Label, d.Generation, d.Length), d.Out)

			s := tv.SignWithLabel
			if err := VerifyWithLabel(s.Pub, s.Label, s.Content, s.Signature); err != nil {
				t.Errorf("verifying vector signature: %v", err)
			}
			key, err := ParseSignatureKey(s.Priv)
			if err != nil {
				t.Fatal(err)
			}
			assertBytes(t, "signature public key", key.PublicKey(), s.Pub)
			sig, err := key.SignWithLabel(s.Label, s.Content)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyWithLabel(s.Pub, s.Label, s.Content, sig); err != nil {
				t.Errorf("verifying own signature: %v", err)
			}
			if err := VerifyWithLabel(s.Pub, s.Label+"x", s.Content, sig); err == nil {
				t.Error("signature verified under another label")
			}

			enc := tv.EncryptWithLabel
			priv, err := parseHPKEPrivateKey(enc.Priv)
			if err != nil {
				t.Fatal(err)
			}
			assertBytes(t, "hpke public key", priv.PublicKey().Bytes(), enc.Pub)
			pt, err := decryptWithLabel(priv, enc.Label, enc.Context, hpkeCiphertext{kemOutput: enc.KEMOutput, ciphertext: enc.Ciphertext})
			if err != nil {
				t.Fatalf("decrypting vector: %v", err)
			}
			assertBytes(t, "decrypted", pt, enc.Plaintext)
			ct, err := encryptWithLabel(enc.Pub, enc.Label, enc.Context, enc.Plaintext)
			if err != nil {
				t.Fatal(err)
			}
			pt, err = decryptWithLabel(priv, enc.Label, enc.Context, ct)
			if err != nil {
				t.Fatalf("decrypting own ciphertext: %v", err)
			}
			assertBytes(t, "round trip", pt, enc.Plaintext)
		})
	}
}

func TestVectorsKeySchedule(t *testing.T) {
	type epoch struct {
		TreeHash                hexBytes `json:"tree_hash"`
		CommitSecret            hexBytes `json:"commit_secret"`
		PSKSecret               hexBytes `json:"psk_secret"`
		ConfirmedTranscriptHash hexBytes `json:"confirmed_transcript_hash"`
		GroupContext            hexBytes `json:"group_context"`
		JoinerSecret            hexBytes `json:"joiner_secret"`
		WelcomeSecret           hexBytes `json:"welcome_secret"`
		InitSecret              hexBytes `json:"init_secret"`
		SenderDataSecret        hexBytes `json:"sender_data_secret"`
		EncryptionSecret        hexBytes `json:"encryption_secret"`
		ExporterSecret          hexBytes `json:"exporter_secret"`
		EpochAuthenticator      hexBytes `json:"epoch_authenticator"`
		ExternalSecret          hexBytes `json:"external_secret"`
		ConfirmationKey         hexBytes `json:"confirmation_key"`
		MembershipKey           hexBytes `json:"membership_key"`
		ResumptionPSK           hexBytes `json:"resumption_psk"`
		ExternalPub             hexBytes `json:"external_pub"`
		Exporter                struct {
			Label   string   `json:"label"`
			Context hexBytes `json:"context"`
			Length  int      `json:"length"`
			Secret  hexBytes `json:"secret"`
		} `json:"exporter"`
	}
	type vector struct {
		GroupID     hexBytes `json:"group_id"`
		InitialInit hexBytes `json:"initial_init_secret"`
		Epochs      []epoch  `json:"epochs"`
	}
	tally := newTally(t, "key-schedule.json")
	for i, tv := range loadVectors[vector](t, "key-schedule.json") {
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			init := []byte(tv.InitialInit)
			for n, ep := range tv.Epochs {
				gc := groupContext{groupID: tv.GroupID, epoch: uint64(n), treeHash: ep.TreeHash, confirmedTranscriptHash: ep.ConfirmedTranscriptHash}
				ctx := gc.bytes()
				assertBytes(t, "group context", ctx, ep.GroupContext)
				s := fromJoiner(joinerSecret(init, ep.CommitSecret, ctx), ep.PSKSecret, ctx)
				for _, c := range []struct {
					name      string
					got, want []byte
				}{
					{"joiner", s.joinerSecret, ep.JoinerSecret},
					{"welcome", s.welcomeSecret, ep.WelcomeSecret},
					{"init", s.initSecret, ep.InitSecret},
					{"sender data", s.senderDataSecret, ep.SenderDataSecret},
					{"encryption", s.encryptionSecret, ep.EncryptionSecret},
					{"exporter", s.exporterSecret, ep.ExporterSecret},
					{"authenticator", s.epochAuthenticator, ep.EpochAuthenticator},
					{"external", s.externalSecret, ep.ExternalSecret},
					{"confirmation", s.confirmationKey, ep.ConfirmationKey},
					{"membership", s.membershipKey, ep.MembershipKey},
					{"resumption", s.resumptionPSK, ep.ResumptionPSK},
				} {
					assertBytes(t, fmt.Sprintf("epoch %d %s", n, c.name), c.got, c.want)
				}
				pub, err := externalPublicKey(s.externalSecret)
				if err != nil {
					t.Fatal(err)
				}
				assertBytes(t, "external pub", pub.Bytes(), ep.ExternalPub)
				exported, err := exportSecret(s.exporterSecret, ep.Exporter.Label, ep.Exporter.Context, ep.Exporter.Length)
				if err != nil {
					t.Fatal(err)
				}
				assertBytes(t, "exported", exported, ep.Exporter.Secret)
				init = s.initSecret
			}
		})
	}
}

func TestVectorsSecretTree(t *testing.T) {
	type generation struct {
		Generation       uint32   `json:"generation"`
		ApplicationKey   hexBytes `json:"application_key"`
		ApplicationNonce hexBytes `json:"application_nonce"`
		HandshakeKey     hexBytes `json:"handshake_key"`
		HandshakeNonce   hexBytes `json:"handshake_nonce"`
	}
	type vector struct {
		EncryptionSecret hexBytes `json:"encryption_secret"`
		SenderData       struct {
			SenderDataSecret hexBytes `json:"sender_data_secret"`
			Ciphertext       hexBytes `json:"ciphertext"`
			Key              hexBytes `json:"key"`
			Nonce            hexBytes `json:"nonce"`
		} `json:"sender_data"`
		Leaves [][]generation `json:"leaves"`
	}
	tally := newTally(t, "secret-tree.json")
	for i, tv := range loadVectors[vector](t, "secret-tree.json") {
		tally.run(fmt.Sprintf("%d/leaves=%d", i, len(tv.Leaves)), func(t *testing.T) {
			key, nonce := senderDataKeyNonce(tv.SenderData.SenderDataSecret, tv.SenderData.Ciphertext)
			assertBytes(t, "sender data key", key, tv.SenderData.Key)
			assertBytes(t, "sender data nonce", nonce, tv.SenderData.Nonce)
			tree := secretTree{encryptionSecret: tv.EncryptionSecret, leaves: uint32(len(tv.Leaves))}
			for leaf, gens := range tv.Leaves {
				for _, g := range gens {
					for _, c := range []struct {
						kind       ratchetKind
						key, nonce []byte
					}{
						{ratchetApplication, g.ApplicationKey, g.ApplicationNonce},
						{ratchetHandshake, g.HandshakeKey, g.HandshakeNonce},
					} {
						k, n, err := tree.keyNonce(uint32(leaf), c.kind, g.Generation)
						if err != nil {
							t.Fatal(err)
						}
						what := fmt.Sprintf("leaf %d %s gen %d", leaf, c.kind, g.Generation)
						assertBytes(t, what+" key", k, c.key)
						assertBytes(t, what+" nonce", n, c.nonce)
					}
				}
			}
		})
	}
}
