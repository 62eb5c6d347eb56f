package ingress

import (
	"encoding/binary"
	"fmt"
	"net/http"

	"github.com/cometbft/cometbft/crypto/merkle"
)

// SampleSize is the length of a sample's canonical encoding.
const SampleSize = 8 + 8 + 2

// Sample is one proxied request as the buyer experienced it.
type Sample struct {
	// UnixMillis is when the proxy received the request.
	UnixMillis int64
	// Micros is the time from receipt of the request until the last byte of the response was
	// handed to the server connection.
	Micros uint64
	// Status is the HTTP status written to the client: 502 when the backend could not be
	// reached, 499 when the client went away before the response was complete, and 0 when
	// the response was cut off after its header had been sent (the backend failed mid-body).
	Status uint16
}

// IsError reports whether the sample counts against the provider: a 5xx (including the
// proxy's own 502 for an unreachable backend) or a response cut off mid-body. Client
// cancellations (499) and other 4xx do not.
func (s Sample) IsError() bool {
	return s.Status == 0 || s.Status >= 500
}

// EncodeSample returns the canonical leaf of s: big-endian unix ms (8 bytes, two's
// complement) ‖ latency µs (8 bytes) ‖ status (2 bytes).
func EncodeSample(s Sample) []byte {
	return appendSample(make([]byte, 0, SampleSize), s)
}

func appendSample(b []byte, s Sample) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(s.UnixMillis))
	b = binary.BigEndian.AppendUint64(b, s.Micros)
	return binary.BigEndian.AppendUint16(b, s.Status)
}

// DecodeSamples reverses EncodeSample over a concatenation of encodings.
func DecodeSamples(b []byte) ([]Sample, error) {
	if len(b)%SampleSize != 0 {
		return nil, fmt.Errorf("ingress: %d bytes of samples is not a multiple of %d", len(b), SampleSize)
	}
	out := make([]Sample, 0, len(b)/SampleSize)
	for ; len(b) > 0; b = b[SampleSize:] {
		out = append(out, Sample{
			UnixMillis: int64(binary.BigEndian.Uint64(b)),
			Micros:     binary.BigEndian.Uint64(b[8:]),
			Status:     binary.BigEndian.Uint16(b[16:]),
		})
	}
	return out, nil
}

// SamplesRoot is the RFC 6962 Merkle root (CometBFT's merkle.HashFromByteSlices) over the
// samples' canonical encodings in the given order. With no samples it is SHA-256 of nothing.
func SamplesRoot(samples []Sample) []byte {
	// One backing array for all leaves: a window can hold hundreds of thousands of samples.
	buf := make([]byte, 0, len(samples)*SampleSize)
	leaves := make([][]byte, len(samples))
	for i, s := range samples {
		start := len(buf)
		buf = appendSample(buf, s)
		leaves[i] = buf[start:len(buf):len(buf)]
	}
	return merkle.HashFromByteSlices(leaves)
}

// InLatency reports whether the sample's time counts in the window's latency percentiles. A
// request the client abandoned (499) took as long as the client chose, by uploading or reading
// slowly, and an upgraded connection (101) is a session, not a response: counted, a buyer could
// push the P95 over its SLA on purpose. Both stay in the request count and the samples root.
func (s Sample) InLatency() bool {
	return s.Status != statusClientClosed && s.Status != http.StatusSwitchingProtocols
}
