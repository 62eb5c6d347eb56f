package types

import (
	"net/url"
	"strings"

	errorsmod "cosmossdk.io/errors"
)

// MaxEndpointLen bounds a provider's endpoint URL.
const MaxEndpointLen = 256

// ValidateMetro accepts exactly three upper-case ASCII letters (IATA-style), the form x/market
// orders use, so that equality is the whole matching rule.
func ValidateMetro(metro string) error {
	if len(metro) != 3 {
		return errorsmod.Wrapf(ErrInvalidMetro, "%q is not three letters", metro)
	}
	for i := 0; i < len(metro); i++ {
		if metro[i] < 'A' || metro[i] > 'Z' {
			return errorsmod.Wrapf(ErrInvalidMetro, "%q is not upper-case A-Z", metro)
		}
	}
	return nil
}

// ValidateEndpoint accepts an absolute http:// or https:// URL with a host, at most
// MaxEndpointLen bytes, without user info or fragment, and without spaces or control characters.
func ValidateEndpoint(endpoint string) error {
	if endpoint == "" || len(endpoint) > MaxEndpointLen {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "must be 1..%d bytes, got %d", MaxEndpointLen, len(endpoint))
	}
	for i := 0; i < len(endpoint); i++ {
		if c := endpoint[i]; c <= ' ' || c >= 0x7f {
			return errorsmod.Wrap(ErrInvalidEndpoint, "contains a space, control or non-ASCII character")
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "%v", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "scheme %q, want https or http", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" ||
		!strings.HasPrefix(endpoint, u.Scheme+"://") {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "%q is not a plain absolute URL", endpoint)
	}
	return nil
}
