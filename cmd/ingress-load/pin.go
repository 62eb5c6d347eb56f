package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
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
