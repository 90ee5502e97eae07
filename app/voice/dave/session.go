package dave

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave/frame"
	"github.com/iddv/timmybot/app/voice/mls"
)

// ProtocolVersion is the highest DAVE protocol version the session speaks.
const ProtocolVersion = 1

// Voice gateway opcodes the session consumes or produces.
const (
	OpSessionDescription       = 4
	OpClientsConnect           = 11
	OpClientDisconnect         = 13
	OpPrepareTransition        = 21
	OpExecuteTransition        = 22
	OpReadyForTransition       = 23
	OpPrepareEpoch             = 24
	OpExternalSender           = 25
	OpKeyPackage               = 26
	OpProposals                = 27
	OpCommitWelcome            = 28
	OpAnnounceCommitTransition = 29
	OpWelcome                  = 30
	OpInvalidCommitWelcome     = 31
)

// senderSecretLabel is the MLS exporter label of the per-sender base secret.
const senderSecretLabel = "Discord Secure Frames v0"

// Message is one voice gateway message in either direction: JSON holds a
// text message's "d", Binary a binary message's payload after the opcode
// (and, from the server, after the sequence number).
type Message = voice.Message

// The voice connection drives the session through its E2EE seam.
var _ voice.E2EE = (*Session)(nil)

// Epoch describes the keys of an epoch the session has just entered.
type Epoch struct {
	Number        uint64
	Authenticator []byte
	// SenderSecrets maps each member's user ID to its 16-byte sender base
	// secret for this epoch.
	SenderSecrets map[uint64][]byte
}

// Config configures a Session.
type Config struct {
	UserID    uint64
	ChannelID uint64
	// Logger receives recoverable protocol failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock for key expiry after transitions; nil means time.Now.
	Now func() time.Time
	// OnEpoch, when set, is called (with the session locked: it must not call
	// back into it) each time the session enters an MLS epoch.
	OnEpoch func(Epoch)
}

// transition is an announced change waiting for execute_transition.
type transition struct {
	protocolVersion int
	// send is the ratchet to send with once executed; nil for a downgrade.
	send *frame.Ratchet
}

// Session is the DAVE state of one voice connection. It is safe for
// concurrent use: the gateway goroutine calls HandleMessage while the media
// goroutine calls EncryptOpus and Ready.
type Session struct {
	// What every sent frame reads comes first, to share lines of memory.
	mu sync.Mutex
	// sendReady is what Ready reports, sendPassthrough || encryptor has a
	// key, stored whenever a call that holds mu may have changed them: the
	// voice client asks on every frame, without taking mu.
	sendReady       atomic.Bool
	sendPassthrough bool
	encryptor       frame.Encryptor

	cfg             Config
	log             *slog.Logger
	protocolVersion int
	sigKey          *mls.SignatureKey
	externalSender  *mls.ExternalSender
	bundle          *mls.KeyPackageBundle
	group           *mls.Group
	connected       map[uint64]bool
	transitions     map[uint16]transition
	latest          *Epoch
	privacyCode     string
	// recvPassthrough is whether new decryptors accept unencrypted frames.
	recvPassthrough bool
	decryptors      map[uint64]*frame.Decryptor
}

// NewSession returns a session that has not yet heard from the gateway.
func NewSession(cfg Config) (*Session, error) {
	key, err := mls.GenerateSignatureKey()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{cfg: cfg, log: log, sigKey: key}
	s.resetLocked()
	s.storeReady()
	return s, nil
}

// MaxProtocolVersion is the value for identify's max_dave_protocol_version.
func (s *Session) MaxProtocolVersion() int { return ProtocolVersion }

// Reset forgets everything the gateway told the session, before a new voice
// session identifies.
func (s *Session) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.storeReady()
	s.resetLocked()
}

func (s *Session) resetLocked() {
	s.protocolVersion = 0
	s.externalSender = nil
	s.bundle = nil
	s.group = nil
	s.connected = map[uint64]bool{}
	s.transitions = map[uint16]transition{}
	s.latest = nil
	s.privacyCode = ""
	s.encryptor.SetRatchet(nil)
	s.sendPassthrough = true
	s.recvPassthrough = true
	s.decryptors = map[uint64]*frame.Decryptor{}
}

// Ready reports whether media may be sent: in passthrough, or with a send key.
func (s *Session) Ready() bool { return s.sendReady.Load() }

// storeReady records what Ready reports; s.mu must be held.
func (s *Session) storeReady() { s.sendReady.Store(s.sendPassthrough || s.encryptor.HasKey()) }

// EncryptOpus appends the frame to send for an Opus frame.
func (s *Session) EncryptOpus(dst, opus []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sendPassthrough {
		return append(dst, opus...), nil
	}
	return s.encryptor.EncryptOpus(dst, opus)
}

// Decrypt appends the media frame of a frame received from userID.
func (s *Session) Decrypt(userID uint64, dst, f []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decryptor(userID).Decrypt(dst, f)
}

// decryptor returns userID's decryptor, made on first use.
func (s *Session) decryptor(userID uint64) *frame.Decryptor {
	d, ok := s.decryptors[userID]
	if !ok {
		d = frame.NewDecryptor(s.cfg.Now)
		d.SetPassthrough(s.recvPassthrough)
		s.decryptors[userID] = d
	}
	return d
}

// ProtocolVersion is the DAVE protocol version in use; 0 means passthrough.
func (s *Session) ProtocolVersion() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.protocolVersion
}

// LatestEpoch returns the MLS epoch the session entered last, or nil.
func (s *Session) LatestEpoch() *Epoch {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil {
		return nil
	}
	e := *s.latest
	e.SenderSecrets = maps.Clone(e.SenderSecrets)
	return &e
}

// PrivacyCode is the 30-digit voice privacy code of the epoch whose
// transition executed last, or "" before one has. Like Discord's clients, it
// changes when media switches to the new keys, not when they arrive.
func (s *Session) PrivacyCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.privacyCode
}

// HandleMessage acts on one gateway message and returns the replies to send.
// A returned error describes input the session could not use; the session
// has already recovered as the protocol prescribes, and the replies (for
// instance an invalid-commit flag and a fresh key package) must still be sent.
func (s *Session) HandleMessage(m Message) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.storeReady()
	switch m.Op {
	case OpSessionDescription:
		var d struct {
			Version int `json:"dave_protocol_version"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, fmt.Errorf("dave: session description: %w", err)
		}
		// A session that starts with DAVE sends nothing until it has a key;
		// an upgrade later keeps sending in passthrough until it executes.
		s.sendPassthrough = d.Version == 0
		s.recvPassthrough = d.Version == 0
		return s.startProtocol(d.Version)
	case OpClientsConnect:
		var d struct {
			UserIDs []string `json:"user_ids"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, fmt.Errorf("dave: clients connect: %w", err)
		}
		for _, raw := range d.UserIDs {
			id, err := strconv.ParseUint(raw, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("dave: clients connect: user id %q: %w", raw, err)
			}
			s.connected[id] = true
		}
		return nil, nil
	case OpClientDisconnect:
		var d struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, fmt.Errorf("dave: client disconnect: %w", err)
		}
		id, err := strconv.ParseUint(d.UserID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dave: client disconnect: user id %q: %w", d.UserID, err)
		}
		delete(s.connected, id)
		delete(s.decryptors, id)
		return nil, nil
	case OpPrepareTransition:
		var d struct {
			ProtocolVersion int    `json:"protocol_version"`
			TransitionID    uint16 `json:"transition_id"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, fmt.Errorf("dave: prepare transition: %w", err)
		}
		return s.prepareTransition(d.ProtocolVersion, d.TransitionID), nil
	case OpExecuteTransition:
		var d struct {
			TransitionID uint16 `json:"transition_id"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, fmt.Errorf("dave: execute transition: %w", err)
		}
		s.executeTransition(d.TransitionID)
		return nil, nil
	case OpPrepareEpoch:
		var d struct {
			ProtocolVersion int    `json:"protocol_version"`
			Epoch           uint64 `json:"epoch"`
		}
		if err := json.Unmarshal(m.JSON, &d); err != nil {
			return nil, fmt.Errorf("dave: prepare epoch: %w", err)
		}
		if d.Epoch != 1 {
			return nil, nil
		}
		return s.startProtocol(d.ProtocolVersion)
	case OpExternalSender:
		return s.externalSenderPackage(m.Binary)
	case OpProposals:
		return s.proposals(m.Binary)
	case OpAnnounceCommitTransition:
		return s.announceCommit(m.Binary)
	case OpWelcome:
		return s.welcome(m.Binary)
	}
	return nil, nil
}

// startProtocol (re)starts the MLS side for a protocol version: a fresh key
// package and, once the external sender is known, a local group of one.
func (s *Session) startProtocol(version int) ([]Message, error) {
	if version < 0 || version > ProtocolVersion {
		return nil, fmt.Errorf("dave: protocol version %d not supported", version)
	}
	s.protocolVersion = version
	s.group = nil
	s.bundle = nil
	if version == 0 {
		return nil, nil
	}
	return s.freshKeyPackage()
}

// freshKeyPackage makes a new key package, replaces the local group with one
// built on it, and returns the key package message.
func (s *Session) freshKeyPackage() ([]Message, error) {
	b, err := mls.NewKeyPackageBundle(s.sigKey, binary.BigEndian.AppendUint64(nil, s.cfg.UserID))
	if err != nil {
		return nil, fmt.Errorf("dave: key package: %w", err)
	}
	s.bundle = b
	s.group = nil
	if err := s.createLocalGroup(); err != nil {
		return nil, err
	}
	return []Message{{Op: OpKeyPackage, Binary: b.KeyPackage.Bytes()}}, nil
}

func (s *Session) mlsConfig() mls.Config {
	return mls.Config{
		ExternalProposalsOnly: true,
		UniqueIdentities:      true,
		AcceptAdd:             s.acceptAdd,
	}
}

// acceptAdd admits only users the gateway announced as connected.
func (s *Session) acceptAdd(identity []byte) error {
	if len(identity) != 8 {
		return fmt.Errorf("identity of %d bytes, want a user ID", len(identity))
	}
	id := binary.BigEndian.Uint64(identity)
	if !s.connected[id] {
		return fmt.Errorf("user %d is not connected", id)
	}
	return nil
}

// createLocalGroup makes the pending group of one this member commits from
// when it holds no established group.
func (s *Session) createLocalGroup() error {
	if s.externalSender == nil || s.bundle == nil || s.protocolVersion == 0 {
		return nil
	}
	g, err := mls.CreateGroup(s.groupID(), s.bundle, []mls.Extension{mls.ExternalSendersExtension(*s.externalSender)}, s.mlsConfig())
	if err != nil {
		return fmt.Errorf("dave: creating group: %w", err)
	}
	s.group = g
	return nil
}

func (s *Session) groupID() []byte { return binary.BigEndian.AppendUint64(nil, s.cfg.ChannelID) }

func (s *Session) externalSenderPackage(payload []byte) ([]Message, error) {
	es, err := mls.ParseExternalSender(payload)
	if err != nil {
		return nil, fmt.Errorf("dave: external sender package: %w", err)
	}
	s.externalSender = es
	if s.group != nil && s.group.Epoch() > 0 {
		return nil, nil
	}
	return nil, s.createLocalGroup()
}

const (
	proposalsAppend = 0
	proposalsRevoke = 1
)

// proposals appends or revokes external proposals, then commits what is
// pending.
func (s *Session) proposals(payload []byte) ([]Message, error) {
	if s.group == nil {
		// Proposals before the local group exists are ignored, as specified.
		return nil, nil
	}
	if len(payload) < 1 {
		return nil, errors.New("dave: empty proposals message")
	}
	body, rest, err := mls.ReadVector(payload[1:])
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("dave: proposals vector: %w", errors.Join(err, trailing(rest)))
	}
	switch payload[0] {
	case proposalsAppend:
		msgs, err := mls.SplitMessages(body)
		if err != nil {
			return nil, fmt.Errorf("dave: proposals: %w", err)
		}
		// A batch is taken whole or not at all.
		var stored [][]byte
		for _, msg := range msgs {
			ref, err := s.group.StoreProposal(msg)
			if err != nil {
				for _, r := range stored {
					_ = s.group.RevokeProposal(r) // stored just above, so known
				}
				return nil, fmt.Errorf("dave: proposal refused: %w", err)
			}
			stored = append(stored, ref)
		}
	case proposalsRevoke:
		refs, err := mls.SplitVectors(body)
		if err != nil {
			return nil, fmt.Errorf("dave: revoked refs: %w", err)
		}
		for _, ref := range refs {
			// A ref this member never stored (say, a proposal it refused)
			// is already not pending: revoking it is done.
			if err := s.group.RevokeProposal(ref); err != nil {
				s.log.Debug("dave: revoking an unknown proposal", slog.Any("err", err))
			}
		}
	default:
		return nil, fmt.Errorf("dave: proposals operation %d", payload[0])
	}
	if s.group.PendingProposals() == 0 {
		return nil, nil
	}
	res, err := s.group.Commit()
	if err != nil {
		return nil, fmt.Errorf("dave: commit: %w", err)
	}
	return []Message{{Op: OpCommitWelcome, Binary: append(bytes.Clone(res.Commit), res.Welcome...)}}, nil
}

func trailing(rest []byte) error {
	if len(rest) > 0 {
		return fmt.Errorf("%d trailing bytes", len(rest))
	}
	return nil
}

// splitTransition reads the 2-byte transition ID that starts ops 29 and 30.
func splitTransition(payload []byte) (uint16, []byte, error) {
	if len(payload) < 2 {
		return 0, nil, errors.New("dave: message shorter than its transition id")
	}
	return binary.BigEndian.Uint16(payload), payload[2:], nil
}

// announceCommit processes the commit the gateway chose for the epoch.
func (s *Session) announceCommit(payload []byte) ([]Message, error) {
	id, commit, err := splitTransition(payload)
	if err != nil {
		return nil, err
	}
	if s.group == nil {
		return nil, nil
	}
	established := s.group.Epoch() > 0
	err = s.group.ProcessCommit(commit)
	switch {
	case err == nil:
		return s.enteredEpoch(id)
	case !established:
		// Someone else's commit created the group; its Welcome follows.
		s.log.Debug("dave: ignoring commit for a group not yet joined", slog.Any("err", err))
		return nil, nil
	case errors.Is(err, mls.ErrRemoved):
		s.group = nil
		msgs, kerr := s.freshKeyPackage()
		return msgs, errors.Join(fmt.Errorf("dave: removed from the group: %w", err), kerr)
	}
	return s.invalid(id, fmt.Errorf("dave: commit: %w", err))
}

// welcome joins the group from a Welcome.
func (s *Session) welcome(payload []byte) ([]Message, error) {
	id, w, err := splitTransition(payload)
	if err != nil {
		return nil, err
	}
	if s.bundle == nil {
		return nil, errors.New("dave: welcome without a key package")
	}
	g, err := mls.JoinGroup(w, s.bundle, nil, s.mlsConfig())
	if err != nil {
		return s.invalid(id, fmt.Errorf("dave: welcome: %w", err))
	}
	if err := s.checkExternalSender(g); err != nil {
		return s.invalid(id, err)
	}
	s.group = g
	return s.enteredEpoch(id)
}

// checkExternalSender requires exactly the gateway's external sender.
func (s *Session) checkExternalSender(g *mls.Group) error {
	senders, err := g.ExternalSenders()
	if err != nil {
		return fmt.Errorf("dave: welcome external senders: %w", err)
	}
	if s.externalSender == nil || len(senders) != 1 || !bytes.Equal(senders[0].Bytes(), s.externalSender.Bytes()) {
		return errors.New("dave: welcome's group does not have exactly the gateway's external sender")
	}
	return nil
}

// invalid flags an unusable commit or welcome and starts over with a fresh
// key package.
func (s *Session) invalid(id uint16, cause error) ([]Message, error) {
	flag, err := json.Marshal(map[string]uint16{"transition_id": id})
	if err != nil {
		return nil, errors.Join(cause, err)
	}
	msgs, err := s.freshKeyPackage()
	return append([]Message{{Op: OpInvalidCommitWelcome, JSON: flag}}, msgs...), errors.Join(cause, err)
}

// enteredEpoch derives the new epoch's sender keys, moves the receivers onto
// them and stages the send key for the transition.
func (s *Session) enteredEpoch(id uint16) ([]Message, error) {
	ep, err := s.epochKeys()
	if err != nil {
		return nil, err
	}
	s.latest = ep
	for user, secret := range ep.SenderSecrets {
		if user == s.cfg.UserID {
			continue
		}
		r, err := frame.NewRatchet(secret)
		if err != nil {
			return nil, err
		}
		s.decryptor(user).TransitionToRatchet(r)
	}
	send, err := frame.NewRatchet(ep.SenderSecrets[s.cfg.UserID])
	if err != nil {
		return nil, err
	}
	s.transitions[id] = transition{protocolVersion: s.protocolVersion, send: send}
	if s.cfg.OnEpoch != nil {
		s.cfg.OnEpoch(*ep)
	}
	if id == 0 {
		s.executeTransition(0)
		return nil, nil
	}
	return s.ready(id), nil
}

// epochKeys exports every member's sender base secret for the group's epoch.
func (s *Session) epochKeys() (*Epoch, error) {
	ep := &Epoch{Number: s.group.Epoch(), Authenticator: s.group.EpochAuthenticator(), SenderSecrets: map[uint64][]byte{}}
	for _, m := range s.group.Members() {
		if len(m.Identity) != 8 {
			return nil, fmt.Errorf("dave: member at leaf %d has a %d-byte identity", m.LeafIndex, len(m.Identity))
		}
		user := binary.BigEndian.Uint64(m.Identity)
		secret, err := s.group.Export(senderSecretLabel, binary.LittleEndian.AppendUint64(nil, user), frame.BaseSecretSize)
		if err != nil {
			return nil, err
		}
		ep.SenderSecrets[user] = secret
	}
	return ep, nil
}

func (s *Session) ready(id uint16) []Message {
	d, _ := json.Marshal(map[string]uint16{"transition_id": id})
	return []Message{{Op: OpReadyForTransition, JSON: d}}
}

// prepareTransition announces a protocol version change. Transition 0 is
// executed at once (the sole-member reset and initialisation).
func (s *Session) prepareTransition(version int, id uint16) []Message {
	t := transition{protocolVersion: version}
	if version == 0 {
		s.setRecvPassthrough(true)
	} else if s.group != nil {
		// The group stays; the send key is the latest epoch's, or the local
		// group's after a sole-member reset.
		if s.latest == nil || s.latest.Number != s.group.Epoch() {
			ep, err := s.epochKeys()
			if err == nil {
				s.latest = ep
			}
		}
		if s.latest != nil {
			if r, err := frame.NewRatchet(s.latest.SenderSecrets[s.cfg.UserID]); err == nil {
				t.send = r
			}
		}
	}
	s.transitions[id] = t
	if id == 0 {
		s.executeTransition(0)
		return nil
	}
	return s.ready(id)
}

// executeTransition switches the send side to what the transition staged.
func (s *Session) executeTransition(id uint16) {
	t, ok := s.transitions[id]
	if !ok {
		return
	}
	delete(s.transitions, id)
	s.protocolVersion = t.protocolVersion
	if t.protocolVersion == 0 {
		s.sendPassthrough = true
		s.encryptor.SetRatchet(nil)
		return
	}
	s.setRecvPassthrough(false)
	if t.send == nil {
		return
	}
	if s.latest != nil {
		s.privacyCode = privacyCode(s.latest.Authenticator)
	}
	s.sendPassthrough = false
	s.encryptor.SetRatchet(t.send)
}

func (s *Session) setRecvPassthrough(on bool) {
	s.recvPassthrough = on
	for _, d := range s.decryptors {
		d.SetPassthrough(on)
	}
}
