// Package telemetry names the metrics the bot publishes: the CloudWatch
// namespace and one constant per metric. The infrastructure's alarms and
// dashboard use the same names, and a test checks that they agree.
//
// It owns only the names; publishing metrics belongs to the packages that
// measure them.
package telemetry

// Namespace is the CloudWatch namespace of every metric the bot publishes.
const Namespace = "TimmyBot"

// Metric names.
const (
	// InteractionsHandled counts slash commands and component interactions
	// the bot answered (unit Count).
	InteractionsHandled = "InteractionsHandled"
	// InteractionErrors counts interactions that ended in an error the user
	// saw as a failure (unit Count).
	InteractionErrors = "InteractionErrors"
	// InteractionLatencyMs is the time from receiving an interaction to
	// sending its first answer (unit Milliseconds).
	InteractionLatencyMs = "InteractionLatencyMs"
	// GatewayConnected is 1 while the gateway session is up and 0 otherwise
	// (unit None), published at least once a minute.
	GatewayConnected = "GatewayConnected"
	// ActiveVoiceConnections is the number of voice channels the bot is in
	// (unit Count).
	ActiveVoiceConnections = "ActiveVoiceConnections"
	// AudioUnderruns counts the 20 ms ticks on which a playing player had
	// no audio ready, since the process started (unit Count): a source
	// slower than real time, or a starved machine.
	AudioUnderruns = "AudioUnderruns"
	// SourceFailures is the prefix of one count per reason yt-dlp failed
	// for, since the process started (unit Count):
	// SourceFailures_bot_check, SourceFailures_removed, and so on, one per
	// ytdlp.Reasons entry.
	SourceFailures = "SourceFailures"
	// FrameCacheHits counts tracks opened from the frame cache, since the
	// process started (unit Count): no download, no ffmpeg.
	FrameCacheHits = "FrameCacheHits"
	// FrameCacheMisses counts tracks with neutral effects that the frame
	// cache did not have, or had damaged, since the process started (unit
	// Count).
	FrameCacheMisses = "FrameCacheMisses"
	// FrameCacheEvictions counts entries the frame cache removed to stay
	// within its bound, since the process started (unit Count).
	FrameCacheEvictions = "FrameCacheEvictions"
	// FrameCacheBytes is the size of the frame cache's entries (unit Bytes).
	FrameCacheBytes = "FrameCacheBytes"
)
