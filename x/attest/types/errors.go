package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/attest. Codes are part of the public API: never renumber. Codes 100-199
// belong to the verifier (x/attest/verify), which shares this codespace.
var (
	ErrInvalidParams  = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidGenesis = errorsmod.Register(ModuleName, 3, "invalid genesis")

	ErrInvalidAddress       = errorsmod.Register(ModuleName, 4, "invalid address")
	ErrInvalidMetro         = errorsmod.Register(ModuleName, 5, "invalid metro code")
	ErrInvalidEndpoint      = errorsmod.Register(ModuleName, 6, "invalid provider endpoint")
	ErrProviderExists       = errorsmod.Register(ModuleName, 7, "provider already registered")
	ErrProviderNotFound     = errorsmod.Register(ModuleName, 8, "provider not registered")
	ErrProviderHasLeases    = errorsmod.Register(ModuleName, 9, "provider has active leases")
	ErrChallengeNotFound    = errorsmod.Register(ModuleName, 10, "challenge not found (never issued, used or expired)")
	ErrChallengeExpired     = errorsmod.Register(ModuleName, 11, "challenge expired")
	ErrChallengeNotYours    = errorsmod.Register(ModuleName, 12, "challenge was issued to another provider")
	ErrInvalidEvidenceType  = errorsmod.Register(ModuleName, 13, "invalid evidence type")
	ErrInvalidGPUClaim      = errorsmod.Register(ModuleName, 14, "malformed GPU claim")
	ErrGPUClaimMismatch     = errorsmod.Register(ModuleName, 15, "claimed GPUs do not match the evidence")
	ErrUnknownSKU           = errorsmod.Register(ModuleName, 16, "GPU SKU has no policy")
	ErrEvidenceTooOld       = errorsmod.Register(ModuleName, 17, "evidence older than max_evidence_age_seconds")
	ErrNotAttested          = errorsmod.Register(ModuleName, 18, "provider holds no valid attestation for the requirements")
	ErrMetroMismatch        = errorsmod.Register(ModuleName, 19, "provider metro differs from the order's")
	ErrRecordNotFound       = errorsmod.Register(ModuleName, 20, "attestation record not found")
	ErrSNPUnpinned          = errorsmod.Register(ModuleName, 21, "SEV-SNP evidence needs a pinned guest measurement")
	ErrGPUAttestedElsewhere = errorsmod.Register(ModuleName, 22, "GPU is attested by another provider")
)
