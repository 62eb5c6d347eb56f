package wasm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// testProgram is the module most tests run; its first argument picks a behaviour.
const testProgram = `package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	mode := "upper"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read stdin:", err)
		os.Exit(1)
	}
	switch mode {
	case "upper":
		os.Stdout.Write(bytes.ToUpper(in))
	case "hash":
		fmt.Printf("sha256:%x", sha256.Sum256(in))
	case "entropy":
		// Everything a program could use to differ between runs.
		var b [16]byte
		rand.Read(b[:])
		m := map[int]bool{}
		for i := 0; i < 64; i++ {
			m[i] = true
		}
		order := []int{}
		for k := range m {
			order = append(order, k)
		}
		start := time.Now()
		time.Sleep(time.Millisecond)
		fmt.Printf("%x %d %d %v %s", b, start.UnixNano(), time.Since(start), order, in)
	case "env":
		fmt.Printf("%s %s %s %s", os.Args[0], os.Getenv("REQUEST_METHOD"), os.Getenv("REQUEST_URI"), os.Getenv("GREETING"))
	case "fail":
		fmt.Fprintf(os.Stderr, "boom: %s\n", in)
		os.Exit(3)
	case "alloc": // input: MiB to allocate
		var mib int
		fmt.Sscan(string(in), &mib)
		big := make([]byte, mib<<20)
		big[len(big)-1] = 1
		fmt.Println(len(big))
	case "loop":
		for {
		}
	}
}
`

type builtModule struct {
	path, digest string
}

var (
	buildOnce sync.Once
	buildErr  error
	testMod   builtModule
	echoMod   builtModule
)

// modules builds the test program and the committed echo example once per test binary.
func modules(t testing.TB) (test, echo builtModule) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wasm-modules-")
		if err != nil {
			buildErr = err
			return
		}
		echoSrc, err := os.ReadFile(filepath.Join("testdata", "echo", "main.go"))
		if err != nil {
			buildErr = err
			return
		}
		if testMod, buildErr = buildModule(dir, "testmod", testProgram); buildErr != nil {
			return
		}
		echoMod, buildErr = buildModule(dir, "echo", string(echoSrc))
	})
	if buildErr != nil {
		t.Fatalf("building test modules: %v", buildErr)
	}
	return testMod, echoMod
}

// buildModule compiles a one-file Go program for wasip1 in its own module, so it needs nothing
// from this repository's go.mod.
func buildModule(dir, name, src string) (builtModule, error) {
	srcDir := filepath.Join(dir, name+"-src")
	if err := os.MkdirAll(srcDir, 0o755); err != nil {
		return builtModule{}, err
	}
	if err := os.WriteFile(filepath.Join(srcDir, "go.mod"), []byte("module "+name+"\n\ngo 1.23\n"), 0o644); err != nil {
		return builtModule{}, err
	}
	if err := os.WriteFile(filepath.Join(srcDir, "main.go"), []byte(src), 0o644); err != nil {
		return builtModule{}, err
	}
	out := filepath.Join(dir, name+".wasm")
	cmd := osexec.Command(goTool(), "build", "-o", out, ".")
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return builtModule{}, &buildError{name: name, err: err, output: string(msg)}
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return builtModule{}, err
	}
	sum := sha256.Sum256(bin)
	return builtModule{path: out, digest: hex.EncodeToString(sum[:])}, nil
}

type buildError struct {
	name, output string
	err          error
}

func (e *buildError) Error() string {
	return "go build " + e.name + ": " + e.err.Error() + "\n" + e.output
}

func goTool() string {
	if p, err := osexec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
