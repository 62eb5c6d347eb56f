package types

import (
	errorsmod "cosmossdk.io/errors"

	"github.com/computed-network/computed/x/attest/verify"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// DefaultGenesis is the state a fresh chain starts with.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// ValidEvidenceType reports whether t names evidence the module can verify.
func ValidEvidenceType(t markettypes.EvidenceType) bool {
	return t == markettypes.EVIDENCE_TYPE_NVIDIA_NRAS || t == markettypes.EVIDENCE_TYPE_AMD_SEV_SNP
}

// Validate checks a genesis state before it is written to the store: params, provider details,
// unique challenge ids up to last_challenge_id, and records of registered providers. Addresses
// are decoded (and so checked) by the keeper on import, which has the address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidGenesis, err.Error())
	}
	providers := make(map[string]bool, len(gs.Providers))
	for _, p := range gs.Providers {
		if p.Operator == "" || providers[p.Operator] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "provider %q empty or duplicate", p.Operator)
		}
		providers[p.Operator] = true
		if err := ValidateMetro(p.Metro); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "provider %s: %v", p.Operator, err)
		}
		if err := ValidateEndpoint(p.Endpoint); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "provider %s: %v", p.Operator, err)
		}
	}
	challenges := make(map[uint64]bool, len(gs.Challenges))
	for _, c := range gs.Challenges {
		if c.Id == 0 || c.Id > gs.LastChallengeId || challenges[c.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenge id %d zero, duplicate or beyond last_challenge_id %d", c.Id, gs.LastChallengeId)
		}
		challenges[c.Id] = true
		if c.Provider == "" || len(c.Nonce) != verify.NonceSize || c.ExpiryHeight < c.CreatedHeight {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenge %d malformed", c.Id)
		}
	}
	type recordKey struct {
		provider string
		typ      markettypes.EvidenceType
	}
	records := make(map[recordKey]bool, len(gs.Records))
	ueids := map[string]bool{}
	for _, r := range gs.Records {
		// One GPU is one provider's: GPUOwners keeps the last, and the GPU would count for both.
		for _, g := range r.Gpus {
			if g.Ueid != "" && ueids[g.Ueid] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "GPU ueid %s attested twice", g.Ueid)
			}
			ueids[g.Ueid] = true
		}
		key := recordKey{r.Provider, r.EvidenceType}
		switch {
		case !providers[r.Provider]:
			return errorsmod.Wrapf(ErrInvalidGenesis, "record of unregistered provider %q", r.Provider)
		case !ValidEvidenceType(r.EvidenceType):
			return errorsmod.Wrapf(ErrInvalidGenesis, "record of %s: evidence type %s", r.Provider, r.EvidenceType)
		case records[key]:
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate %s record of %s", r.EvidenceType, r.Provider)
		case r.ValidUntil <= r.VerifiedAt:
			return errorsmod.Wrapf(ErrInvalidGenesis, "record of %s: valid_until %d not after verified_at %d", r.Provider, r.ValidUntil, r.VerifiedAt)
		}
		records[key] = true
	}
	sequences := make(map[string]uint64, len(gs.Sequences))
	for _, s := range gs.Sequences {
		if _, dup := sequences[s.Provider]; s.Provider == "" || dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "sequence of %q empty or duplicate", s.Provider)
		}
		sequences[s.Provider] = s.Sequence
	}
	// A provider's sequence counts the challenges it was issued: behind one of them, the next
	// challenge would repeat a sequence (and, at the same height, a nonce).
	for _, c := range gs.Challenges {
		if seq, ok := sequences[c.Provider]; !ok || seq < c.Sequence {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenge %d has sequence %d, beyond its provider's (%d)", c.Id, c.Sequence, seq)
		}
	}
	return nil
}
