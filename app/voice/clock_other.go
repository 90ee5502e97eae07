//go:build !linux

package voice

import "time"

// preciseSleeper sleeps on runtime timers.
func preciseSleeper() (func(time.Time, <-chan struct{}) bool, func()) { return timerSleep, func() {} }
