package main

import (
	"syscall"
	"time"
)

// preciseSleepSetup lowers the calling thread's timer slack (default 50µs) so nanosleep wakes
// close to the requested time. The caller has locked its OS thread.
func preciseSleepSetup() {
	const prSetTimerslack = 29
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, uintptr(time.Microsecond), 0)
}

// sleepUntil blocks the thread in nanosleep until t; it returns at once if t has passed.
func sleepUntil(t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
