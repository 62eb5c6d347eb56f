package verify

import errorsmod "cosmossdk.io/errors"

// codespace equals x/attest/types.ModuleName. It is repeated rather than imported so that types
// (which will hold params built from this package's policies) can import verify without a cycle;
// x/attest/types/errors_test.go pins the two together.
const codespace = "attest"

// Sentinel errors. Codes start at 100 so they never clash with x/attest/types (2, 3, ...). Codes
// are part of the public API (they end up in tx results): never renumber, only append.
var (
	// Caller and input framing.
	ErrInvalidArgument  = errorsmod.Register(codespace, 100, "invalid verifier argument")
	ErrEvidenceTooLarge = errorsmod.Register(codespace, 101, "evidence exceeds size limit")
	ErrEvidenceEmpty    = errorsmod.Register(codespace, 102, "evidence is empty")

	// Detached EAT structure.
	ErrEATMalformedJSON = errorsmod.Register(codespace, 110, "detached EAT is not valid JSON")
	ErrEATNotArray      = errorsmod.Register(codespace, 111, "detached EAT is not a two-element JSON array")
	ErrEATBadShape      = errorsmod.Register(codespace, 112, "detached EAT elements have the wrong shape")

	// JWS / JWT.
	ErrJWTMalformed      = errorsmod.Register(codespace, 120, "malformed compact JWT")
	ErrAlgNone           = errorsmod.Register(codespace, 121, "unsigned JWT (alg none) rejected")
	ErrAlgSymmetric      = errorsmod.Register(codespace, 122, "symmetric JWT algorithm rejected")
	ErrAlgNotAllowed     = errorsmod.Register(codespace, 123, "JWT algorithm not allowed (only ES384)")
	ErrMissingKid        = errorsmod.Register(codespace, 124, "JWT header has no kid")
	ErrUnknownKid        = errorsmod.Register(codespace, 125, "JWT kid not in trusted key set")
	ErrBadSignature      = errorsmod.Register(codespace, 126, "JWT signature invalid")
	ErrClaimMissing      = errorsmod.Register(codespace, 127, "required claim missing")
	ErrClaimMalformed    = errorsmod.Register(codespace, 128, "claim has the wrong type or format")
	ErrTokenExpired      = errorsmod.Register(codespace, 129, "token expired")
	ErrTokenNotYetValid  = errorsmod.Register(codespace, 130, "token not yet valid (nbf)")
	ErrTokenIssuedFuture = errorsmod.Register(codespace, 131, "token issued in the future (iat)")
	ErrWrongIssuer       = errorsmod.Register(codespace, 132, "token issuer not accepted")
	ErrNonceMismatch     = errorsmod.Register(codespace, 133, "eat_nonce does not match expected nonce")
	ErrCritHeader        = errorsmod.Register(codespace, 134, "JWT header carries unsupported crit/jku/jwk/x5u")

	// NRAS verdict and submodules.
	ErrOverallResultFalse   = errorsmod.Register(codespace, 140, "NRAS overall attestation result is not true")
	ErrSubmodMalformed      = errorsmod.Register(codespace, 141, "submods entry malformed")
	ErrSubmodDigestMismatch = errorsmod.Register(codespace, 142, "submods digest does not match GPU token")
	ErrMissingGPUToken      = errorsmod.Register(codespace, 143, "submods names a GPU with no token")
	ErrExtraGPUToken        = errorsmod.Register(codespace, 144, "GPU token not named in submods")
	ErrGPUCountMismatch     = errorsmod.Register(codespace, 145, "number of GPUs differs from policy")
	ErrUnexpectedSubmod     = errorsmod.Register(codespace, 146, "submod key is not GPU-<n>")
	ErrTooManyGPUs          = errorsmod.Register(codespace, 147, "too many GPU tokens")
	ErrNoGPUs               = errorsmod.Register(codespace, 148, "evidence attests no GPU")
	ErrDuplicateGPU         = errorsmod.Register(codespace, 149, "two GPU tokens attest the same GPU (ueid)")

	// Per-GPU policy.
	ErrGPUNonceMismatch     = errorsmod.Register(codespace, 150, "GPU token eat_nonce does not match expected nonce")
	ErrGPUModelNotAllowed   = errorsmod.Register(codespace, 151, "GPU hwmodel not allowed")
	ErrGPUMeasurementFailed = errorsmod.Register(codespace, 152, "GPU measurement result is not success")
	ErrGPUSecureBootOff     = errorsmod.Register(codespace, 153, "GPU secure boot is not enabled")
	ErrGPUDebugEnabled      = errorsmod.Register(codespace, 154, "GPU debug status is not disabled")
	ErrGPUDriverTooOld      = errorsmod.Register(codespace, 155, "GPU driver version below minimum")
	ErrGPUVBIOSNotAllowed   = errorsmod.Register(codespace, 156, "GPU VBIOS version not allowed")

	// Trusted key material supplied by the caller.
	ErrKeySetInvalid   = errorsmod.Register(codespace, 160, "invalid trusted key set")
	ErrSNPRootsInvalid = errorsmod.Register(codespace, 161, "invalid AMD root certificates")
	// ErrSignerNotCertified: a submitted NRAS signing key whose x5c chain does not lead to a
	// trusted CA at block time (or is malformed).
	ErrSignerNotCertified = errorsmod.Register(codespace, 162, "NRAS signing key not certified by a trusted CA")

	// SEV-SNP.
	ErrSNPEnvelopeMalformed     = errorsmod.Register(codespace, 170, "SEV-SNP evidence envelope malformed")
	ErrSNPReportMalformed       = errorsmod.Register(codespace, 171, "SEV-SNP report malformed")
	ErrSNPCertMalformed         = errorsmod.Register(codespace, 172, "SEV-SNP endorsement certificate malformed")
	ErrSNPSignerUnsupported     = errorsmod.Register(codespace, 173, "SEV-SNP report signer not VCEK or VLEK")
	ErrSNPCertExpired           = errorsmod.Register(codespace, 174, "SEV-SNP certificate expired")
	ErrSNPCertNotYetValid       = errorsmod.Register(codespace, 175, "SEV-SNP certificate not yet valid")
	ErrSNPUntrustedChain        = errorsmod.Register(codespace, 176, "SEV-SNP certificate chain does not lead to a trusted AMD root")
	ErrSNPBadSignature          = errorsmod.Register(codespace, 177, "SEV-SNP report signature invalid")
	ErrSNPDebugAllowed          = errorsmod.Register(codespace, 178, "SEV-SNP guest policy allows debugging")
	ErrSNPTCBTooLow             = errorsmod.Register(codespace, 179, "SEV-SNP reported TCB below minimum")
	ErrSNPReportDataMismatch    = errorsmod.Register(codespace, 180, "SEV-SNP REPORT_DATA does not start with expected nonce")
	ErrSNPMeasurementNotAllowed = errorsmod.Register(codespace, 181, "SEV-SNP measurement not allowed")
	ErrSNPPolicyViolation       = errorsmod.Register(codespace, 182, "SEV-SNP report violates validation policy")
	ErrSNPMigrationAgent        = errorsmod.Register(codespace, 183, "SEV-SNP guest policy allows a migration agent")
)
