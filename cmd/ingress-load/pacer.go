package main

import (
	"fmt"
	"time"
)

// A pacer blocks until a point in time.
type pacer interface {
	// until blocks until t; it returns at once when t has passed.
	until(t time.Time) error
	close()
}

// newPacer returns the pacer for -pacing: "timerfd" sleeps on a kernel high-resolution timer
// read through Go's network poller, so sends leave within tens of µs of their due time;
// "sleep" uses time.Sleep, which in an otherwise idle Go process wakes at millisecond
// granularity (the runtime's epoll_wait timeout is in whole ms), so at 5,000 req/s requests
// leave in bursts of about five.
func newPacer(kind string) (pacer, error) {
	switch kind {
	case "timerfd":
		return newTimerfdPacer()
	case "sleep":
		return sleepPacer{}, nil
	}
	return nil, fmt.Errorf("unknown -pacing %q (timerfd or sleep)", kind)
}

type sleepPacer struct{}

func (sleepPacer) until(t time.Time) error {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
	return nil
}

func (sleepPacer) close() {}
