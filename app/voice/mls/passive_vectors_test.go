package mls

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

type passiveVector struct {
	KeyPackage                hexBytes `json:"key_package"`
	SignaturePriv             hexBytes `json:"signature_priv"`
	EncryptionPriv            hexBytes `json:"encryption_priv"`
	InitPriv                  hexBytes `json:"init_priv"`
	Welcome                   hexBytes `json:"welcome"`
	RatchetTree               hexBytes `json:"ratchet_tree"`
	InitialEpochAuthenticator hexBytes `json:"initial_epoch_authenticator"`
	ExternalPSKs              []struct {
		ID  hexBytes `json:"psk_id"`
		PSK hexBytes `json:"psk"`
	} `json:"external_psks"`
	Epochs []struct {
		Proposals          []hexBytes `json:"proposals"`
		Commit             hexBytes   `json:"commit"`
		EpochAuthenticator hexBytes   `json:"epoch_authenticator"`
	} `json:"epochs"`
}

// runPassive joins by the vector's Welcome and follows its epochs; it returns
// ErrUnsupported (wrapped) when the vector needs a feature DAVE never uses.
func runPassive(tv passiveVector) error {
	kpMsg, err := parseMLSMessage(tv.KeyPackage)
	if err != nil || kpMsg.keyPackage == nil {
		return fmt.Errorf("parsing key package: %v", err)
	}
	sig, err := ParseSignatureKey(tv.SignaturePriv)
	if err != nil {
		return err
	}
	b, err := keyPackageBundleFromKeys(kpMsg.keyPackage, tv.InitPriv, tv.EncryptionPriv, sig)
	if err != nil {
		return err
	}
	wMsg, err := parseMLSMessage(tv.Welcome)
	if err != nil || wMsg.welcome == nil {
		return fmt.Errorf("parsing welcome: %v", err)
	}
	cfg := Config{ExternalPSKs: map[string][]byte{}}
	for _, p := range tv.ExternalPSKs {
		cfg.ExternalPSKs[string(p.ID)] = p.PSK
	}
	g, err := joinFromWelcome(wMsg.welcome, b, tv.RatchetTree, cfg)
	if err != nil {
		return fmt.Errorf("joining: %w", err)
	}
	if !bytes.Equal(g.EpochAuthenticator(), tv.InitialEpochAuthenticator) {
		return errors.New("initial epoch authenticator differs")
	}
	for n, ep := range tv.Epochs {
		for _, p := range ep.Proposals {
			if _, err := g.StoreProposal(p); err != nil {
				return fmt.Errorf("epoch %d proposal: %w", n, err)
			}
		}
		if err := g.ProcessCommit(ep.Commit); err != nil {
			return fmt.Errorf("epoch %d commit: %w", n, err)
		}
		if !bytes.Equal(g.EpochAuthenticator(), ep.EpochAuthenticator) {
			return fmt.Errorf("epoch %d authenticator differs", n)
		}
	}
	return nil
}

func testPassive(t *testing.T, file string) {
	tally := newTally(t, file)
	for i, tv := range loadVectors[passiveVector](t, file) {
		if err := runPassive(tv); errors.Is(err, ErrUnsupported) {
			tally.skip(fmt.Sprintf("needs a feature DAVE never uses (%v)", err))
			continue
		}
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			if err := runPassive(tv); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVectorsPassiveClientWelcome(t *testing.T) { testPassive(t, "passive-client-welcome.json") }

func TestVectorsPassiveClientHandlingCommit(t *testing.T) {
	testPassive(t, "passive-client-handling-commit.json")
}
