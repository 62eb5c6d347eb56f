//go:build wasip1

// Command echo is the smallest useful wasm workload: it copies stdin to stdout, so as a job its
// result is its input and as a service it echoes each request body. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -o echo.wasm .
//
// in a directory holding this file and a go.mod ("module echo").
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	n, err := io.Copy(os.Stdout, os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "echo: %d bytes\n", n)
}
