package voice

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Voice gateway opcodes (version 8) that only the connection handles.
const (
	opIdentify       = 0
	opSelectProtocol = 1
	opReady          = 2
	opHeartbeat      = 3
	opSpeaking       = 5
	opHeartbeatAck   = 6
	opResume         = 7
	opHello          = 8
	opResumed        = 9
)

// Opcodes of the messages the connection exchanges with an E2EE
// implementation. Server to client: OpSessionDescription, OpClientsConnect,
// OpClientDisconnect, OpDAVEPrepareTransition, OpDAVEExecuteTransition,
// OpDAVEPrepareEpoch (text) and OpDAVEExternalSender, OpDAVEProposals,
// OpDAVEAnnounceCommit, OpDAVEWelcome (binary). Client to server:
// OpDAVETransitionReady, OpDAVEInvalidCommitWelcome (text) and
// OpDAVEKeyPackage, OpDAVECommitWelcome (binary).
const (
	OpSessionDescription       = 4
	OpClientsConnect           = 11
	OpClientDisconnect         = 13
	OpDAVEPrepareTransition    = 21
	OpDAVEExecuteTransition    = 22
	OpDAVETransitionReady      = 23
	OpDAVEPrepareEpoch         = 24
	OpDAVEExternalSender       = 25
	OpDAVEKeyPackage           = 26
	OpDAVEProposals            = 27
	OpDAVECommitWelcome        = 28
	OpDAVEAnnounceCommit       = 29
	OpDAVEWelcome              = 30
	OpDAVEInvalidCommitWelcome = 31
)

// gatewayVersion is the voice gateway version this client speaks.
const gatewayVersion = 8

// speakingMicrophone is the speaking flag for normal voice transmission.
const speakingMicrophone = 1

// Message is one voice gateway message that concerns end-to-end encryption,
// in either direction. A text message has JSON set to its "d" object; a
// binary message has Binary set to the payload after the opcode (and, from
// the server, after the sequence number), and JSON nil.
type Message struct {
	Op     int
	JSON   json.RawMessage
	Binary []byte
}

// inbound is a decoded server message.
type inbound struct {
	op int
	// seq is the message's sequence number, -1 when it has none.
	seq  int
	data json.RawMessage // text messages
	bin  []byte          // binary messages: payload after seq and opcode
}

// textFrame is the JSON envelope of a text message.
type textFrame struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d"`
	Seq  *int            `json:"seq,omitempty"`
}

var errBadFrame = errors.New("voice: malformed gateway message")

// decodeText decodes a server text message's envelope.
func decodeText(b []byte) (inbound, error) {
	var f textFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return inbound{}, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	m := inbound{op: f.Op, seq: -1, data: f.Data}
	if f.Seq != nil {
		m.seq = *f.Seq
	}
	return m, nil
}

// decodeBinary decodes a server binary message: a big-endian 16-bit
// sequence number, a one-byte opcode, and the payload.
func decodeBinary(b []byte) (inbound, error) {
	if len(b) < 3 {
		return inbound{}, fmt.Errorf("%w: %d-byte binary message", errBadFrame, len(b))
	}
	return inbound{op: int(b[2]), seq: int(b[0])<<8 | int(b[1]), bin: b[3:]}, nil
}

// encodeBinary returns a client binary message: opcode, then payload.
func encodeBinary(op int, payload []byte) ([]byte, error) {
	if op < 0 || op > 0xFF {
		return nil, fmt.Errorf("voice: binary opcode %d out of range", op)
	}
	return append([]byte{byte(op)}, payload...), nil
}

// encodeText returns a client text message.
func encodeText(op int, d any) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("voice: encoding opcode %d: %w", op, err)
	}
	return json.Marshal(textFrame{Op: op, Data: raw})
}

type identifyData struct {
	ServerID               string `json:"server_id"`
	UserID                 string `json:"user_id"`
	SessionID              string `json:"session_id"`
	Token                  string `json:"token"`
	MaxDAVEProtocolVersion int    `json:"max_dave_protocol_version"`
}

type resumeData struct {
	ServerID  string `json:"server_id"`
	SessionID string `json:"session_id"`
	Token     string `json:"token"`
	SeqAck    int    `json:"seq_ack"`
}

type heartbeatData struct {
	T      int64 `json:"t"`
	SeqAck int   `json:"seq_ack"`
}

type helloData struct {
	// HeartbeatInterval is in milliseconds and arrives as a float.
	HeartbeatInterval float64 `json:"heartbeat_interval"`
}

type readyData struct {
	SSRC  uint32   `json:"ssrc"`
	IP    string   `json:"ip"`
	Port  uint16   `json:"port"`
	Modes []string `json:"modes"`
}

type selectProtocolData struct {
	Protocol string             `json:"protocol"`
	Data     selectProtocolAddr `json:"data"`
}

type selectProtocolAddr struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	Mode    string `json:"mode"`
}

type sessionDescriptionData struct {
	Mode                string `json:"mode"`
	SecretKey           []int  `json:"secret_key"`
	DAVEProtocolVersion int    `json:"dave_protocol_version"`
}

// key returns the secret key as bytes, checking each element is a byte.
func (s sessionDescriptionData) key() ([]byte, error) {
	key := make([]byte, len(s.SecretKey))
	for i, v := range s.SecretKey {
		if v < 0 || v > 0xFF {
			return nil, fmt.Errorf("%w: secret key element %d", errBadFrame, v)
		}
		key[i] = byte(v)
	}
	return key, nil
}

type clientsConnectData struct {
	UserIDs []string `json:"user_ids"`
}

type clientDisconnectData struct {
	UserID string `json:"user_id"`
}

type speakingData struct {
	Speaking int    `json:"speaking"`
	Delay    int    `json:"delay"`
	SSRC     uint32 `json:"ssrc"`
}

// decodeData unmarshals a message's "d" into v.
func decodeData(m inbound, v any) error {
	if err := json.Unmarshal(m.data, v); err != nil {
		return fmt.Errorf("%w: opcode %d: %w", errBadFrame, m.op, err)
	}
	return nil
}

// isE2EEOp reports whether a server opcode goes to the end-to-end
// encryption layer.
func isE2EEOp(op int) bool {
	switch op {
	case OpClientsConnect, OpClientDisconnect,
		OpDAVEPrepareTransition, OpDAVEExecuteTransition, OpDAVEPrepareEpoch,
		OpDAVEExternalSender, OpDAVEProposals, OpDAVEAnnounceCommit, OpDAVEWelcome:
		return true
	}
	return false
}
