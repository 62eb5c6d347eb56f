// Package verify holds the pure attestation verifiers of x/attest: NVIDIA NRAS detached EATs and
// AMD SEV-SNP reports.
//
// Everything here runs inside consensus, so every function is a pure function of its arguments:
// the clock is the block time passed in by the caller, trusted keys and roots are passed in (never
// fetched, never taken from an embedded default), no floating point is used, and whenever several
// things could fail the checks run in a fixed order so that every validator returns the same
// sentinel error for the same input. Inputs are size-checked against a caller-supplied bound
// before any parsing.
package verify
