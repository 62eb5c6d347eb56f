// Package attestation builds attestation evidence for tests and dev networks: NRAS detached EATs
// signed by a fake issuer whose key the verifier can be told to trust, and SEV-SNP reports signed
// by go-sev-guest's test-only AMD certificate chain. Both can be broken in controlled ways so that
// every rejection path of x/attest/verify can be exercised.
//
// Nothing here is secure: the SEV-SNP keys are public test keys and a seeded issuer's key is as
// secret as its seed. Never trust either on a real network.
package attestation
