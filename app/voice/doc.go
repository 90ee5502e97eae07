// Package voice is a Discord voice client: the voice gateway (websocket,
// version 8), the UDP media transport, and the seam where DAVE end-to-end
// encryption plugs in. It depends on nothing of the rest of the bot and on
// no Discord library, so it can be published on its own.
//
// # Use
//
// The main gateway adapter joins a channel (gateway opcode 4), waits for
// VOICE_STATE_UPDATE (session ID) and VOICE_SERVER_UPDATE (token,
// endpoint), and calls Connect with those Params and an E2EE layer (the
// DAVE session of package dave). Connect returns once media can flow. Play
// then sends an audio source; later voice updates go to Update; Close ends
// the connection.
//
// # States and reconnects
//
// A Conn is Connecting, Ready, Reconnecting or Closed (State). It keeps
// itself connected: drops and closes 4015 resume the session (opcode 7,
// with seq_ack); 4006 and 4009, and a refused resume, identify anew; 4014
// (disconnected, which is also how a move to another channel starts) waits
// Config.MoveGrace for an Update and ends with ErrDisconnected without
// one; 4017 ends at once with ErrDAVERequired, without retrying; the other
// 40xx codes are final too. An Update with a new endpoint or token closes
// the session and identifies at the new endpoint. The first reconnect is
// immediate; attempts that fail, or sessions that drop within 10 s, back off
// from 0.5 s to 8 s; five failed attempts in a row end the connection.
//
// The player never sees a half-open connection: Play pulls frames only
// while the connection is Ready and the E2EE layer reports Ready, and a
// frame caught by a change (its transport closed, or the E2EE layer lost its
// keys for a new group) is held and sent once the connection is back.
//
// Clients lists the other users in the channel, from the gateway's clients
// connect and disconnect messages; a new session starts the list afresh.
//
// # Pacing
//
// Pacing is decided here, once: Play asks its FrameProvider for one frame
// per 20 ms tick, from Config.Pacer. A bot passes every connection one
// Clock's Pacer: a wake-up per 2 ms slot for many streams, not one per
// stream (on small VMs the wake-ups cost more than the sends themselves),
// and the streams spread over the slots so that a thousand do not send in
// one burst.
// The audio engine only has to have the next frame ready when asked. When the source ends,
// Play sends five Opus silence frames (F8 FF FE) and clears the speaking
// flag; after a gap in the source (empty frames) it sends up to five
// silence frames too, so receivers do not interpolate across the gap.
//
// # Media path
//
// Each frame goes through E2EE.EncryptOpus (silence frames excepted, as
// DAVE wants), then into an RTP packet (sequence +1, timestamp +960) sealed
// with aead_aes256_gcm_rtpsize, or aead_xchacha20_poly1305_rtpsize when the
// server offers only that (package transport).
//
// # End-to-end encryption
//
// E2EE documents the contract an implementation meets; the DAVE session
// (package dave) implements it. Without one, the connection speaks DAVE
// protocol version 0 and Discord refuses it with 4017.
//
// # Websocket library
//
// github.com/coder/websocket: its reads and writes take a context, so every
// gateway I/O carries a deadline; writes are safe from several goroutines;
// and close codes come back as typed errors (CloseStatus), which the
// reconnect rules above need.
package voice
