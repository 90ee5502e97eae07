// Package dave runs Discord's DAVE end-to-end encryption session (protocol
// version 1) for one voice connection: protocol version negotiation and the
// passthrough downgrade, the voice gateway's external sender, key packages,
// external Add/Remove proposals (append and revoke), commits and welcomes,
// prepare/execute/ready transitions, recovery from an invalid commit or
// welcome, the sole-member reset, and the per-sender media key ratchets that
// the MLS exporter seeds each epoch.
//
// A *Session is the voice connection's E2EE layer (voice.E2EE): give it as
// voice.Config.E2EE. It owns the DAVE state machine and which keys are current. It does not own
// MLS (package mls), the media frame format and ciphers (package frame), or
// the voice websocket and UDP transport (package voice), which hands it the
// DAVE-related gateway messages and sends what it returns.
package dave
