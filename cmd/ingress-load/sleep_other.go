//go:build !linux

package main

import "time"

func preciseSleepSetup() {}

// sleepUntil falls back to Go timers, which may wake late and batch sends.
func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}
