// Package bench measures what concurrent players cost the process, for
// `make bench`: N real players (app/player with the real app/audio
// pipeline, its HTTP fetch answered from memory) feed voice connections
// opened with voice.OpenMedia (production pacing, a real DAVE session in an
// epoch with a send key, transport sealing, one UDP socket each) that send
// to a counting sink on loopback.
//
// For each N it reports CPU seconds per audio second per stream, the p50 and
// p99 lateness of frame sends after their tick, Go heap per player and the
// process's RSS, side by side with a bare sender measured in the same run:
// one goroutine per stream writing 160-byte UDP packets to the same sink,
// paced the same way. Each is paced twice: by a time.Ticker per stream
// (voice.Config's default) and by one voice.Clock for all (what the bot
// uses, its streams spread over 2 ms slots). Between the two, voice-clock
// runs the same voice connections on one clock with a fixed 240-byte frame
// and no player, which splits the player's cost over the bare sender into
// the voice client's part and the player's. Transcoding (an MP3 source, so ffmpeg runs) is
// compared with bare ffmpeg running the pipeline's own arguments at real
// time on the same file. Numbers come from getrusage over fixed wall-clock
// windows, so they are only comparable within one run. The player's ratio
// to the bare sender at 1000 streams, on which the target is set, is also
// reported, with its own cost there, as the median of three pairs measured
// back to back.
//
// It has no code of its own.
package bench
