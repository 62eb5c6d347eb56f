package types

// The development NRAS trust root: the public key of testutil/attestation.NewIssuerFromSeed
// seeded with DevNRASIssuerSeed, so that local networks and tests can produce tokens the default
// genesis accepts. It is a constant rather than computed here because production code must not
// import testutil (which pulls in go-sev-guest's test flags); dev_trust_test.go pins it to the
// issuer's derivation.
//
// Development trust root; production genesis must replace it. Anyone who knows the seed (it is
// public, right here) can sign tokens this key verifies.
const (
	// DevNRASIssuerSeed is the seed of the development issuer.
	DevNRASIssuerSeed = "dev genesis"
	// DevNRASKid is the development issuer's kid.
	DevNRASKid = "computed-test-nras-69f3c80524469df3"
	// DevNRASJWK is the development issuer's public key as a JWK.
	DevNRASJWK = `{"kty":"EC","crv":"P-384","kid":"computed-test-nras-69f3c80524469df3","alg":"ES384","use":"sig",` +
		`"x":"EsHfRTo0C_lmeEwy8F53UWvp-OLMvj_xhE3EIyBs45sK2qlqefi4PUu9QV9_RgYQ",` +
		`"y":"nfZyZiMzDoVwBxdGlhQPQK7wnOVtW_EJn39CuGEiXyZaV4Al4qwXOqz4wH2CueFA"}`
)
