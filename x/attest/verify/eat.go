package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"

	errorsmod "cosmossdk.io/errors"
)

// NRAS claim names, as found in real NRAS v3 tokens (see the fixtures README).
const (
	claimNonce         = "eat_nonce"
	claimOverallResult = "x-nvidia-overall-att-result"
	claimSubmods       = "submods"
	claimHWModel       = "hwmodel"
	claimUEID          = "ueid"
	claimMeasRes       = "measres"
	claimSecBoot       = "secboot"
	claimDbgStat       = "dbgstat"
	claimDriverVersion = "x-nvidia-gpu-driver-version"
	claimVBIOSVersion  = "x-nvidia-gpu-vbios-version"
)

// NRASIssuer is the iss of production NRAS tokens.
const NRASIssuer = "https://nras.attestation.nvidia.com"

// NonceSize is the length of the challenge nonce bound into evidence.
const NonceSize = 32

// MaxLeeway bounds the clock skew a caller may tolerate. Block time is consensus time, so only
// NRAS's own clock can be off; minutes are plenty, and a large value would quietly extend tokens.
const MaxLeeway = 10 * time.Minute

// NRASOptions are the inputs of VerifyNRAS besides the evidence itself.
type NRASOptions struct {
	// Keys are the trusted NRAS signing keys, by kid.
	Keys NRASKeySet
	// Issuer is the required iss of every token (NRASIssuer in production).
	Issuer string
	// Nonce is the challenge the verifier issued; eat_nonce must equal it.
	Nonce []byte
	// Now is the block time. Tokens must satisfy iat <= Now < exp and nbf <= Now.
	Now time.Time
	// Leeway widens every time check by this much; zero unless there is a reason.
	Leeway time.Duration
	// Policy applies to every GPU token.
	Policy GPUPolicy
}

// GPUResult is what one GPU token attested. Absent string claims are empty.
type GPUResult struct {
	// ID is the submods key, e.g. "GPU-0"; Index is its number.
	ID            string
	Index         uint32
	HWModel       string
	UEID          string
	DriverVersion string
	VBIOSVersion  string
	MeasRes       string
	DebugStatus   string
	SecureBoot    bool
	IssuedAt      int64
	ExpiresAt     int64
}

// NRASResult is the outcome of a successful VerifyNRAS.
type NRASResult struct {
	// EvidenceSHA256 hashes the evidence bytes exactly as submitted. ECDSA signatures are
	// malleable, so the same attestation can have several hashes: use the nonce, not this hash,
	// to detect replays.
	EvidenceSHA256 [32]byte
	// Kid signed the overall token.
	Kid       string
	IssuedAt  int64
	ExpiresAt int64
	// GPUs are in numeric order of their index.
	GPUs []GPUResult
	// SignaturesVerified counts ECDSA verifications performed, for gas accounting.
	SignaturesVerified int
}

// GPUToken is one GPU's compact JWT from the detached EAT's second element.
type GPUToken struct {
	ID    string
	Index uint32
	JWT   string
}

// DetachedEAT is the parsed but unverified shape [["JWT", overall], {"GPU-0": jwt, ...}].
type DetachedEAT struct {
	Overall string
	// GPUs are sorted by Index.
	GPUs []GPUToken
}

// ParseDetachedEAT checks the outer structure of NRAS evidence and the GPU-<n> naming without
// verifying anything. VerifyNRAS does the same steps, but authenticates the overall token before
// looking at GPU names.
func ParseDetachedEAT(evidence []byte) (*DetachedEAT, error) {
	overall, members, err := parseEATShape(evidence)
	if err != nil {
		return nil, err
	}
	gpus, err := gpuTokens(members)
	if err != nil {
		return nil, err
	}
	return &DetachedEAT{Overall: overall, GPUs: gpus}, nil
}

// parseEATShape splits [["JWT", overall], {name: jwt, ...}] into its strings.
func parseEATShape(evidence []byte) (string, map[string]string, error) {
	if !json.Valid(evidence) {
		return "", nil, ErrEATMalformedJSON
	}
	trimmed := bytes.TrimLeft(evidence, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return "", nil, errorsmod.Wrap(ErrEATNotArray, "top level is not an array")
	}
	var outer []json.RawMessage
	if err := json.Unmarshal(evidence, &outer); err != nil {
		return "", nil, errorsmod.Wrapf(ErrEATNotArray, "%v", err)
	}
	if len(outer) != 2 {
		return "", nil, errorsmod.Wrapf(ErrEATNotArray, "array has %d elements, want 2", len(outer))
	}
	var head []json.RawMessage
	if err := json.Unmarshal(outer[0], &head); err != nil || len(head) != 2 {
		return "", nil, errorsmod.Wrap(ErrEATBadShape, `first element must be ["JWT", token]`)
	}
	var typ, overall string
	if json.Unmarshal(head[0], &typ) != nil || typ != "JWT" {
		return "", nil, errorsmod.Wrap(ErrEATBadShape, `first element must start with "JWT"`)
	}
	if isNull(head[1]) || json.Unmarshal(head[1], &overall) != nil || overall == "" {
		return "", nil, errorsmod.Wrap(ErrEATBadShape, "overall token is not a non-empty string")
	}
	members, err := decodeObject(outer[1])
	if err != nil {
		return "", nil, errorsmod.Wrapf(ErrEATBadShape, "token map: %v", err)
	}
	// Bound the work before any signature is checked.
	if len(members) > MaxGPUs {
		return "", nil, errorsmod.Wrapf(ErrTooManyGPUs, "%d tokens, limit %d", len(members), MaxGPUs)
	}
	tokens := make(map[string]string, len(members))
	for _, name := range sortedKeys(members) {
		var tok string
		if isNull(members[name]) || json.Unmarshal(members[name], &tok) != nil || tok == "" {
			return "", nil, errorsmod.Wrapf(ErrEATBadShape, "%s token is not a non-empty string", truncate(name))
		}
		tokens[name] = tok
	}
	return overall, tokens, nil
}

// gpuTokens validates the token names and orders them by GPU index.
func gpuTokens(members map[string]string) ([]GPUToken, error) {
	out := make([]GPUToken, 0, len(members))
	for _, name := range sortedKeys(members) {
		idx, err := parseGPUID(name)
		if err != nil {
			return nil, err
		}
		out = append(out, GPUToken{ID: name, Index: idx, JWT: members[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// parseGPUID accepts exactly "GPU-<n>" with n in canonical decimal (no sign, no leading zero), so
// that two different keys can never name the same GPU. NVSwitch ("SWITCH-0") is not a GPU.
func parseGPUID(id string) (uint32, error) {
	digits, ok := strings.CutPrefix(id, "GPU-")
	if !ok || digits == "" || len(digits) > 4 || (len(digits) > 1 && digits[0] == '0') {
		return 0, errorsmod.Wrapf(ErrUnexpectedSubmod, "%q", truncate(id))
	}
	var n uint32
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, errorsmod.Wrapf(ErrUnexpectedSubmod, "%q", truncate(id))
		}
		n = n*10 + uint32(c-'0')
	}
	return n, nil
}

// VerifyNRAS verifies an NVIDIA NRAS detached EAT. Evidence longer than maxBytes is rejected before
// any parsing. The checks run in this order, and the first failure is returned:
//
//  1. arguments and size; outer JSON shape (at most MaxGPUs tokens);
//  2. overall token: alg ES384, kid known, signature, iss, exp/nbf/iat, eat_nonce,
//     x-nvidia-overall-att-result == true;
//  3. submods: each entry is ["DIGEST", ["SHA-256", hex]], keys and token names are GPU-<n>, the
//     key set equals the GPU token set, the count matches the policy, each digest is SHA-256 of
//     that GPU's compact JWT;
//  4. each GPU token in index order: the same token checks, eat_nonce if present, then the policy.
func VerifyNRAS(evidence []byte, maxBytes int, opts NRASOptions) (*NRASResult, error) {
	if maxBytes <= 0 {
		return nil, errorsmod.Wrapf(ErrInvalidArgument, "maxBytes %d", maxBytes)
	}
	if len(evidence) > maxBytes {
		return nil, errorsmod.Wrapf(ErrEvidenceTooLarge, "%d bytes, limit %d", len(evidence), maxBytes)
	}
	if len(evidence) == 0 {
		return nil, ErrEvidenceEmpty
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	overallJWT, members, err := parseEATShape(evidence)
	if err != nil {
		return nil, err
	}
	checker := &tokenChecker{
		keys:   opts.Keys,
		issuer: opts.Issuer,
		now:    opts.Now.Unix(),
		leeway: int64(opts.Leeway / time.Second),
	}
	res := &NRASResult{EvidenceSHA256: sha256.Sum256(evidence)}

	overall, err := checker.verify(overallJWT)
	if err != nil {
		return nil, errorsmod.Wrap(err, "overall token")
	}
	res.SignaturesVerified++
	res.Kid, res.IssuedAt, res.ExpiresAt = overall.kid, overall.issuedAt, overall.expiresAt
	if err := checkNonce(overall.claims, opts.Nonce, true, ErrNonceMismatch); err != nil {
		return nil, errorsmod.Wrap(err, "overall token")
	}
	ok, present, err := getBool(overall.claims, claimOverallResult)
	switch {
	case err != nil:
		return nil, errorsmod.Wrap(ErrClaimMalformed, err.Error())
	case !present:
		return nil, errorsmod.Wrap(ErrClaimMissing, claimOverallResult)
	case !ok:
		return nil, ErrOverallResultFalse
	}

	digests, err := parseSubmods(overall.claims)
	if err != nil {
		return nil, err
	}
	gpus, err := gpuTokens(members)
	if err != nil {
		return nil, err
	}
	if err := matchSubmods(digests, gpus); err != nil {
		return nil, err
	}
	if n := opts.Policy.ExpectedGPUCount; n != 0 && len(gpus) != n {
		return nil, errorsmod.Wrapf(ErrGPUCountMismatch, "%d GPUs, policy expects %d", len(gpus), n)
	}
	// Digests first: they are cheap and bind the GPU tokens to the already verified overall token.
	for _, g := range gpus {
		got := sha256.Sum256([]byte(g.JWT))
		if want := digests[g.ID]; !bytes.Equal(got[:], want) {
			return nil, errorsmod.Wrapf(ErrSubmodDigestMismatch, "%s", g.ID)
		}
	}
	res.GPUs = make([]GPUResult, 0, len(gpus))
	seen := make(map[string]string, len(gpus)) // ueid → GPU id
	for _, g := range gpus {
		tok, err := checker.verify(g.JWT)
		if err != nil {
			return nil, errorsmod.Wrap(err, g.ID)
		}
		res.SignaturesVerified++
		if err := checkNonce(tok.claims, opts.Nonce, false, ErrGPUNonceMismatch); err != nil {
			return nil, errorsmod.Wrap(err, g.ID)
		}
		gr, err := gpuResult(g, tok)
		if err != nil {
			return nil, err
		}
		if err := opts.Policy.checkGPU(gr); err != nil {
			return nil, err
		}
		// One GPU counted twice would attest more GPUs than the host has.
		if first, dup := seen[gr.UEID]; dup && gr.UEID != "" {
			return nil, errorsmod.Wrapf(ErrDuplicateGPU, "%s and %s are ueid %s", first, g.ID, gr.UEID)
		}
		seen[gr.UEID] = g.ID
		res.GPUs = append(res.GPUs, *gr)
	}
	return res, nil
}

func (o NRASOptions) validate() error {
	if len(o.Keys) == 0 {
		return errorsmod.Wrap(ErrInvalidArgument, "empty key set")
	}
	if o.Issuer == "" {
		return errorsmod.Wrap(ErrInvalidArgument, "empty issuer")
	}
	if len(o.Nonce) != NonceSize {
		return errorsmod.Wrapf(ErrInvalidArgument, "nonce is %d bytes, want %d", len(o.Nonce), NonceSize)
	}
	if o.Now.IsZero() {
		return errorsmod.Wrap(ErrInvalidArgument, "zero time")
	}
	if o.Leeway < 0 || o.Leeway > MaxLeeway {
		return errorsmod.Wrapf(ErrInvalidArgument, "leeway %s not in 0..%s", o.Leeway, MaxLeeway)
	}
	return o.Policy.Validate()
}

// checkNonce compares eat_nonce (hex, any case) with the expected nonce. GPU tokens of some NRAS
// versions omit it; the overall token always carries it.
func checkNonce(claims map[string]json.RawMessage, want []byte, required bool, sentinel *errorsmod.Error) error {
	s, present, err := getString(claims, claimNonce)
	if err != nil {
		return errorsmod.Wrap(ErrClaimMalformed, err.Error())
	}
	if !present {
		if required {
			return errorsmod.Wrap(ErrClaimMissing, claimNonce)
		}
		return nil
	}
	got, err := hex.DecodeString(s)
	if err != nil || !bytes.Equal(got, want) {
		return errorsmod.Wrapf(sentinel, "eat_nonce %q", truncate(s))
	}
	return nil
}

// parseSubmods reads submods: {"GPU-0": ["DIGEST", ["SHA-256", "<hex>"]], ...}.
func parseSubmods(claims map[string]json.RawMessage) (map[string][]byte, error) {
	raw, ok := claims[claimSubmods]
	if !ok || isNull(raw) {
		return nil, errorsmod.Wrap(ErrClaimMissing, claimSubmods)
	}
	members, err := decodeObject(raw)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSubmodMalformed, "%v", err)
	}
	if len(members) > MaxGPUs {
		return nil, errorsmod.Wrapf(ErrTooManyGPUs, "%d submods, limit %d", len(members), MaxGPUs)
	}
	out := make(map[string][]byte, len(members))
	for _, id := range sortedKeys(members) {
		if _, err := parseGPUID(id); err != nil {
			return nil, err
		}
		d, err := parseDigest(members[id])
		if err != nil {
			return nil, errorsmod.Wrapf(ErrSubmodMalformed, "%s: %v", id, err)
		}
		out[id] = d
	}
	return out, nil
}

func parseDigest(raw json.RawMessage) ([]byte, error) {
	var entry []json.RawMessage
	if err := json.Unmarshal(raw, &entry); err != nil || len(entry) != 2 {
		return nil, errorsmod.Wrap(ErrSubmodMalformed, `want ["DIGEST", [alg, hex]]`)
	}
	var kind string
	if json.Unmarshal(entry[0], &kind) != nil || kind != "DIGEST" {
		return nil, errorsmod.Wrap(ErrSubmodMalformed, `want "DIGEST"`)
	}
	var pair []string
	if err := json.Unmarshal(entry[1], &pair); err != nil || len(pair) != 2 {
		return nil, errorsmod.Wrap(ErrSubmodMalformed, "want [alg, hex]")
	}
	if pair[0] != "SHA-256" {
		return nil, errorsmod.Wrapf(ErrSubmodMalformed, "digest alg %q, want SHA-256", truncate(pair[0]))
	}
	d, err := hex.DecodeString(pair[1])
	if err != nil || len(d) != sha256.Size {
		return nil, errorsmod.Wrap(ErrSubmodMalformed, "digest is not 32 bytes of hex")
	}
	return d, nil
}

// matchSubmods requires the submods key set and the GPU token set to be equal, naming the lowest
// offending key first so the error is the same on every node.
func matchSubmods(digests map[string][]byte, gpus []GPUToken) error {
	tokens := make(map[string]bool, len(gpus))
	for _, g := range gpus {
		tokens[g.ID] = true
	}
	for _, id := range sortedGPUIDs(digests) {
		if !tokens[id] {
			return errorsmod.Wrapf(ErrMissingGPUToken, "%s", id)
		}
	}
	for _, g := range gpus {
		if _, ok := digests[g.ID]; !ok {
			return errorsmod.Wrapf(ErrExtraGPUToken, "%s", g.ID)
		}
	}
	if len(gpus) == 0 {
		return ErrNoGPUs
	}
	return nil
}

func gpuResult(g GPUToken, tok *verifiedToken) (*GPUResult, error) {
	r := &GPUResult{ID: g.ID, Index: g.Index, IssuedAt: tok.issuedAt, ExpiresAt: tok.expiresAt}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{claimHWModel, &r.HWModel},
		{claimUEID, &r.UEID},
		{claimDriverVersion, &r.DriverVersion},
		{claimVBIOSVersion, &r.VBIOSVersion},
		{claimMeasRes, &r.MeasRes},
		{claimDbgStat, &r.DebugStatus},
	} {
		v, _, err := getString(tok.claims, f.name)
		if err != nil {
			return nil, errorsmod.Wrapf(ErrClaimMalformed, "%s: %v", g.ID, err)
		}
		*f.dst = v
	}
	sb, _, err := getBool(tok.claims, claimSecBoot)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrClaimMalformed, "%s: %v", g.ID, err)
	}
	r.SecureBoot = sb
	return r, nil
}

// sortedKeys returns map keys in byte order; map iteration order must never reach the output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedGPUIDs returns GPU-<n> keys in numeric order (GPU-2 before GPU-10). Keys were validated
// by parseGPUID.
func sortedGPUIDs[V any](m map[string]V) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		a, _ := parseGPUID(keys[i])
		b, _ := parseGPUID(keys[j])
		return a < b
	})
	return keys
}
