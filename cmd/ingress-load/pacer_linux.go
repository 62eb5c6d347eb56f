package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

type timerfdPacer struct {
	fd int // kept: os.File.Fd would switch the descriptor to blocking mode
	f  *os.File
	// base pairs a wall-clock reading with CLOCK_MONOTONIC, the timer's clock.
	base     time.Time
	baseMono int64
	buf      [8]byte
}

func newTimerfdPacer() (*timerfdPacer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	// The wall reading is taken first, so the timer's deadlines err late, never early.
	base := time.Now()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("clock_gettime: %w", err)
	}
	// A non-blocking descriptor handed to os.NewFile is registered with the runtime's poller:
	// a Read parks the goroutine rather than an OS thread.
	return &timerfdPacer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd"), base: base, baseMono: ts.Nano()}, nil
}

func (p *timerfdPacer) until(t time.Time) error {
	if !time.Now().Before(t) {
		return nil
	}
	at := unix.NsecToTimespec(p.baseMono + t.Sub(p.base).Nanoseconds())
	spec := unix.ItimerSpec{Value: at}
	if err := unix.TimerfdSettime(p.fd, unix.TFD_TIMER_ABSTIME, &spec, nil); err != nil {
		return fmt.Errorf("timerfd_settime: %w", err)
	}
	_, err := p.f.Read(p.buf[:])
	return err
}

func (p *timerfdPacer) close() { p.f.Close() }
