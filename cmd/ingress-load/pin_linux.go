package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinTo restricts every thread of this process to cpus and, unless GOMAXPROCS was chosen,
// sizes it to them. Threads started later inherit the mask of the thread that starts them;
// the second pass catches one started by a thread not yet pinned during the first.
func pinTo(cpus []int, gomaxprocs int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity: %w", err)
			}
		}
	}
	if gomaxprocs <= 0 {
		runtime.GOMAXPROCS(len(cpus))
	}
	return nil
}
