package docker

import (
	"io"
	"os"
	"sync"
	"testing"

	"github.com/docker/docker/client"

	"github.com/computed-network/computed/provider/exec/docker/dockertest"
)

var testImage struct {
	once sync.Once
	id   string // "sha256:..."
	err  error
}

// builtImages are removed after all tests ran; images are shared between tests because building
// one is the slow part.
var (
	builtMu     sync.Mutex
	builtImages []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	removeBuiltImages()
	os.Exit(code)
}

func removeBuiltImages() {
	builtMu.Lock()
	defer builtMu.Unlock()
	if len(builtImages) == 0 {
		return
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return
	}
	defer cli.Close()
	dockertest.RemoveImages(cli, builtImages...)
}

// engine returns a client for the local engine, or skips the test when none answers so that
// machines without Docker stay green.
func engine(t *testing.T) *client.Client {
	t.Helper()
	cli, err := dockertest.Engine()
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// echoImage builds the test image (dockertest.Program) once per test binary and returns its ID.
func echoImage(t *testing.T, cli *client.Client) string {
	t.Helper()
	testImage.once.Do(func() {
		testImage.id, testImage.err = dockertest.BuildEcho(cli)
		if testImage.err == nil {
			builtMu.Lock()
			builtImages = append(builtImages, testImage.id)
			builtMu.Unlock()
		}
	})
	if testImage.err != nil {
		t.Fatalf("build test image: %v", testImage.err)
	}
	return testImage.id
}

func randomHex(n int) string { return dockertest.RandomHex(n) }

func readJSONMessages(r io.Reader) error { return dockertest.ReadJSONMessages(r) }
