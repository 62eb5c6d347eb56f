//go:build !linux

package main

import "errors"

func pinTo([]int, int) error { return errors.New("-pin needs Linux") }
