package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// ChallengeNonce derives a challenge nonce from chain state only: SHA-256 over the chain id, the
// provider's address bytes, the per-provider sequence, the height and the hash of the block that
// issues it, each variable-length field prefixed with its length (u64 big-endian) so no two
// inputs encode alike. The sequence makes it unique even for several challenges in one block; the
// chain id keeps one chain's nonces off another. The block hash is what makes it unpredictable:
// sequence and height are known in advance, and evidence without a timestamp (an SEV-SNP report)
// made for a predicted nonce would otherwise prove nothing about when the machine ran. Every
// validator computes the same value.
func ChallengeNonce(chainID string, provider []byte, sequence uint64, height int64, blockHash []byte) []byte {
	h := sha256.New()
	var b [8]byte
	field := func(p []byte) {
		binary.BigEndian.PutUint64(b[:], uint64(len(p)))
		h.Write(b[:])
		h.Write(p)
	}
	field([]byte(chainID))
	field(provider)
	binary.BigEndian.PutUint64(b[:], sequence)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(height))
	h.Write(b[:])
	field(blockHash)
	return h.Sum(nil)
}
