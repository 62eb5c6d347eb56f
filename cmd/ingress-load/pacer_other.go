//go:build !linux

package main

import "errors"

func newTimerfdPacer() (pacer, error) {
	return nil, errors.New("-pacing timerfd needs Linux; use -pacing sleep")
}
