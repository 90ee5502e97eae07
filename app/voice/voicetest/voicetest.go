// Package voicetest holds what tests of voice connections share across
// modules: a fast pacer for voice.Config. It owns no fake server (the fake
// voice gateway lives with the integration tests).
package voicetest

import "time"

// FastPacer paces frames at 1 ms instead of 20 ms, for voice.Config.Pacer:
// ten seconds of audio take half a second, slow enough that loopback UDP
// does not drop bursts.
func FastPacer() (<-chan time.Time, func()) {
	t := time.NewTicker(time.Millisecond)
	return t.C, t.Stop
}
