package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinPlan is which CPUs the driver and the two children run on under -pin.
type pinPlan struct {
	client, servers []int
}

// planPin returns the CPU split for -pin: "" leaves the scheduler free; "client" gives the
// load generator CPU 0 and the backend and proxy the others, so the generator, which stands
// for clients on other machines, does not take CPU from what it measures.
func planPin(mode string) (*pinPlan, error) {
	switch mode {
	case "":
		return nil, nil
	case "client":
		n := runtime.NumCPU()
		if n < 2 {
			return nil, fmt.Errorf("-pin client needs 2 CPUs or more, this machine has %d", n)
		}
		p := &pinPlan{client: []int{0}}
		for c := 1; c < n; c++ {
			p.servers = append(p.servers, c)
		}
		return p, nil
	}
	return nil, fmt.Errorf("unknown -pin %q (client, or empty for none)", mode)
}

func formatCPUs(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, c := range cpus {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

func parseCPUs(s string) ([]int, error) {
	var cpus []int
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 0 {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		cpus = append(cpus, c)
	}
	return cpus, nil
}

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
