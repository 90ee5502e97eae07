package voice

// E2EE is the end-to-end encryption layer a connection consumes: the DAVE
// session (protocol version 1) or, when none is configured, a passthrough
// that speaks protocol version 0.
//
// The connection calls HandleMessage from its gateway goroutine and
// EncryptOpus and Ready from the goroutine running Play, so an
// implementation must be safe for concurrent use. The contract:
//
//   - MaxProtocolVersion is sent in identify as max_dave_protocol_version.
//   - HandleMessage receives, in order, every server message the E2EE layer
//     needs: the session description (OpSessionDescription, its "d" carries
//     dave_protocol_version), clients connect and disconnect, and the DAVE
//     opcodes 21, 22, 24 (text) and 25, 27, 29, 30 (binary). It returns the
//     messages to send back (23, 31 as text; 26, 28 as binary, their Binary
//     being the payload after the opcode). An error is logged; the
//     implementation recovers as the protocol prescribes (for instance by
//     returning opcode 31 and a new key package) rather than by failing.
//   - Reset is called before a new voice session identifies (not on a
//     resume): the voice gateway will build a new group, so all group state
//     goes.
//   - Ready reports whether media may be sent: false while a DAVE session
//     has no send key yet. The connection pulls no frames while it is false.
//   - EncryptOpus appends the frame to send for an Opus frame: a DAVE
//     protocol frame, or the frame unchanged in passthrough. The connection
//     never passes Opus silence frames to it; they go out as they are.
type E2EE interface {
	MaxProtocolVersion() int
	HandleMessage(m Message) ([]Message, error)
	Reset()
	Ready() bool
	EncryptOpus(dst, opus []byte) ([]byte, error)
}

// passthrough is the protocol version 0 E2EE layer: no DAVE support, frames
// unchanged. Discord now refuses such connections with close code 4017; it
// exists for servers that still allow them and for tests.
type passthrough struct{}

var _ E2EE = passthrough{}

func (passthrough) MaxProtocolVersion() int                  { return 0 }
func (passthrough) HandleMessage(Message) ([]Message, error) { return nil, nil }
func (passthrough) Reset()                                   {}
func (passthrough) Ready() bool                              { return true }
func (passthrough) EncryptOpus(dst, opus []byte) ([]byte, error) {
	return append(dst, opus...), nil
}
