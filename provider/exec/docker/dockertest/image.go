// Package dockertest builds the image the Docker integration tests run (a static Go program
// FROM scratch: no registry is needed) and finds the engine they run it on. The executor's own
// tests and the sidecar's end-to-end test share it.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Program is the workload the Docker integration tests run: a static binary small enough that
// building an image FROM scratch stays quick on slow storage drivers. Its first argument picks
// what it does, so one image covers services, one-shot jobs and failures.
const Program = `package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "hash":
		h := sha256.New()
		if _, err := io.Copy(h, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "read stdin:", err)
			os.Exit(1)
		}
		fmt.Printf("%x\n", h.Sum(nil))
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "fail":
		fmt.Fprintln(os.Stderr, "failing on purpose")
		os.Exit(3)
	case "fs":
		if err := os.WriteFile("/tmp/probe", []byte("x"), 0o600); err != nil {
			fmt.Println("tmp not writable:", err)
		} else {
			fmt.Println("tmp writable")
		}
		if err := os.WriteFile("/probe", []byte("x"), 0o600); err != nil {
			fmt.Println("root read-only")
		} else {
			fmt.Println("root writable")
		}
	default:
		greeting := os.Getenv("GREETING")
		http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "echo %s %s", greeting, r.URL.Path)
		})
		fmt.Println("echo server listening on :8080")
		if err := http.ListenAndServe(":8080", nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
`

const dockerfile = "FROM scratch\nCOPY server /server\nENTRYPOINT [\"/server\"]\n"

// BuildEcho builds the echo image FROM scratch (the static testProgram, compiled with the
// toolchain running the tests) and returns its ID ("sha256:..."). The caller removes it
// (RemoveImages).
func BuildEcho(cli *client.Client) (string, error) {
	bin, err := compileProgram()
	if err != nil {
		return "", err
	}
	buildCtx, err := tarContext(map[string][]byte{"Dockerfile": []byte(dockerfile), "server": bin})
	if err != nil {
		return "", err
	}
	tag := "computed-test/echo:" + RandomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The legacy builder needs no BuildKit session, which a bare API client cannot provide.
	resp, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), types.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  "Dockerfile",
		Version:     types.BuilderV1,
		Remove:      true,
		ForceRemove: true,
	})
	if err != nil {
		return "", fmt.Errorf("image build: %w", err)
	}
	defer resp.Body.Close()
	if err := ReadJSONMessages(resp.Body); err != nil {
		return "", fmt.Errorf("image build: %w", err)
	}
	img, _, err := cli.ImageInspectWithRaw(ctx, tag)
	if err != nil {
		return "", fmt.Errorf("inspect built image %s: %w", tag, err)
	}
	return img.ID, nil
}

// compileProgram builds testProgram as a static linux binary with the toolchain running the
// tests, in a module of its own so it needs nothing from the network.
func compileProgram() ([]byte, error) {
	dir, err := os.MkdirTemp("", "computed-docker-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{"go.mod": "module echo\n\ngo 1.21\n", "main.go": Program}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			return nil, fmt.Errorf("no go toolchain to build the test image: %w", err)
		}
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", "server", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH,
		"GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build test program: %w\n%s", err, out)
	}
	return os.ReadFile(filepath.Join(dir, "server"))
}

func tarContext(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		mode := int64(0o644)
		if name != "Dockerfile" {
			mode = 0o755
		}
		hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonMessage is the part of the engine's progress stream the tests look at.
type jsonMessage struct {
	Stream      string                   `json:"stream"`
	Error       string                   `json:"error"`
	ErrorDetail struct{ Message string } `json:"errorDetail"`
	Aux         json.RawMessage          `json:"aux"`
}

// ReadJSONMessages drains a build or push stream; the engine reports failures inside it with
// a 200 status, so they only show up here.
func ReadJSONMessages(r io.Reader) error {
	dec := json.NewDecoder(r)
	var log bytes.Buffer
	for {
		var m jsonMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("decode progress: %w", err)
		}
		log.WriteString(m.Stream)
		if m.Error != "" {
			return fmt.Errorf("%s\n%s", m.Error, log.String())
		}
	}
}

// RandomHex is n random bytes in hex, for names unique to a run.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand does not fail on the platforms Docker runs on
	return hex.EncodeToString(b)
}

// Engine connects to the local engine as the docker CLI would (DOCKER_HOST and the rest) and
// checks that it answers.
func Engine() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("no Docker client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("no Docker engine answers at %s: %w", cli.DaemonHost(), err)
	}
	return cli, nil
}

// RemoveImages removes images the tests built, reporting failures on stderr.
func RemoveImages(cli *client.Client, ids ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range ids {
		if _, err := cli.ImageRemove(ctx, id, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			fmt.Fprintf(os.Stderr, "cleanup: remove image %s: %v\n", id, err)
		}
	}
}
