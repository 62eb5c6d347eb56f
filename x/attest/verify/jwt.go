package verify

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"strings"

	errorsmod "cosmossdk.io/errors"
	"github.com/golang-jwt/jwt/v5"
)

// AllowedAlg is the only JWS algorithm accepted. NRAS signs with ES384; accepting anything else
// only adds ways to be fooled (alg none, HMAC keyed with the public key, weaker curves).
const AllowedAlg = "ES384"

// b64url is strict: NRAS emits unpadded base64url, and rejecting non-canonical encodings (extra
// bits, padding) means one token has one byte representation, hence one evidence hash.
var b64url = base64.RawURLEncoding.Strict()

// tokenChecker verifies compact JWTs the same way for the overall token and every GPU token.
type tokenChecker struct {
	keys   NRASKeySet
	issuer string
	now    int64 // block time, unix seconds
	leeway int64 // seconds
}

// verifiedToken is a JWT whose signature, issuer and validity window have been checked.
type verifiedToken struct {
	kid       string
	claims    map[string]json.RawMessage
	issuedAt  int64
	expiresAt int64
}

// verify checks, in this order: structure, alg, crit, kid, signature, issuer, exp, nbf, iat.
// Nothing from the payload is looked at before the signature verifies.
func (c *tokenChecker) verify(compact string) (*verifiedToken, error) {
	if strings.Count(compact, ".") != 2 {
		return nil, errorsmod.Wrap(ErrJWTMalformed, "compact JWT must have three segments")
	}
	parts := strings.SplitN(compact, ".", 3)
	headerJSON, err := b64url.DecodeString(parts[0])
	if err != nil {
		return nil, errorsmod.Wrapf(ErrJWTMalformed, "header encoding: %v", err)
	}
	header, err := decodeObject(headerJSON)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrJWTMalformed, "header: %v", err)
	}
	alg, present, err := getString(header, "alg")
	if err != nil || !present {
		return nil, errorsmod.Wrap(ErrJWTMalformed, "header alg missing or not a string")
	}
	if err := checkAlg(alg); err != nil {
		return nil, err
	}
	// RFC 7515 4.1.11: a recipient that does not understand a crit extension must reject.
	if _, ok := header["crit"]; ok {
		return nil, errorsmod.Wrap(ErrCritHeader, "crit header present")
	}
	kid, present, err := getString(header, "kid")
	if err != nil {
		return nil, errorsmod.Wrap(ErrJWTMalformed, "header kid is not a string")
	}
	if !present || kid == "" {
		return nil, ErrMissingKid
	}
	key, ok := c.keys[kid]
	if !ok {
		return nil, errorsmod.Wrapf(ErrUnknownKid, "kid %q", truncate(kid))
	}
	if key == nil || key.Curve != elliptic.P384() {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "kid %q is not a P-384 key", truncate(kid))
	}
	sig, err := b64url.DecodeString(parts[2])
	if err != nil {
		return nil, errorsmod.Wrapf(ErrJWTMalformed, "signature encoding: %v", err)
	}
	// golang-jwt's ES384 checks the raw 96-byte r||s form over SHA-384(header.payload).
	if err := jwt.SigningMethodES384.Verify(parts[0]+"."+parts[1], sig, key); err != nil {
		return nil, errorsmod.Wrapf(ErrBadSignature, "kid %q: %v", truncate(kid), err)
	}

	payloadJSON, err := b64url.DecodeString(parts[1])
	if err != nil {
		return nil, errorsmod.Wrapf(ErrJWTMalformed, "payload encoding: %v", err)
	}
	claims, err := decodeObject(payloadJSON)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrJWTMalformed, "payload: %v", err)
	}
	iss, present, err := getString(claims, "iss")
	if err != nil {
		return nil, errorsmod.Wrap(ErrClaimMalformed, err.Error())
	}
	if !present {
		return nil, errorsmod.Wrap(ErrClaimMissing, "iss")
	}
	if iss != c.issuer {
		return nil, errorsmod.Wrapf(ErrWrongIssuer, "got %q, want %q", truncate(iss), c.issuer)
	}
	exp, err := requiredInt(claims, "exp")
	if err != nil {
		return nil, err
	}
	iat, err := requiredInt(claims, "iat")
	if err != nil {
		return nil, err
	}
	nbf, hasNbf, err := getInt(claims, "nbf")
	if err != nil {
		return nil, errorsmod.Wrap(ErrClaimMalformed, err.Error())
	}
	// RFC 7519 4.1.4: the token must not be accepted on or after exp.
	if c.now-c.leeway >= exp {
		return nil, errorsmod.Wrapf(ErrTokenExpired, "exp %d, now %d", exp, c.now)
	}
	if hasNbf && c.now+c.leeway < nbf {
		return nil, errorsmod.Wrapf(ErrTokenNotYetValid, "nbf %d, now %d", nbf, c.now)
	}
	if iat > c.now+c.leeway {
		return nil, errorsmod.Wrapf(ErrTokenIssuedFuture, "iat %d, now %d", iat, c.now)
	}
	return &verifiedToken{kid: kid, claims: claims, issuedAt: iat, expiresAt: exp}, nil
}

// checkAlg gives each way of dodging ES384 its own error so that logs and tests can tell an
// attack (none, HMAC key confusion) from a misconfigured issuer (another curve or RSA).
func checkAlg(alg string) error {
	switch {
	case alg == AllowedAlg:
		return nil
	case strings.EqualFold(alg, "none"):
		return ErrAlgNone
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return errorsmod.Wrapf(ErrAlgSymmetric, "alg %q", truncate(alg))
	default:
		return errorsmod.Wrapf(ErrAlgNotAllowed, "alg %q", truncate(alg))
	}
}

func requiredInt(claims map[string]json.RawMessage, key string) (int64, error) {
	v, present, err := getInt(claims, key)
	if err != nil {
		return 0, errorsmod.Wrap(ErrClaimMalformed, err.Error())
	}
	if !present {
		return 0, errorsmod.Wrap(ErrClaimMissing, key)
	}
	return v, nil
}

// truncate keeps attacker-chosen strings short in error messages, which end up in tx results.
func truncate(s string) string {
	const limit = 96
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
