package voice

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// preciseSleeper sleeps on a timerfd read through the runtime's poller: a
// kernel timer that wakes within a tenth of a millisecond, while the
// runtime's own timers wake up to a millisecond late on Linux (it waits in
// epoll, whose timeout is in whole milliseconds), and a tick's lateness is
// every send's. The wait holds no thread. Where no timerfd can be made,
// it sleeps on runtime timers.
func preciseSleeper() (func(time.Time, <-chan struct{}) bool, func()) {
	t, err := newTimerFD()
	if err != nil {
		return timerSleep, func() {}
	}
	return t.sleepUntil, func() { t.f.Close() }
}

type timerFD struct {
	f  *os.File
	fd int
}

func newTimerFD() (*timerFD, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("voice: timerfd: %w", err)
	}
	return &timerFD{f: os.NewFile(uintptr(fd), "voice clock"), fd: fd}, nil
}

// sleepUntil sleeps until the given time; it reports false if quit closed
// first, which it notices within a frame interval.
func (t *timerFD) sleepUntil(until time.Time, quit <-chan struct{}) bool {
	var expirations [8]byte
	for {
		select {
		case <-quit:
			return false
		default:
		}
		d := time.Until(until)
		if d <= 0 {
			return true
		}
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(min(d, frameInterval)))}
		if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
			return timerSleep(until, quit)
		}
		if _, err := t.f.Read(expirations[:]); err != nil {
			return timerSleep(until, quit)
		}
	}
}
