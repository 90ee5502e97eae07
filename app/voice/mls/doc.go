// Package mls implements the parts of Messaging Layer Security (RFC 9420) that
// Discord's DAVE protocol uses, for cipher suite 2
// (MLS_128_DHKEMP256_AES128GCM_SHA256_P256) only, with the standard library's
// crypto: the wire codec, tree math, the ratchet tree with its hashes and
// validation, TreeKEM update paths, the key schedule and exporter, the secret
// tree, message framing, key packages, Add and Remove proposals (from members and
// from an external sender), commits, welcomes and the group state that ties them
// together.
//
// It does not implement what DAVE never sends: re-initialisation, external
// commits and external joins, or other cipher suites. Pre-shared keys, Update
// and GroupContextExtensions proposals and PrivateMessage handshakes are
// supported because the official passive-client vectors use them. It knows nothing of Discord: the
// DAVE session that drives a group lives in the dave package.
//
// Every parser treats its input as hostile: truncated, oversized or malformed
// bytes yield an error, never a panic.
package mls

//go:generate sh -c "go run ./internal/vectorgen -src \"$MLS_TEST_VECTORS\" -dst testdata"
