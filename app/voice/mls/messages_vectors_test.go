package mls

import (
	"encoding/binary"
	"fmt"
	"testing"
)

func TestVectorsMessages(t *testing.T) {
	tally := newTally(t, "messages.json")
	mlsMessage := func(b []byte) ([]byte, error) {
		m, err := parseMLSMessage(b)
		if err != nil {
			return nil, err
		}
		return encode(m.marshal), nil
	}
	// proposalBody decodes a proposal body of the given type by prefixing
	// the type, as Proposal carries it.
	proposalBody := func(typ uint16) func([]byte) ([]byte, error) {
		return func(b []byte) ([]byte, error) {
			var p Proposal
			in := append(binary.BigEndian.AppendUint16(nil, typ), b...)
			if err := decode(in, "proposal", p.unmarshal); err != nil {
				return nil, err
			}
			return encode(p.marshal)[2:], nil
		}
	}
	roundTrip := func(what string, f func(r *reader), out func(w *writer)) func([]byte) ([]byte, error) {
		return func(b []byte) ([]byte, error) {
			if err := decode(b, what, f); err != nil {
				return nil, err
			}
			return encode(out), nil
		}
	}
	for i, tv := range loadVectors[map[string]hexBytes](t, "messages.json") {
		var gs groupSecrets
		var c commit
		fields := []struct {
			name  string
			codec func([]byte) ([]byte, error)
		}{
			{"mls_welcome", mlsMessage},
			{"mls_group_info", mlsMessage},
			{"mls_key_package", mlsMessage},
			{"public_message_application", mlsMessage},
			{"public_message_proposal", mlsMessage},
			{"public_message_commit", mlsMessage},
			{"private_message", mlsMessage},
			{"ratchet_tree", func(b []byte) ([]byte, error) {
				tree, err := parseRatchetTree(b)
				if err != nil {
					return nil, err
				}
				return tree.bytes(), nil
			}},
			{"group_secrets", roundTrip("group secrets", gs.unmarshal, gs.marshal)},
			{"add_proposal", proposalBody(proposalAdd)},
			{"update_proposal", proposalBody(proposalUpdate)},
			{"remove_proposal", proposalBody(proposalRemove)},
			{"pre_shared_key_proposal", proposalBody(proposalPSK)},
			{"re_init_proposal", proposalBody(proposalReInit)},
			{"external_init_proposal", proposalBody(proposalExternalInit)},
			{"group_context_extensions_proposal", proposalBody(proposalGroupContextExtensions)},
			{"commit", roundTrip("commit", c.unmarshal, c.marshal)},
		}
		tally.run(fmt.Sprint(i), func(t *testing.T) {
			for _, f := range fields {
				in, ok := tv[f.name]
				if !ok {
					t.Fatalf("vector lacks %s", f.name)
				}
				out, err := f.codec(in)
				if err != nil {
					t.Errorf("%s: %v", f.name, err)
					continue
				}
				assertBytes(t, f.name+" re-encoded", out, in)
			}
		})
	}
}
