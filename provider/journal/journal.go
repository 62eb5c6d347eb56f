// Package journal keeps what a lease's ingress measured since the sidecar last wrote to its
// store: every request and every health probe, appended to a file as it happens. The store
// takes measurements once per block, with that block's receipt; a sidecar killed in between
// would otherwise lose the requests it had already answered (missing from receipts and from the
// SLA window's figures) and the probes it had run.
//
// Each record is written with its own write(2), before the ingress sends the response, so a
// process killed at any point has handed every answered request to the kernel, which keeps it.
// There is no fsync per record: at thousands of requests a second it would cost far more than
// the proxy's latency budget. Sync, called on a timer off the request path, makes what was
// written durable, so a power loss can lose only what came after the last Sync; a record
// garbled that way fails its checksum and is dropped, never misread.
//
// The journal is a run of numbered segment files. Seal ends the current segment when the
// caller takes the records it holds into the store; the store keeps the number sealed in the
// same transaction; after a restart, Open skips and deletes segments up to that number and
// returns the rest, which the store does not hold yet. So no record is lost or counted twice.
package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/computed-network/computed/provider/ingress"
)

// recordSize is one record on disk: kind (1) ‖ window (8) ‖ body (19) ‖ CRC-32C of the rest (4).
const recordSize = 32

const (
	kindRequest = 1
	kindProbe   = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Entry is one journaled measurement: a request (Sample) or a health probe (Probe true, OK,
// AtUnixMs), in the SLA window the ingress put it in.
type Entry struct {
	Window uint64
	Probe  bool
	Sample ingress.Sample
	OK     bool
	// AtUnixMs is when the probe ran.
	AtUnixMs int64
}

// Journal is one lease's journal. Its methods are safe for concurrent use.
type Journal struct {
	dir string

	mu     sync.Mutex
	cur    uint64   // the segment records go to
	f      *os.File // cur's file, opened at its first record
	onDisk []uint64 // segments with a file, ascending
	buf    [recordSize]byte
	// dirty: records written since the last Sync; created: the current segment's file is new
	// since then, so its directory entry needs syncing too.
	dirty, created bool
}

// Replay is what Open found that the store does not hold yet.
type Replay struct {
	Entries []Entry
	// Dropped counts records that failed their checksum or were cut short (a power loss
	// mid-write), skipped.
	Dropped int
}

// Open opens the journal in dir (creating it). Segments up to sealed, the last one the store
// took, are deleted; the records of later segments are returned in the order they were written.
// Later records go to a new segment, after every existing one.
func Open(dir string, sealed uint64) (*Journal, Replay, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, Replay{}, fmt.Errorf("journal: %w", err)
	}
	segs, err := segments(dir)
	if err != nil {
		return nil, Replay{}, err
	}
	j := &Journal{dir: dir, cur: sealed + 1}
	var rep Replay
	for _, seg := range segs {
		if seg <= sealed {
			if err := os.Remove(j.path(seg)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, Replay{}, fmt.Errorf("journal: %w", err)
			}
			continue
		}
		raw, err := os.ReadFile(j.path(seg))
		if err != nil {
			return nil, Replay{}, fmt.Errorf("journal: %w", err)
		}
		entries, dropped := decode(raw)
		rep.Entries = append(rep.Entries, entries...)
		rep.Dropped += dropped
		j.onDisk = append(j.onDisk, seg)
		j.cur = max(j.cur, seg+1)
	}
	return j, rep, nil
}

// segments lists dir's segment numbers, ascending.
func segments(dir string) ([]uint64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []uint64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".log")
		if !ok || de.IsDir() {
			continue
		}
		if seg, err := strconv.ParseUint(name, 10, 64); err == nil && seg > 0 {
			out = append(out, seg)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (j *Journal) path(seg uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d.log", seg))
}

// Request journals an answered request. It is called before the response leaves the proxy.
func (j *Journal) Request(window uint64, s ingress.Sample) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.head(kindRequest, window)
	binary.BigEndian.PutUint64(b[9:], uint64(s.UnixMillis))
	binary.BigEndian.PutUint64(b[17:], s.Micros)
	binary.BigEndian.PutUint16(b[25:], s.Status)
	return j.write()
}

// Probe journals a health probe that ran at atUnixMs.
func (j *Journal) Probe(window uint64, ok bool, atUnixMs int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.head(kindProbe, window)
	if ok {
		b[9] = 1
	}
	binary.BigEndian.PutUint64(b[10:], uint64(atUnixMs))
	return j.write()
}

// head clears the record buffer and fills in kind and window.
func (j *Journal) head(kind byte, window uint64) []byte {
	j.buf = [recordSize]byte{}
	j.buf[0] = kind
	binary.BigEndian.PutUint64(j.buf[1:], window)
	return j.buf[:]
}

func (j *Journal) write() error {
	binary.BigEndian.PutUint32(j.buf[recordSize-4:], crc32.Checksum(j.buf[:recordSize-4], castagnoli))
	if j.f == nil {
		f, err := os.OpenFile(j.path(j.cur), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		j.f = f
		j.onDisk = append(j.onDisk, j.cur)
		j.created = true
	}
	if _, err := j.f.Write(j.buf[:]); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.dirty = true
	return nil
}

// Sync makes the records written so far durable: it syncs the current segment's file (and the
// directory, when the file is new). The lock is held only to pick the file, so records go on
// being written while the disk syncs. A segment sealed meanwhile needs no sync: its records
// went to the store, which syncs its own commits.
func (j *Journal) Sync() error {
	j.mu.Lock()
	f, dirty, created := j.f, j.dirty, j.created
	j.dirty, j.created = false, false
	j.mu.Unlock()
	if f == nil || !dirty {
		return nil
	}
	if err := f.Sync(); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return nil
		}
		j.markDirty(f, created)
		return fmt.Errorf("journal: %w", err)
	}
	if created {
		if err := syncDir(j.dir); err != nil {
			j.markDirty(f, created)
			return fmt.Errorf("journal: %w", err)
		}
	}
	return nil
}

// markDirty has the next Sync try again after a failed one, the directory too when the failed
// one was to sync it (a segment whose directory entry was never synced can vanish whole in a
// power cut), unless f was sealed meanwhile (the store holds its records).
func (j *Journal) markDirty(f *os.File, created bool) {
	j.mu.Lock()
	if j.f == f {
		j.dirty = true
		j.created = j.created || created
	}
	j.mu.Unlock()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Seal ends the current segment and returns its number: every record journaled before the call
// is in a segment up to it, every later one in a later segment. Call it while no record can be
// added (the caller's lock), as the caller takes the records into its store, and keep the
// number with them there.
func (j *Journal) Seal() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		// The records are in the kernel already; a failed close loses nothing.
		_ = j.f.Close()
		j.f = nil
	}
	j.cur++
	return j.cur - 1
}

// Drop deletes the segments up to sealed, once the store holds their records.
func (j *Journal) Drop(sealed uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	keep := j.onDisk[:0]
	for _, seg := range j.onDisk {
		if seg > sealed || seg == j.cur {
			keep = append(keep, seg)
			continue
		}
		if err := os.Remove(j.path(seg)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			keep = append(keep, seg) // tried again at the next Drop
		}
	}
	j.onDisk = keep
	if len(errs) > 0 {
		return fmt.Errorf("journal: %w", errors.Join(errs...))
	}
	return nil
}

// Close closes the current segment; the journal's files stay for the next Open.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Remove closes the journal and deletes its directory (the lease has ended).
func (j *Journal) Remove() error {
	_ = j.Close()
	return RemoveDir(j.dir)
}

// RemoveDir deletes a journal directory, whether or not it exists.
func RemoveDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// decode reads a segment's records; a record that fails its checksum or is cut short is
// counted and skipped.
func decode(raw []byte) ([]Entry, int) {
	var out []Entry
	dropped := 0
	for ; len(raw) > 0; raw = raw[min(recordSize, len(raw)):] {
		if len(raw) < recordSize {
			dropped++
			break
		}
		r := raw[:recordSize]
		if binary.BigEndian.Uint32(r[recordSize-4:]) != crc32.Checksum(r[:recordSize-4], castagnoli) {
			dropped++
			continue
		}
		e := Entry{Window: binary.BigEndian.Uint64(r[1:])}
		switch r[0] {
		case kindRequest:
			e.Sample = ingress.Sample{
				UnixMillis: int64(binary.BigEndian.Uint64(r[9:])),
				Micros:     binary.BigEndian.Uint64(r[17:]),
				Status:     binary.BigEndian.Uint16(r[25:]),
			}
		case kindProbe:
			e.Probe, e.OK, e.AtUnixMs = true, r[9] == 1, int64(binary.BigEndian.Uint64(r[10:]))
		default:
			dropped++
			continue
		}
		out = append(out, e)
	}
	return out, dropped
}
