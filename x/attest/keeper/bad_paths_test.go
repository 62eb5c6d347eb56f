package keeper_test

import (
	"strings"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// requireRefused submits msg, expects err, and checks nothing changed: no record, and the
// challenge (when one was named) still outstanding unless want is about it being gone.
func (e *env) requireRefused(msg *types.MsgSubmitAttestation, want error) {
	e.T.Helper()
	before := e.challengeCount()
	_, err := e.submit(msg)
	require.ErrorIs(e.T, err, want)
	require.Empty(e.T, e.records())
	require.Equal(e.T, before, e.challengeCount())
}

func (e *env) challengeCount() int {
	n := 0
	require.NoError(e.T, e.App.AttestKeeper.Challenges.Walk(e.Ctx(), nil, func(uint64, types.Challenge) (bool, error) {
		n++
		return false, nil
	}))
	return n
}

func TestSubmitAttestationRefusals(t *testing.T) {
	e := setup(t)
	p, other := e.Accounts[0], e.Accounts[1]
	e.register(p)
	e.register(other)
	c := e.challenge(p)
	good := func() *types.MsgSubmitAttestation { return nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), claims(2)) }

	t.Run("evidence over the size limit", func(t *testing.T) {
		e.setParams(func(p *types.Params) { p.MaxEvidenceBytes = 100 })
		defer e.setParams(func(p *types.Params) { p.MaxEvidenceBytes = types.DefaultParams().MaxEvidenceBytes })
		msg := good()
		msg.Provider = "not an address" // size is checked before anything else
		e.requireRefused(msg, verify.ErrEvidenceTooLarge)
	})
	t.Run("bad provider address", func(t *testing.T) {
		msg := good()
		msg.Provider = "cmpt1bad"
		e.requireRefused(msg, types.ErrInvalidAddress)
	})
	t.Run("unspecified evidence type", func(t *testing.T) {
		msg := good()
		msg.EvidenceType = markettypes.EVIDENCE_TYPE_UNSPECIFIED
		e.requireRefused(msg, types.ErrInvalidEvidenceType)
	})
	t.Run("unregistered provider", func(t *testing.T) {
		msg := good()
		msg.Provider = e.Accounts[2].String()
		e.requireRefused(msg, types.ErrProviderNotFound)
	})
	t.Run("unknown challenge", func(t *testing.T) {
		msg := good()
		msg.ChallengeId = 999
		e.requireRefused(msg, types.ErrChallengeNotFound)
	})
	t.Run("another provider's challenge", func(t *testing.T) {
		msg := good()
		msg.Provider = other.String()
		e.requireRefused(msg, types.ErrChallengeNotYours)
	})
	t.Run("wrong nonce", func(t *testing.T) {
		wrong := types.ChallengeNonce(e.Ctx().ChainID(), p, 99, e.Height(), e.Ctx().HeaderHash())
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(wrong, 2), claims(2)), verify.ErrNonceMismatch)
	})
	t.Run("nonce predicted without the issuing block's hash", func(t *testing.T) {
		// Everything but the block hash is known before the challenge lands.
		var res *types.MsgRequestChallengeResponse
		_, err := e.Exec(func(ctx sdk.Context) (err error) {
			ctx = ctx.WithHeaderHash([]byte("the issuing block's hash"))
			res, err = e.srv.RequestChallenge(ctx, &types.MsgRequestChallenge{Provider: p.String()})
			return err
		})
		require.NoError(t, err)
		q, err := e.q.Challenge(e.Ctx(), &types.QueryChallengeRequest{Id: res.ChallengeId})
		require.NoError(t, err)
		seq := q.Challenge.Sequence
		require.Equal(t, types.ChallengeNonce(e.Ctx().ChainID(), p, seq, e.Height(), []byte("the issuing block's hash")), res.Nonce)
		predicted := types.ChallengeNonce(e.Ctx().ChainID(), p, seq, e.Height(), nil)
		e.requireRefused(nrasMsg(p, res.ChallengeId, e.eat(predicted, 2), claims(2)), verify.ErrNonceMismatch)
	})
	t.Run("untrusted signer", func(t *testing.T) {
		rogue := attestation.NewIssuerFromSeed([]byte("rogue"))
		ev, err := rogue.ValidEAT(c.Nonce, e.Ctx().BlockTime(), 2)
		require.NoError(t, err)
		e.requireRefused(nrasMsg(p, c.ChallengeId, ev, claims(2)), verify.ErrUnknownKid)
	})
	t.Run("no GPUs claimed", func(t *testing.T) {
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), nil), types.ErrInvalidGPUClaim)
	})
	t.Run("duplicate GPU uuid", func(t *testing.T) {
		gpus := claims(2)
		gpus[1].Uuid = gpus[0].Uuid
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), gpus), types.ErrInvalidGPUClaim)
	})
	t.Run("fewer GPUs claimed than attested", func(t *testing.T) {
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), claims(1)), verify.ErrGPUCountMismatch)
	})
	t.Run("more GPUs claimed than attested", func(t *testing.T) {
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), claims(3)), verify.ErrGPUCountMismatch)
	})
	t.Run("unknown SKU", func(t *testing.T) {
		gpus := claims(2)
		gpus[1].Sku = "B200-SXM-192GB"
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), gpus), types.ErrUnknownSKU)
	})
	t.Run("VRAM differs from the SKU", func(t *testing.T) {
		gpus := claims(2)
		gpus[0].VramGib = 94
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), gpus), types.ErrGPUClaimMismatch)
	})
	t.Run("GPU claimed as a SKU its hwmodel is not", func(t *testing.T) {
		e.setParams(func(p *types.Params) {
			p.SkuPolicies = append(p.SkuPolicies, types.SKUPolicy{Sku: "A100-SXM-80GB", VramGib: 80, AllowedHwmodels: []string{"GA100"}})
		})
		defer e.setParams(func(p *types.Params) { p.SkuPolicies = types.DefaultParams().SkuPolicies })
		gpus := claims(2)
		gpus[1].Sku = "A100-SXM-80GB"
		e.requireRefused(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), gpus), verify.ErrGPUModelNotAllowed)
	})
	t.Run("GPU failing the SKU policy", func(t *testing.T) {
		ev := e.eat(c.Nonce, 2, attestation.GPU(1, attestation.SetClaim("x-nvidia-gpu-driver-version", "535.104.05")))
		e.requireRefused(nrasMsg(p, c.ChallengeId, ev, claims(2)), verify.ErrGPUDriverTooOld)
	})
	t.Run("evidence too old", func(t *testing.T) {
		iat := e.Ctx().BlockTime().Add(-11 * 60e9) // 11 minutes before block time; the token is still unexpired
		ev, err := e.issuer.ValidEAT(c.Nonce, iat, 2)
		require.NoError(t, err)
		e.requireRefused(nrasMsg(p, c.ChallengeId, ev, claims(2)), types.ErrEvidenceTooOld)
	})
	t.Run("NRAS bytes submitted as SEV-SNP", func(t *testing.T) {
		msg := good()
		msg.EvidenceType = markettypes.EVIDENCE_TYPE_AMD_SEV_SNP
		e.requireRefused(msg, types.ErrSNPUnpinned)
		e.setParams(func(p *types.Params) { p.SnpPolicy.AllowedMeasurements = []string{strings.Repeat("ab", 48)} })
		e.requireRefused(msg, verify.ErrSNPEnvelopeMalformed)
	})
	t.Run("SEV-SNP envelope submitted as NRAS", func(t *testing.T) {
		msg := good()
		msg.Evidence = verify.SNPEvidence{Report: make([]byte, verify.SNPReportSize), Cert: []byte{1}}.Marshal()
		e.requireRefused(msg, verify.ErrEATNotArray)
	})

	// The challenge survived every refusal; it is single use once accepted.
	_, err := e.submit(good())
	require.NoError(t, err)
	_, err = e.submit(good())
	require.ErrorIs(t, err, types.ErrChallengeNotFound, "a used challenge cannot be replayed")
	require.Len(t, e.records(), 1)
	e.checkInvariants()
}

func TestVerificationChargesGasBeforeVerifying(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	e.register(p)
	c := e.challenge(p)
	ev := e.eat(c.Nonce, 2, attestation.Overall(attestation.CorruptSignature()))
	var used uint64
	_, err := e.Exec(func(ctx sdk.Context) error {
		before := ctx.GasMeter().GasConsumed()
		_, err := e.srv.SubmitAttestation(ctx, nrasMsg(p, c.ChallengeId, ev, claims(2)))
		used = ctx.GasMeter().GasConsumed() - before
		return err
	})
	require.ErrorIs(t, err, verify.ErrBadSignature)
	require.GreaterOrEqual(t, used, verify.NRASGas(len(ev), 2), "failing evidence pays for the signatures it would need")
}

func TestChallengesExpireThroughTheQueue(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	e.register(p)
	e.setParams(func(p *types.Params) { p.ChallengeTtlBlocks = 2 })
	c := e.challenge(p)
	require.Equal(t, e.Height()+2, c.ExpiryHeight)
	second := e.challenge(p)
	require.NotEqual(t, c.Nonce, second.Nonce, "two challenges in one block differ by sequence")

	e.NextBlock()
	e.NextBlock()
	require.Equal(t, c.ExpiryHeight, e.Height(), "still usable at its expiry height")
	require.Equal(t, 2, e.challengeCount())
	e.NextBlock()
	require.True(t, hasEvent(e.BlockEvents(), "computed.attest.v1.EventChallengeExpired"))
	require.Zero(t, e.challengeCount())
	n := 0
	require.NoError(t, e.App.AttestKeeper.ChallengeExpiry.Walk(e.Ctx(), nil, func(pairKey) (bool, error) { n++; return false, nil }))
	require.Zero(t, n)
	_, err := e.submit(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 1), claims(1)))
	require.ErrorIs(t, err, types.ErrChallengeNotFound)
	require.Empty(t, e.records())
	e.checkInvariants()
}

// A provider holds at most MaxOpenChallenges: a new request replaces its oldest (which can no
// longer be answered), so requests, which cost only their fee, cannot fill the store.
func TestOpenChallengesBounded(t *testing.T) {
	e := setup(t)
	p, other := e.Accounts[0], e.Accounts[1]
	e.register(p)
	e.register(other)
	theirs := e.challenge(other)
	var issued []*types.MsgRequestChallengeResponse
	for range types.MaxOpenChallenges + 2 {
		issued = append(issued, e.challenge(p))
	}
	require.Equal(t, types.MaxOpenChallenges+1, e.challengeCount(), "four of p's and the other provider's one")
	for i, c := range issued {
		_, err := e.App.AttestKeeper.Challenges.Get(e.Ctx(), c.ChallengeId)
		if i < 2 {
			require.ErrorIs(t, err, collections.ErrNotFound, "challenge %d of %d outlived its replacement", i+1, len(issued))
		} else {
			require.NoError(t, err, "challenge %d of %d", i+1, len(issued))
		}
	}
	_, err := e.App.AttestKeeper.Challenges.Get(e.Ctx(), theirs.ChallengeId)
	require.NoError(t, err, "another provider's challenge is not touched")
	_, err = e.submit(nrasMsg(p, issued[0].ChallengeId, e.eat(issued[0].Nonce, 1), claims(1)))
	require.ErrorIs(t, err, types.ErrChallengeNotFound)
	latest := issued[len(issued)-1]
	_, err = e.submit(nrasMsg(p, latest.ChallengeId, e.eat(latest.Nonce, 1), claims(1)))
	require.NoError(t, err, "the latest challenge answers")
	e.checkInvariants()
}

func TestProviderRegistry(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	reg := func(metro, endpoint, hotKey string) error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.RegisterProvider(ctx, &types.MsgRegisterProvider{Operator: p.String(), Metro: metro, Endpoint: endpoint, HotKey: hotKey})
			return err
		})
		return err
	}
	for _, tc := range []struct {
		metro, endpoint, hotKey string
		want                    error
	}{
		{"fra", "https://a.example", "", types.ErrInvalidMetro},
		{"FRAN", "https://a.example", "", types.ErrInvalidMetro},
		{"FR1", "https://a.example", "", types.ErrInvalidMetro},
		{"FRA", "ftp://a.example", "", types.ErrInvalidEndpoint},
		{"FRA", "a.example", "", types.ErrInvalidEndpoint},
		{"FRA", "https://", "", types.ErrInvalidEndpoint},
		{"FRA", "https://user:pw@a.example", "", types.ErrInvalidEndpoint},
		{"FRA", "https://a.example/" + string(make([]byte, 300)), "", types.ErrInvalidEndpoint},
		{"FRA", "https://a.example/x y", "", types.ErrInvalidEndpoint},
		{"FRA", "https://a.example", "cosmos1xyz", types.ErrInvalidAddress},
	} {
		require.ErrorIs(t, reg(tc.metro, tc.endpoint, tc.hotKey), tc.want, "%+v", tc)
	}
	_, err := e.q.Provider(e.Ctx(), &types.QueryProviderRequest{Operator: p.String()})
	require.Error(t, err, "nothing was registered")

	require.NoError(t, reg("FRA", "http://10.0.0.1:8080", e.Accounts[1].String()))
	require.ErrorIs(t, reg("FRA", "https://b.example", ""), types.ErrProviderExists)
	got, err := e.q.Provider(e.Ctx(), &types.QueryProviderRequest{Operator: p.String()})
	require.NoError(t, err)
	require.Equal(t, "http://10.0.0.1:8080", got.Provider.Endpoint)
	require.Equal(t, e.Accounts[1].String(), got.Provider.HotKey)

	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.UpdateProvider(ctx, &types.MsgUpdateProvider{Operator: p.String(), Metro: "AMS", Endpoint: "https://gpu.example.nl"})
		return err
	})
	require.NoError(t, err)
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.UpdateProvider(ctx, &types.MsgUpdateProvider{Operator: e.Accounts[2].String(), Metro: "AMS", Endpoint: "https://gpu.example.nl"})
		return err
	})
	require.ErrorIs(t, err, types.ErrProviderNotFound)
	list, err := e.q.Providers(e.Ctx(), &types.QueryProvidersRequest{})
	require.NoError(t, err)
	require.Len(t, list.Providers, 1)
	require.Equal(t, "AMS", list.Providers[0].Metro)
	require.Empty(t, list.Providers[0].HotKey)

	// The market matches metros exactly.
	e.attestAgain(p, 8)
	order := e.order(e.Accounts[3], markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)
	require.ErrorIs(t, e.bid(p, order), types.ErrMetroMismatch)

	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.RequestChallenge(ctx, &types.MsgRequestChallenge{Provider: e.Accounts[2].String()})
		return err
	})
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}

// attestAgain gives an already registered provider an NRAS record.
func (e *env) attestAgain(p sdk.AccAddress, n int) {
	e.T.Helper()
	c := e.challenge(p)
	_, err := e.submit(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, n), claims(n)))
	require.NoError(e.T, err)
}

func TestDeregistration(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	e.attest(p, 8)
	dereg := func() error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.DeregisterProvider(ctx, &types.MsgDeregisterProvider{Operator: p.String()})
			return err
		})
		return err
	}
	// The app wires x/market's real lease counter; x/market's TestDeregisterRefusedWhileLeasing
	// covers refusal with an active lease. With none, deregistration removes the records.
	require.NoError(t, dereg())
	require.Empty(t, e.records())
	n := 0
	require.NoError(t, e.App.AttestKeeper.RecordExpiry.Walk(e.Ctx(), nil, func(tripleKey) (bool, error) { n++; return false, nil }))
	require.Zero(t, n)
	require.ErrorIs(t, dereg(), types.ErrProviderNotFound)

	// Re-registration continues the challenge sequence: no nonce is ever issued twice.
	e.register(p)
	c := e.challenge(p)
	ch, err := e.q.Challenge(e.Ctx(), &types.QueryChallengeRequest{Id: c.ChallengeId})
	require.NoError(t, err)
	require.Equal(t, uint64(2), ch.Challenge.Sequence)
	e.checkInvariants()
}
