package mls

import (
	"bytes"
	"crypto/hmac"
	"fmt"
	"testing"
)

func TestVectorsTranscriptHashes(t *testing.T) {
	type vector struct {
		ConfirmationKey      hexBytes `json:"confirmation_key"`
		AuthenticatedContent hexBytes `json:"authenticated_content"`
		InterimBefore        hexBytes `json:"interim_transcript_hash_before"`
		ConfirmedAfter       hexBytes `json:"confirmed_transcript_hash_after"`
		InterimAfter         hexBytes `json:"interim_transcript_hash_after"`
	}
	tally := newTally(t, "transcript-hashes.json")
	for i, tv := range loadVectors[vector](t, "transcript-hashes.json") {
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			var ac authenticatedContent
			if err := decode(tv.AuthenticatedContent, "authenticated content", ac.unmarshal); err != nil {
				t.Fatal(err)
			}
			if ac.content.contentType != contentCommit {
				t.Fatalf("content type %d, want commit", ac.content.contentType)
			}
			confirmed := confirmedTranscriptHash(tv.InterimBefore, &ac)
			assertBytes(t, "confirmed transcript hash", confirmed, tv.ConfirmedAfter)
			assertBytes(t, "confirmation tag", mac(tv.ConfirmationKey, confirmed), ac.auth.confirmationTag)
			assertBytes(t, "interim transcript hash", interimTranscriptHash(confirmed, ac.auth.confirmationTag), tv.InterimAfter)
		})
	}
}

func TestVectorsMessageProtection(t *testing.T) {
	type vector struct {
		GroupID                 hexBytes `json:"group_id"`
		Epoch                   uint64   `json:"epoch"`
		TreeHash                hexBytes `json:"tree_hash"`
		ConfirmedTranscriptHash hexBytes `json:"confirmed_transcript_hash"`
		SignaturePriv           hexBytes `json:"signature_priv"`
		SignaturePub            hexBytes `json:"signature_pub"`
		EncryptionSecret        hexBytes `json:"encryption_secret"`
		SenderDataSecret        hexBytes `json:"sender_data_secret"`
		MembershipKey           hexBytes `json:"membership_key"`
		Proposal                hexBytes `json:"proposal"`
		ProposalPub             hexBytes `json:"proposal_pub"`
		ProposalPriv            hexBytes `json:"proposal_priv"`
		Commit                  hexBytes `json:"commit"`
		CommitPub               hexBytes `json:"commit_pub"`
		CommitPriv              hexBytes `json:"commit_priv"`
		Application             hexBytes `json:"application"`
		ApplicationPriv         hexBytes `json:"application_priv"`
	}
	tally := newTally(t, "message-protection.json")
	for i, tv := range loadVectors[vector](t, "message-protection.json") {
		gc := groupContext{groupID: tv.GroupID, epoch: tv.Epoch, treeHash: tv.TreeHash, confirmedTranscriptHash: tv.ConfirmedTranscriptHash}
		ctx := gc.bytes()
		key, err := ParseSignatureKey(tv.SignaturePriv)
		if err != nil {
			t.Fatal(err)
		}
		tree := secretTree{encryptionSecret: tv.EncryptionSecret, leaves: 2}
		cases := []struct {
			name        string
			contentType uint8
			raw         hexBytes
			pub, priv   hexBytes
		}{
			{"proposal", contentProposal, tv.Proposal, tv.ProposalPub, tv.ProposalPriv},
			{"commit", contentCommit, tv.Commit, tv.CommitPub, tv.CommitPriv},
			{"application", contentApplication, tv.Application, nil, tv.ApplicationPriv},
		}
		for _, c := range cases {
			tally.run(fmt.Sprintf("%d/%s", i, c.name), func(t *testing.T) {
				// The vector gives application data raw, proposals and commits encoded.
				body := func(ac *authenticatedContent) []byte {
					if ac.content.contentType == contentApplication {
						return ac.content.application
					}
					return encode(ac.content.marshalBody)
				}
				if c.pub != nil {
					m, err := parseMLSMessage(c.pub)
					if err != nil || m.public == nil {
						t.Fatalf("parsing public message: %v", err)
					}
					if err := m.public.checkMembershipTag(tv.MembershipKey, ctx); err != nil {
						t.Fatal(err)
					}
					ac := m.public.authenticated()
					if err := ac.verify(tv.SignaturePub, ctx); err != nil {
						t.Fatal(err)
					}
					assertBytes(t, "public content", body(ac), c.raw)
					assertBytes(t, "re-encoded", encode((&mlsMessage{public: m.public}).marshal), c.pub)
				}

				content := framedContent{groupID: tv.GroupID, epoch: tv.Epoch, sender: sender{typ: senderMember, index: 1}, contentType: c.contentType}
				if c.contentType == contentApplication {
					content.application = c.raw
				} else if err := decode(c.raw, "content", content.unmarshalBody); err != nil {
					t.Fatal(err)
				}
				sign := func(wf uint16) *authenticatedContent {
					ac := &authenticatedContent{wireFormat: wf, content: content}
					if c.contentType == contentCommit {
						// Any tag will do: the vector checks framing, not confirmation.
						ac.auth.confirmationTag = make([]byte, hashSize)
					}
					if err := ac.sign(key, ctx); err != nil {
						t.Fatal(err)
					}
					return ac
				}
				pm, err := protectPublic(sign(wireFormatPublicMessage), tv.MembershipKey, ctx)
				if c.contentType == contentApplication {
					if err == nil {
						t.Error("application data protected as a PublicMessage")
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					if err := pm.checkMembershipTag(tv.MembershipKey, ctx); err != nil {
						t.Error(err)
					}
					if err := pm.authenticated().verify(tv.SignaturePub, ctx); err != nil {
						t.Error(err)
					}
				}

				m, err := parseMLSMessage(c.priv)
				if err != nil || m.private == nil {
					t.Fatalf("parsing private message: %v", err)
				}
				ac, err := unprotectPrivate(m.private, tree, tv.SenderDataSecret)
				if err != nil {
					t.Fatal(err)
				}
				if err := ac.verify(tv.SignaturePub, ctx); err != nil {
					t.Fatal(err)
				}
				assertBytes(t, "private content", body(ac), c.raw)

				own, err := protectPrivate(sign(wireFormatPrivateMessage), tree, tv.SenderDataSecret, 3)
				if err != nil {
					t.Fatal(err)
				}
				wire := encode((&mlsMessage{private: own}).marshal)
				m, err = parseMLSMessage(wire)
				if err != nil {
					t.Fatal(err)
				}
				ac, err = unprotectPrivate(m.private, tree, tv.SenderDataSecret)
				if err != nil {
					t.Fatal(err)
				}
				if err := ac.verify(tv.SignaturePub, ctx); err != nil {
					t.Fatal(err)
				}
				assertBytes(t, "own private content", body(ac), c.raw)
				m.private.ciphertext[0] ^= 1
				if _, err := unprotectPrivate(m.private, tree, tv.SenderDataSecret); err == nil {
					t.Error("tampered private message decrypted")
				}
			})
		}
	}
}

func TestVectorsWelcome(t *testing.T) {
	type vector struct {
		InitPriv   hexBytes `json:"init_priv"`
		SignerPub  hexBytes `json:"signer_pub"`
		KeyPackage hexBytes `json:"key_package"`
		Welcome    hexBytes `json:"welcome"`
	}
	tally := newTally(t, "welcome.json")
	for i, tv := range loadVectors[vector](t, "welcome.json") {
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			kpMsg, err := parseMLSMessage(tv.KeyPackage)
			if err != nil || kpMsg.keyPackage == nil {
				t.Fatalf("parsing key package: %v", err)
			}
			if err := kpMsg.keyPackage.Validate(); err != nil {
				t.Errorf("validating key package: %v", err)
			}
			wMsg, err := parseMLSMessage(tv.Welcome)
			if err != nil || wMsg.welcome == nil {
				t.Fatalf("parsing welcome: %v", err)
			}
			initKey, err := parseHPKEPrivateKey(tv.InitPriv)
			if err != nil {
				t.Fatal(err)
			}
			gs, err := openGroupSecrets(wMsg.welcome, kpMsg.keyPackage.Ref(), initKey)
			if err != nil {
				t.Fatal(err)
			}
			gi, err := openGroupInfo(wMsg.welcome, gs.joinerSecret, make([]byte, hashSize))
			if err != nil {
				t.Fatal(err)
			}
			if err := gi.verify(tv.SignerPub); err != nil {
				t.Error(err)
			}
			s := fromJoiner(gs.joinerSecret, nil, gi.context.bytes())
			tag := mac(s.confirmationKey, gi.context.confirmedTranscriptHash)
			if !hmac.Equal(tag, gi.confirmationTag) {
				t.Errorf("confirmation tag %x, want %x", gi.confirmationTag, tag)
			}
			if !bytes.Equal(encode((&mlsMessage{welcome: wMsg.welcome}).marshal), tv.Welcome) {
				t.Error("welcome does not re-encode to its input")
			}
		})
	}
}

func TestVectorsPSKSecret(t *testing.T) {
	type vector struct {
		PSKs []struct {
			ID    hexBytes `json:"psk_id"`
			PSK   hexBytes `json:"psk"`
			Nonce hexBytes `json:"psk_nonce"`
		} `json:"psks"`
		PSKSecret hexBytes `json:"psk_secret"`
	}
	tally := newTally(t, "psk_secret.json")
	for i, tv := range loadVectors[vector](t, "psk_secret.json") {
		tally.run(fmt.Sprintf("%d/psks=%d", i, len(tv.PSKs)), func(t *testing.T) {
			var ids []pskID
			keys := map[string][]byte{}
			for _, p := range tv.PSKs {
				ids = append(ids, pskID{typ: pskTypeExternal, id: p.ID, nonce: p.Nonce})
				keys[string(p.ID)] = p.PSK
			}
			g := &Group{cfg: Config{ExternalPSKs: keys}}
			got, err := pskSecret(ids, g.lookupPSK)
			if err != nil {
				t.Fatal(err)
			}
			assertBytes(t, "psk secret", got, tv.PSKSecret)
		})
	}
}
