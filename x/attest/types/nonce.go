package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// ChallengeNonce derives a challenge nonce from chain state only: SHA-256(chain id || provider
// address bytes || sequence (u64 big-endian) || height (i64 big-endian)). The per-provider
// sequence makes it unique even for several challenges in one block; the chain id keeps nonces of
// one chain from being accepted on another. Every validator computes the same value.
func ChallengeNonce(chainID string, provider []byte, sequence uint64, height int64) []byte {
	h := sha256.New()
	h.Write([]byte(chainID))
	h.Write(provider)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], sequence)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(height))
	h.Write(b[:])
	return h.Sum(nil)
}
