package daveinterop

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/iddv/timmybot/app/voice/dave"
)

// Davey is a davey session as a davetest.Member. It handles gateway messages
// the way discord.js's voice client glues davey to the voice gateway.
type Davey struct {
	d         *Driver
	id        uint64
	channel   uint64
	created   bool
	version   int
	extSender []byte
	connected map[uint64]bool
	pending   map[uint16]int // transition ID to protocol version
}

// NewDavey prepares a davey member; its session is made on the session
// description.
func NewDavey(d *Driver, user, channel uint64) *Davey {
	return &Davey{d: d, id: user, channel: channel, connected: map[uint64]bool{}, pending: map[uint16]int{}}
}

// UserID implements davetest.Member.
func (m *Davey) UserID() uint64 { return m.id }

func (m *Davey) call(cmd string, args map[string]any, out any) error {
	req := map[string]any{"cmd": cmd, "userId": strconv.FormatUint(m.id, 10)}
	for k, v := range args {
		req[k] = v
	}
	return m.d.Call(req, out)
}

// State is what davey reports about its session.
type State struct {
	Epoch              *uint64  `json:"epoch"`
	Ready              bool     `json:"ready"`
	EpochAuthenticator string   `json:"epochAuthenticator"`
	PrivacyCode        string   `json:"privacyCode"`
	UserIDs            []string `json:"userIds"`
}

// State queries the session.
func (m *Davey) State() (State, error) {
	var s State
	err := m.call("state", nil, &s)
	return s, err
}

// EncryptOpus has davey encrypt an Opus frame.
func (m *Davey) EncryptOpus(opus []byte) ([]byte, error) {
	return m.binaryCall("encryptOpus", map[string]any{"data": hex.EncodeToString(opus)})
}

// Decrypt has davey decrypt a frame from another user.
func (m *Davey) Decrypt(from uint64, frame []byte) ([]byte, error) {
	return m.binaryCall("decrypt", map[string]any{"from": strconv.FormatUint(from, 10), "data": hex.EncodeToString(frame)})
}

func (m *Davey) binaryCall(cmd string, args map[string]any) ([]byte, error) {
	var out struct {
		Data string `json:"data"`
	}
	if err := m.call(cmd, args, &out); err != nil {
		return nil, err
	}
	return hex.DecodeString(out.Data)
}

// reinit (re)creates the session for the current protocol version and
// returns its new key package message.
func (m *Davey) reinit() ([]dave.Message, error) {
	cmd := "reinit"
	if !m.created {
		cmd = "create"
	}
	args := map[string]any{"protocolVersion": m.version, "channelId": strconv.FormatUint(m.channel, 10)}
	if err := m.call(cmd, args, nil); err != nil {
		return nil, err
	}
	m.created = true
	if m.version == 0 {
		return nil, nil
	}
	if m.extSender != nil {
		if err := m.call("setExternalSender", map[string]any{"data": hex.EncodeToString(m.extSender)}, nil); err != nil {
			return nil, err
		}
	}
	kp, err := m.binaryCall("keyPackage", nil)
	if err != nil {
		return nil, err
	}
	return []dave.Message{{Op: dave.OpKeyPackage, Binary: kp}}, nil
}

func transitionReply(op int, id uint16) dave.Message {
	raw, _ := json.Marshal(map[string]uint16{"transition_id": id})
	return dave.Message{Op: op, JSON: raw}
}

// HandleMessage implements davetest.Member.
func (m *Davey) HandleMessage(msg dave.Message) ([]dave.Message, error) {
	switch msg.Op {
	case dave.OpSessionDescription:
		var d struct {
			Version int `json:"dave_protocol_version"`
		}
		if err := json.Unmarshal(msg.JSON, &d); err != nil {
			return nil, err
		}
		m.version = d.Version
		return m.reinit()
	case dave.OpClientsConnect:
		var d struct {
			UserIDs []string `json:"user_ids"`
		}
		if err := json.Unmarshal(msg.JSON, &d); err != nil {
			return nil, err
		}
		for _, s := range d.UserIDs {
			id, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, err
			}
			m.connected[id] = true
		}
		return nil, nil
	case dave.OpClientDisconnect:
		var d struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(msg.JSON, &d); err != nil {
			return nil, err
		}
		id, err := strconv.ParseUint(d.UserID, 10, 64)
		if err != nil {
			return nil, err
		}
		delete(m.connected, id)
		return nil, nil
	case dave.OpExternalSender:
		m.extSender = bytes.Clone(msg.Binary)
		if !m.created {
			return nil, nil
		}
		return nil, m.call("setExternalSender", map[string]any{"data": hex.EncodeToString(msg.Binary)}, nil)
	case dave.OpPrepareTransition:
		var d struct {
			ProtocolVersion int    `json:"protocol_version"`
			TransitionID    uint16 `json:"transition_id"`
		}
		if err := json.Unmarshal(msg.JSON, &d); err != nil {
			return nil, err
		}
		if d.ProtocolVersion == 0 {
			if err := m.call("setPassthroughMode", map[string]any{"on": true, "expiry": 10}, nil); err != nil {
				return nil, err
			}
		}
		if d.TransitionID == 0 {
			return nil, nil
		}
		m.pending[d.TransitionID] = d.ProtocolVersion
		return []dave.Message{transitionReply(dave.OpReadyForTransition, d.TransitionID)}, nil
	case dave.OpExecuteTransition:
		var d struct {
			TransitionID uint16 `json:"transition_id"`
		}
		if err := json.Unmarshal(msg.JSON, &d); err != nil {
			return nil, err
		}
		delete(m.pending, d.TransitionID)
		return nil, nil
	case dave.OpPrepareEpoch:
		var d struct {
			ProtocolVersion int    `json:"protocol_version"`
			Epoch           uint64 `json:"epoch"`
		}
		if err := json.Unmarshal(msg.JSON, &d); err != nil {
			return nil, err
		}
		if d.Epoch != 1 {
			return nil, nil
		}
		m.version = d.ProtocolVersion
		return m.reinit()
	case dave.OpProposals:
		if len(msg.Binary) < 1 {
			return nil, errors.New("empty proposals")
		}
		var ids []string
		for id := range m.connected {
			ids = append(ids, strconv.FormatUint(id, 10))
		}
		var res struct {
			Commit  string `json:"commit"`
			Welcome string `json:"welcome"`
		}
		err := m.call("processProposals", map[string]any{
			"operation":         int(msg.Binary[0]),
			"data":              hex.EncodeToString(msg.Binary[1:]),
			"recognizedUserIds": ids,
		}, &res)
		if err != nil || res.Commit == "" {
			return nil, err
		}
		commit, err := hex.DecodeString(res.Commit + res.Welcome)
		if err != nil {
			return nil, err
		}
		return []dave.Message{{Op: dave.OpCommitWelcome, Binary: commit}}, nil
	case dave.OpAnnounceCommitTransition:
		return m.transition(msg.Binary, "processCommit")
	case dave.OpWelcome:
		return m.transition(msg.Binary, "processWelcome")
	}
	return nil, nil
}

// transition processes a commit or welcome and reports readiness, or flags it
// invalid and starts over, as discord.js does.
func (m *Davey) transition(payload []byte, cmd string) ([]dave.Message, error) {
	if len(payload) < 2 {
		return nil, errors.New("short transition message")
	}
	id := binary.BigEndian.Uint16(payload)
	if err := m.call(cmd, map[string]any{"data": hex.EncodeToString(payload[2:])}, nil); err != nil {
		replies, rerr := m.reinit()
		return append([]dave.Message{transitionReply(dave.OpInvalidCommitWelcome, id)}, replies...), errors.Join(fmt.Errorf("%s: %w", cmd, err), rerr)
	}
	if id == 0 {
		return nil, nil
	}
	m.pending[id] = m.version
	return []dave.Message{transitionReply(dave.OpReadyForTransition, id)}, nil
}
