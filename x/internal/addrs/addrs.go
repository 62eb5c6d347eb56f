// Package addrs decodes account addresses the one way every module takes them.
package addrs

import (
	"errors"

	"cosmossdk.io/core/address"
)

// Decode returns the bytes of s when s is an address in canonical (lower-case bech32) form.
// bech32 also decodes the upper-case spelling to the same bytes; a module that stored or compared
// that string as given would take it for another address (an order's owner bidding on it, say).
func Decode(c address.Codec, s string) ([]byte, error) {
	b, err := c.StringToBytes(s)
	if err != nil {
		return nil, err
	}
	if canon, err := c.BytesToString(b); err != nil || canon != s {
		return nil, errors.New("not in canonical (lower-case) form")
	}
	return b, nil
}
