package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// MarkWindowReported records that lease's SLA window (numbered from 1) was reported, so a
// restarted sidecar does not report it twice, and raises the lease record's LastReportedWindow
// to it in the same transaction: reports land concurrently, and a read-modify-write of the
// record by each could lower it again.
func (s *Store) MarkWindowReported(lease, window uint64) error {
	if window == 0 {
		return fmt.Errorf("mark window reported for lease %d: windows are numbered from 1", lease)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := leaseBucketForWrite(tx, bucketWindows, lease)
		if err != nil {
			return err
		}
		if err := b.Put(encodeU64(window), []byte{}); err != nil {
			return fmt.Errorf("mark window %d of lease %d reported: %w", window, lease, err)
		}
		var r LeaseRecord
		found, err := getJSON(tx.Bucket(bucketLeases), encodeU64(lease), &r)
		if err != nil {
			return err
		}
		if found && r.LastReportedWindow < window {
			r.LastReportedWindow = window
			if err := putJSON(tx.Bucket(bucketLeases), encodeU64(lease), r); err != nil {
				return fmt.Errorf("put lease %d: %w", lease, err)
			}
		}
		// The chain has the window's figures now; its samples are no longer needed.
		if sb := leaseBucket(tx, bucketWindowSamples, lease); sb != nil {
			prefix := encodeU64(window)
			c := sb.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
				if err := sb.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// WindowData is what a lease's SLA window gained, or holds: requests (ingress.EncodeSample
// each, in the order the ingress recorded them) and health probes.
type WindowData struct {
	Window           uint64
	Encoded          []byte
	Probes, ProbesOK uint64
}

// Keys in a lease's window-samples bucket: window ‖ chunk for requests, window alone for the
// probe counts, and window 0 (windows are numbered from 1) for when the last probe ran.
var keyLastProbe = encodeU64(0)

// Measured is what the ingress recorded for a lease since the store last took its measurements.
type Measured struct {
	// Windows is what the lease's unreported SLA windows gained.
	Windows []WindowData
	// LastProbeUnixMs, when not 0, is when the latest probe ran: a restart counts the probes
	// it missed since then as failed.
	LastProbeUnixMs int64
	// Journaled, when not 0, is the last journal segment holding these measurements: a restart
	// replays only the segments after it (see package journal).
	Journaled uint64
	// DowntimeCharged says Windows charge the gaps PutPendingDowntime kept, which are dropped
	// with it, in one transaction: a crash neither loses a gap nor charges it twice.
	DowntimeCharged bool
}

// Gap is a span the sidecar was down for, in unix ms, whose missed probes are not yet charged.
type Gap struct {
	FromUnixMs int64 `json:"from"`
	ToUnixMs   int64 `json:"to"`
}

// keyDowntime holds, in a lease's journal bucket, the gaps waiting to be charged.
var keyDowntime = []byte("down")

// PutPendingDowntime keeps the gaps a restart could not charge yet (the node did not answer,
// and which windows they fell in takes its block times), replacing those kept before: a second
// restart before the charge would otherwise know only of its own gap.
func (s *Store) PutPendingDowntime(lease uint64, gaps []Gap) error {
	v, err := json.Marshal(gaps)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := leaseBucketForWrite(tx, bucketJournal, lease)
		if err != nil {
			return err
		}
		return b.Put(keyDowntime, v)
	})
}

// PendingDowntime is what PutPendingDowntime kept and no charge has dropped since.
func (s *Store) PendingDowntime(lease uint64) ([]Gap, error) {
	var gaps []Gap
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := leaseBucket(tx, bucketJournal, lease); b != nil {
			if v := b.Get(keyDowntime); v != nil {
				return json.Unmarshal(v, &gaps)
			}
		}
		return nil
	})
	return gaps, err
}

// KeepWindows keeps what the ingress recorded since the last call (when a block brought no
// receipt; AppendReceiptWithSamples otherwise), so a restarted sidecar reports each window with
// what it measured before the restart. MarkWindowReported drops a window's data, DropWindows a
// lease's.
func (s *Store) KeepWindows(lease uint64, m Measured) error {
	return s.db.Update(func(tx *bolt.Tx) error { return keepWindows(tx, lease, m) })
}

func keepWindows(tx *bolt.Tx, lease uint64, m Measured) error {
	var b *bolt.Bucket
	bucket := func() (*bolt.Bucket, error) {
		var err error
		if b == nil {
			b, err = leaseBucketForWrite(tx, bucketWindowSamples, lease)
		}
		return b, err
	}
	if m.DowntimeCharged {
		if b := leaseBucket(tx, bucketJournal, lease); b != nil {
			if err := b.Delete(keyDowntime); err != nil {
				return err
			}
		}
	}
	if m.Journaled != 0 {
		b, err := leaseBucketForWrite(tx, bucketJournal, lease)
		if err != nil {
			return err
		}
		if err := b.Put(keyJournaled, encodeU64(m.Journaled)); err != nil {
			return fmt.Errorf("journal mark of lease %d: %w", lease, err)
		}
	}
	for _, w := range m.Windows {
		if w.Window == 0 {
			return fmt.Errorf("window data of lease %d: windows are numbered from 1", lease)
		}
		if len(w.Encoded) > 0 {
			b, err := bucket()
			if err != nil {
				return err
			}
			chunk, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(append(encodeU64(w.Window), encodeU64(chunk)...), w.Encoded); err != nil {
				return fmt.Errorf("samples of window %d of lease %d: %w", w.Window, lease, err)
			}
		}
		if w.Probes > 0 {
			b, err := bucket()
			if err != nil {
				return err
			}
			key := encodeU64(w.Window)
			probes, ok := decodeCounts(b.Get(key))
			if err := b.Put(key, append(encodeU64(probes+w.Probes), encodeU64(ok+w.ProbesOK)...)); err != nil {
				return fmt.Errorf("probes of window %d of lease %d: %w", w.Window, lease, err)
			}
		}
	}
	if m.LastProbeUnixMs != 0 {
		b, err := bucket()
		if err != nil {
			return err
		}
		// Only forward: downtime charged after probes ran again (a restart before the node
		// answered) must not move it back, or the next restart charges that span twice.
		if prev := b.Get(keyLastProbe); prev != nil && int64(decodeU64(prev)) >= m.LastProbeUnixMs {
			return nil
		}
		return b.Put(keyLastProbe, encodeU64(uint64(m.LastProbeUnixMs)))
	}
	return nil
}

func decodeCounts(v []byte) (uint64, uint64) {
	if len(v) != 16 {
		return 0, 0
	}
	return decodeU64(v[:8]), decodeU64(v[8:])
}

// PendingWindows returns what KeepWindows and AppendReceiptWithSamples kept for lease's
// unreported windows, in window order, and when its last kept probe ran (0 if none).
func (s *Store) PendingWindows(lease uint64) ([]WindowData, int64, error) {
	var out []WindowData
	var lastProbe int64
	err := s.db.View(func(tx *bolt.Tx) error {
		b := leaseBucket(tx, bucketWindowSamples, lease)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 && len(k) != 16 {
				return fmt.Errorf("window data of lease %d: bad key %x", lease, k)
			}
			w := decodeU64(k[:8])
			if w == 0 {
				lastProbe = int64(decodeU64(v))
				return nil
			}
			if len(out) == 0 || out[len(out)-1].Window != w {
				out = append(out, WindowData{Window: w})
			}
			last := &out[len(out)-1]
			if len(k) == 8 {
				last.Probes, last.ProbesOK = decodeCounts(v)
			} else {
				last.Encoded = append(last.Encoded, v...)
			}
			return nil
		})
	})
	return out, lastProbe, err
}

// DropWindows forgets all of lease's stored samples and its journal mark (the lease has ended).
func (s *Store) DropWindows(lease uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketWindowSamples, bucketJournal} {
			err := tx.Bucket(name).DeleteBucket(encodeU64(lease))
			if err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return err
			}
		}
		return nil
	})
}

// keyJournaled holds, in a lease's journal bucket, the last journal segment the store took.
var keyJournaled = []byte("sealed")

// Journaled is the last journal segment whose measurements the store holds (0 if none).
func (s *Store) Journaled(lease uint64) (uint64, error) {
	var seg uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := leaseBucket(tx, bucketJournal, lease); b != nil {
			if v := b.Get(keyJournaled); len(v) == 8 {
				seg = decodeU64(v)
			}
		}
		return nil
	})
	return seg, err
}

// WindowReported says whether MarkWindowReported was called for lease's window.
func (s *Store) WindowReported(lease, window uint64) (bool, error) {
	var reported bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := leaseBucket(tx, bucketWindows, lease); b != nil {
			reported = b.Get(encodeU64(window)) != nil
		}
		return nil
	})
	return reported, err
}
