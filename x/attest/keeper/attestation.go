package keeper

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// gasDescriptor names the verification charge in gas traces.
const gasDescriptor = "attestation verification"

// submitAttestation checks the submission, charges gas for verification, verifies the evidence
// against the trust roots and policies in params at the block time, and writes the record. The
// order of checks is fixed (size first, then cheap state lookups, then the expensive crypto), so
// every validator fails the same submission with the same error.
func (k Keeper) submitAttestation(ctx context.Context, msg *types.MsgSubmitAttestation) (types.AttestationRecord, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.AttestationRecord{}, err
	}
	// Size before anything else: nothing of an oversized payload is looked at.
	if uint64(len(msg.Evidence)) > params.MaxEvidenceBytes {
		return types.AttestationRecord{}, errorsmod.Wrapf(verify.ErrEvidenceTooLarge, "%d bytes, limit %d", len(msg.Evidence), params.MaxEvidenceBytes)
	}
	if len(msg.NrasSignerKeys) > verify.MaxSignerKeysBytes {
		return types.AttestationRecord{}, errorsmod.Wrapf(verify.ErrSignerNotCertified, "nras_signer_keys are %d bytes, limit %d", len(msg.NrasSignerKeys), verify.MaxSignerKeysBytes)
	}
	provider, err := k.addr(msg.Provider, "provider")
	if err != nil {
		return types.AttestationRecord{}, err
	}
	if !types.ValidEvidenceType(msg.EvidenceType) {
		return types.AttestationRecord{}, errorsmod.Wrapf(types.ErrInvalidEvidenceType, "%s", msg.EvidenceType)
	}
	if len(msg.NrasSignerKeys) > 0 && msg.EvidenceType != markettypes.EVIDENCE_TYPE_NVIDIA_NRAS {
		return types.AttestationRecord{}, errorsmod.Wrapf(types.ErrInvalidEvidenceType, "nras_signer_keys go with NVIDIA NRAS evidence only, not %s", msg.EvidenceType)
	}
	if _, err := k.getProvider(ctx, provider, msg.Provider); err != nil {
		return types.AttestationRecord{}, err
	}
	challenge, err := k.usableChallenge(ctx, msg.ChallengeId, msg.Provider)
	if err != nil {
		return types.AttestationRecord{}, err
	}
	if err := types.ValidateGPUClaims(msg.Gpus); err != nil {
		return types.AttestationRecord{}, err
	}
	policies := make([]types.SKUPolicy, len(msg.Gpus))
	for i, g := range msg.Gpus {
		pol, ok := params.SKUPolicyFor(g.Sku)
		if !ok {
			return types.AttestationRecord{}, errorsmod.Wrapf(types.ErrUnknownSKU, "gpu %d: %q", i, g.Sku)
		}
		if g.VramGib != pol.VramGib {
			return types.AttestationRecord{}, errorsmod.Wrapf(types.ErrGPUClaimMismatch, "gpu %d: %s has %d GiB, claimed %d", i, g.Sku, pol.VramGib, g.VramGib)
		}
		policies[i] = pol
	}

	sdkCtx := sdk.UnwrapSDKContext(ctx)
	now := sdkCtx.BlockTime()
	rec := types.AttestationRecord{
		Provider:       msg.Provider,
		EvidenceType:   msg.EvidenceType,
		VerifiedAt:     now.Unix(),
		ValidUntil:     now.Unix() + int64(params.RecordValiditySeconds),
		VerifiedHeight: sdkCtx.BlockHeight(),
		ChallengeId:    challenge.Id,
	}
	switch msg.EvidenceType {
	case markettypes.EVIDENCE_TYPE_NVIDIA_NRAS:
		err = k.verifyNRAS(sdkCtx, params, challenge.Nonce, msg, policies, &rec)
	case markettypes.EVIDENCE_TYPE_AMD_SEV_SNP:
		err = k.verifySNP(sdkCtx, params, challenge.Nonce, msg, &rec)
	}
	if err != nil {
		return types.AttestationRecord{}, err
	}

	if err := k.consumeChallenge(ctx, challenge); err != nil {
		return types.AttestationRecord{}, err
	}
	key := collections.Join(provider, int32(msg.EvidenceType))
	old, err := k.Records.Get(ctx, key)
	switch {
	case err == nil:
		if err := k.keepsLeasedGPUs(ctx, provider, old, rec); err != nil {
			return types.AttestationRecord{}, err
		}
		if err := k.RecordExpiry.Remove(ctx, collections.Join3(old.ValidUntil, provider, int32(old.EvidenceType))); err != nil {
			return types.AttestationRecord{}, err
		}
		if err := k.releaseGPUs(ctx, provider, old); err != nil {
			return types.AttestationRecord{}, err
		}
	case !errors.Is(err, collections.ErrNotFound):
		return types.AttestationRecord{}, err
	}
	if err := k.claimGPUs(ctx, provider, rec); err != nil {
		return types.AttestationRecord{}, err
	}
	if err := k.Records.Set(ctx, key, rec); err != nil {
		return types.AttestationRecord{}, err
	}
	if err := k.RecordExpiry.Set(ctx, collections.Join3(rec.ValidUntil, provider, int32(rec.EvidenceType))); err != nil {
		return types.AttestationRecord{}, err
	}
	skus := make([]string, len(rec.Gpus))
	for i, g := range rec.Gpus {
		skus[i] = g.Sku
	}
	return rec, emit(ctx, &types.EventAttestationAccepted{
		Provider: rec.Provider, EvidenceType: rec.EvidenceType.String(), ChallengeId: challenge.Id,
		GpuCount: uint32(len(rec.Gpus)), GpuSkus: skus, EvidenceHash: hex.EncodeToString(rec.EvidenceHash),
		ValidUntil: rec.ValidUntil,
	})
}

// verifyNRAS verifies every signature once, requiring exactly as many GPU tokens as GPUs are
// claimed, then holds GPU i (tokens in index order) to the policy of the SKU claimed for it.
func (k Keeper) verifyNRAS(ctx sdk.Context, params types.Params, nonce []byte, msg *types.MsgSubmitAttestation,
	policies []types.SKUPolicy, rec *types.AttestationRecord,
) error {
	// Gas first, so that failing evidence pays too. The token count comes from an unverified
	// parse; evidence that does not parse pays for the overall signature only.
	tokens := 0
	if eat, err := verify.ParseDetachedEAT(msg.Evidence); err == nil {
		tokens = len(eat.GPUs)
	}
	ctx.GasMeter().ConsumeGas(verify.NRASGas(len(msg.Evidence), tokens), gasDescriptor)

	keys, err := k.nrasKeys(ctx, params, msg.NrasSignerKeys)
	if err != nil {
		return err
	}
	res, err := verify.VerifyNRAS(msg.Evidence, int(params.MaxEvidenceBytes), verify.NRASOptions{
		Keys:   keys,
		Issuer: params.NrasIssuer,
		Nonce:  nonce,
		Now:    ctx.BlockTime(),
		Leeway: time.Duration(params.ClockLeewaySeconds) * time.Second,
		Policy: verify.GPUPolicy{ExpectedGPUCount: len(msg.Gpus)},
	})
	if err != nil {
		return err
	}
	if age := ctx.BlockTime().Unix() - res.IssuedAt; age > int64(params.MaxEvidenceAgeSeconds) {
		return errorsmod.Wrapf(types.ErrEvidenceTooOld, "issued %d s before block time, limit %d", age, params.MaxEvidenceAgeSeconds)
	}
	if len(res.GPUs) != len(msg.Gpus) { // VerifyNRAS enforces this; kept for the index below
		return errorsmod.Wrapf(types.ErrGPUClaimMismatch, "%d GPUs attested, %d claimed", len(res.GPUs), len(msg.Gpus))
	}
	rec.Gpus = make([]types.AttestedGPU, len(res.GPUs))
	for i, g := range res.GPUs {
		if err := policies[i].GPUPolicy().Check(g); err != nil {
			return errorsmod.Wrapf(err, "claimed as %s", policies[i].Sku)
		}
		rec.Gpus[i] = types.AttestedGPU{
			Sku: msg.Gpus[i].Sku, VramGib: policies[i].VramGib, Uuid: msg.Gpus[i].Uuid, Ueid: g.UEID,
			Hwmodel: g.HWModel, DriverVersion: g.DriverVersion, VbiosVersion: g.VBIOSVersion, Measres: g.MeasRes,
		}
	}
	rec.EvidenceHash = res.EvidenceSHA256[:]
	return nil
}

// keepsLeasedGPUs refuses a record that would replace old with fewer GPUs of a SKU than the
// provider's active leases hold (up to what old covered): the leases would run on hardware no
// record vouches for, and the GPUs released could be attested by another provider and sold
// twice. A lapse is different: x/sla treats it as a breach of every lease it uncovers.
func (k Keeper) keepsLeasedGPUs(ctx context.Context, provider sdk.AccAddress, old, rec types.AttestationRecord) error {
	lc := k.deps.leaseCounter
	if lc == nil {
		return nil
	}
	count := func(r types.AttestationRecord) map[string]uint32 {
		n := map[string]uint32{}
		for _, g := range r.Gpus {
			n[g.Sku]++
		}
		return n
	}
	before, after := count(old), count(rec)
	// In record order, not map order: the SKU an error names is the same on every node.
	for _, g := range old.Gpus {
		had := before[g.Sku]
		if had == 0 {
			continue // already checked
		}
		before[g.Sku] = 0
		if after[g.Sku] >= had {
			continue
		}
		leased, err := lc.LeasedGPUs(ctx, provider, g.Sku)
		if err != nil {
			return err
		}
		if after[g.Sku] < min(had, leased) {
			return errorsmod.Wrapf(types.ErrProviderHasLeases, "the new %s record covers %d %s GPUs; active leases hold %d (close them, or attest them all)",
				rec.EvidenceType, after[g.Sku], g.Sku, min(had, leased))
		}
	}
	return nil
}

// nrasKeys are the keys that may sign msg's tokens: those governance lists, and the submitted
// signer keys a trusted CA certifies at block time (a submitted key under a listed kid must be
// the listed key, and needs no chain). Each signature check of a chain is charged before it runs.
func (k Keeper) nrasKeys(ctx sdk.Context, params types.Params, signerKeys []byte) (verify.NRASKeySet, error) {
	keys, err := params.NRASKeySet()
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if len(signerKeys) == 0 {
		return keys, nil
	}
	ctx.GasMeter().ConsumeGas(verify.SignerKeysGas(len(signerKeys)), gasDescriptor)
	cas, err := params.SigningCAs()
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	certified, err := verify.CertifiedKeys(signerKeys, verify.SignerOptions{
		CAs: cas, Now: ctx.BlockTime(), Listed: keys,
		Consume: func(gas uint64) { ctx.GasMeter().ConsumeGas(gas, gasDescriptor) },
	})
	if err != nil {
		return nil, err
	}
	for kid, key := range certified { // no kid of certified is in keys: the order is immaterial
		keys[kid] = key
	}
	return keys, nil
}

// verifySNP verifies an SEV-SNP report whose REPORT_DATA is nonce || GPUClaimsDigest(claims): the
// report attests the confidential VM, and the measured guest vouches for the GPUs it claims.
func (k Keeper) verifySNP(ctx sdk.Context, params types.Params, nonce []byte, msg *types.MsgSubmitAttestation,
	rec *types.AttestationRecord,
) error {
	ctx.GasMeter().ConsumeGas(verify.SNPGas(len(msg.Evidence)), gasDescriptor)

	roots, err := params.SNPRoots()
	if err != nil {
		return errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	policy, err := params.SnpPolicy.ToVerify()
	if err != nil {
		return errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	// The GPUs come from REPORT_DATA, which the guest writes: only a guest image governance
	// pinned can be trusted to have measured them. With no pin, any SEV-SNP VM (a cheap cloud
	// instance) could claim any GPUs.
	if len(policy.AllowedMeasurements) == 0 {
		return errorsmod.Wrap(types.ErrSNPUnpinned, "snp_policy.allowed_measurements is empty: no guest image is trusted to report its GPUs")
	}
	res, err := verify.VerifySNP(msg.Evidence, int(params.MaxEvidenceBytes), verify.SNPOptions{
		Roots: roots, Now: ctx.BlockTime(), ReportData: nonce, Policy: policy,
	})
	if err != nil {
		return err
	}
	want := types.GPUClaimsDigest(msg.Gpus)
	if len(res.ReportData) != verify.SNPReportDataSize || !bytes.Equal(res.ReportData[verify.NonceSize:], want[:]) {
		return errorsmod.Wrap(types.ErrGPUClaimMismatch, "REPORT_DATA[32:64] is not the digest of the claimed GPUs")
	}
	rec.Gpus = make([]types.AttestedGPU, len(msg.Gpus))
	for i, g := range msg.Gpus {
		rec.Gpus[i] = types.AttestedGPU{Sku: g.Sku, VramGib: g.VramGib, Uuid: g.Uuid}
	}
	rec.EvidenceHash = res.EvidenceSHA256[:]
	rec.SnpMeasurement = res.Measurement
	return nil
}

// providerRecords lists a provider's records in evidence-type order.
func (k Keeper) providerRecords(ctx context.Context, provider []byte) ([]types.AttestationRecord, error) {
	iter, err := k.Records.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, int32](provider))
	if err != nil {
		return nil, err
	}
	return iter.Values()
}

// removeRecord deletes a record, its expiry entry and its GPUs' owner entries.
func (k Keeper) removeRecord(ctx context.Context, provider []byte, r types.AttestationRecord) error {
	if err := k.Records.Remove(ctx, collections.Join(provider, int32(r.EvidenceType))); err != nil {
		return err
	}
	if err := k.releaseGPUs(ctx, provider, r); err != nil {
		return err
	}
	return k.RecordExpiry.Remove(ctx, collections.Join3(r.ValidUntil, provider, int32(r.EvidenceType)))
}

// claimGPUs records provider as the owner of the GPUs rec attests by ueid, refusing a GPU that
// another provider's valid record attests: an NRAS token names the physical GPU, and one host
// attesting once per provider address would otherwise sell each GPU several times over.
func (k Keeper) claimGPUs(ctx context.Context, provider []byte, rec types.AttestationRecord) error {
	now := blockTime(ctx)
	for _, g := range rec.Gpus {
		if g.Ueid == "" {
			continue
		}
		owner, err := k.GPUOwners.Get(ctx, g.Ueid)
		switch {
		case errors.Is(err, collections.ErrNotFound):
		case err != nil:
			return err
		case !bytes.Equal(owner, provider):
			held, until, err := k.attests(ctx, owner, g.Ueid, now)
			if err != nil {
				return err
			}
			if held {
				return errorsmod.Wrapf(types.ErrGPUAttestedElsewhere, "GPU %s (ueid %s) is attested by %s until %d",
					g.Uuid, g.Ueid, sdk.AccAddress(owner), until)
			}
		}
		if err := k.GPUOwners.Set(ctx, g.Ueid, provider); err != nil {
			return err
		}
	}
	return nil
}

// releaseGPUs removes the owner entries of the GPUs r attests that name its provider.
func (k Keeper) releaseGPUs(ctx context.Context, provider []byte, r types.AttestationRecord) error {
	for _, g := range r.Gpus {
		if g.Ueid == "" {
			continue
		}
		owner, err := k.GPUOwners.Get(ctx, g.Ueid)
		if errors.Is(err, collections.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if bytes.Equal(owner, provider) {
			if err := k.GPUOwners.Remove(ctx, g.Ueid); err != nil {
				return err
			}
		}
	}
	return nil
}

// attests reports whether provider holds a record valid at now that attests the GPU ueid, and
// until when.
func (k Keeper) attests(ctx context.Context, provider []byte, ueid string, now int64) (bool, int64, error) {
	records, err := k.providerRecords(ctx, provider)
	if err != nil {
		return false, 0, err
	}
	for _, r := range records {
		if now >= r.ValidUntil {
			continue
		}
		for _, g := range r.Gpus {
			if g.Ueid == ueid {
				return true, r.ValidUntil, nil
			}
		}
	}
	return false, 0, nil
}
