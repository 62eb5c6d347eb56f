package state

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

// crashChildEnv names the state file the helper process hammers until it is killed.
const crashChildEnv = "STATE_CRASH_CHILD_PATH"

var crashLeases = []uint64{1, 2}

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild appends receipts, cuts batches and moves them along, forever, as a sidecar would;
// the parent SIGKILLs it at a random moment.
func crashChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	for {
		lease := crashLeases[rng.IntN(len(crashLeases))]
		for range 1 + rng.IntN(4) {
			if _, err := appendTestLeaf(s, lease); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
		if rng.IntN(3) == 0 {
			if _, err := s.CutBatch(lease, 1+rng.IntN(6)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
		pending, err := s.PendingBatches(lease)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if len(pending) > 0 && rng.IntN(4) == 0 {
			if err := s.MarkBatchSent(lease, pending[0].First, "tx"); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
		if len(pending) > 1 && rng.IntN(6) == 0 {
			if err := s.MarkBatchAcked(lease, pending[0].First, 1); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
	}
}

// TestCrashSafety kills a writer at random moments and checks, after each kill, that the file
// is consistent and that nothing committed before was lost or changed.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills helper processes")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	seen := map[uint64]crashSnapshot{}
	const kills = 8
	for round := range kills {
		runAndKill(t, path, time.Duration(5+rng.IntN(150))*time.Millisecond)
		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		for _, lease := range crashLeases {
			snap := checkConsistent(t, s, lease)
			checkNothingLost(t, seen[lease], snap, lease)
			seen[lease] = snap
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var receipts, batches int
	for _, snap := range seen {
		receipts += int(snap.next - 1)
		batches += len(snap.batches)
	}
	t.Logf("%d kills: %d receipts, %d batches survived consistent", kills, receipts, batches)
	if receipts == 0 || batches == 0 {
		t.Fatal("the helper made no progress; the test checked nothing")
	}
}

func runAndKill(t *testing.T, path string, after time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper did not start: %q, %v; stderr: %s", line, err, stderr.String())
	}
	time.Sleep(after)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended on its own (%v), not by the kill; stderr: %s", err, stderr.String())
	}
}

type crashSnapshot struct {
	next    uint64
	batches []Batch
}

func checkConsistent(t *testing.T, s *Store, lease uint64) crashSnapshot {
	t.Helper()
	next, err := s.NextSequence(lease)
	if err != nil {
		t.Fatal(err)
	}
	receipts, err := s.Receipts(lease, 1, next-1)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(receipts)) != next-1 {
		t.Fatalf("lease %d: %d receipts below next sequence %d", lease, len(receipts), next)
	}
	for i, r := range receipts {
		want, _ := testLeaf(lease, uint64(i+1)).LeafBytes()
		got, _ := r.LeafBytes()
		if !bytes.Equal(got, want) {
			t.Fatalf("lease %d: receipt at position %d is not receipt %d", lease, i, i+1)
		}
	}
	batches, err := s.Batches(lease)
	if err != nil {
		t.Fatal(err)
	}
	covered := uint64(0)
	for _, b := range batches {
		if b.First != covered+1 || b.Last < b.First || b.Count != b.Last-b.First+1 || b.Last > next-1 {
			t.Fatalf("lease %d: batch %d..%d (count %d) does not follow %d within %d receipts", lease, b.First, b.Last, b.Count, covered, next-1)
		}
		root, _, err := slatypes.ReceiptTree(receipts[b.First-1 : b.Last])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root, b.Root) {
			t.Fatalf("lease %d: batch %d..%d root does not match its receipts", lease, b.First, b.Last)
		}
		covered = b.Last
	}
	// Every receipt up to the last cut lies in exactly one batch (contiguity above gives at
	// most one); BatchFor must find it.
	for seq := uint64(1); seq <= covered; seq++ {
		b, err := s.BatchFor(lease, seq)
		if err != nil || seq < b.First || seq > b.Last {
			t.Fatalf("lease %d: receipt %d in no batch: %+v, %v", lease, seq, b, err)
		}
	}
	return crashSnapshot{next: next, batches: batches}
}

// checkNothingLost: a kill may lose only the call in flight, never anything committed before
// the previous reopen, and a cut batch never changes range or root.
func checkNothingLost(t *testing.T, before, after crashSnapshot, lease uint64) {
	t.Helper()
	if after.next < before.next {
		t.Fatalf("lease %d: next sequence went back from %d to %d", lease, before.next, after.next)
	}
	if len(after.batches) < len(before.batches) {
		t.Fatalf("lease %d: %d batches became %d", lease, len(before.batches), len(after.batches))
	}
	for i, b := range before.batches {
		a := after.batches[i]
		if a.First != b.First || a.Last != b.Last || !bytes.Equal(a.Root, b.Root) {
			t.Fatalf("lease %d: batch %d..%d changed to %d..%d", lease, b.First, b.Last, a.First, a.Last)
		}
		if b.State == BatchAcked && a.State != BatchAcked {
			t.Fatalf("lease %d: acked batch %d went back to %s", lease, b.First, a.State)
		}
	}
}
