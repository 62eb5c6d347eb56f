// Package chain is the sidecar's link to the node: it signs and broadcasts transactions (through
// an authz grant when the sidecar's key is not the provider's), waits for their inclusion, and
// queries module state over the node's RPC (client.Context is a gRPC connection over ABCI query).
package chain

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
)

// Client signs with one key and acts for one provider.
type Client struct {
	ctx      client.Context
	keyName  string
	signer   sdk.AccAddress
	provider sdk.AccAddress
	fees     sdk.Coins
	gas      uint64
	granter  sdk.AccAddress // fee granter, optional
	timeout  time.Duration

	mu sync.Mutex // one broadcast at a time: sequences stay in order
	// The signer's account number and next sequence, counting transactions in the mempool;
	// read from the chain when not known.
	accNum, seq uint64
	seqKnown    bool
}

// Config is how the client signs.
type Config struct {
	KeyName string
	// Provider is the operator address the sidecar acts for; empty means the key's own address.
	Provider string
	Fees     sdk.Coins
	Gas      uint64
	// FeeGranter pays the fees through a feegrant when set.
	FeeGranter string
	// Timeout bounds the wait for a transaction's inclusion.
	Timeout time.Duration
}

// New builds a client over clientCtx, which must carry the codec, tx config, keyring, chain id
// and an RPC client.
func New(clientCtx client.Context, cfg Config) (*Client, error) {
	rec, err := clientCtx.Keyring.Key(cfg.KeyName)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", cfg.KeyName, err)
	}
	signer, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	provider := signer
	if cfg.Provider != "" {
		if provider, err = sdk.AccAddressFromBech32(cfg.Provider); err != nil {
			return nil, fmt.Errorf("provider address: %w", err)
		}
	}
	c := &Client{
		ctx:     clientCtx.WithFromName(cfg.KeyName).WithFromAddress(signer).WithBroadcastMode("sync"),
		keyName: cfg.KeyName, signer: signer, provider: provider, fees: cfg.Fees, gas: cfg.Gas, timeout: cfg.Timeout,
	}
	if c.gas == 0 {
		c.gas = 400_000
	}
	if c.timeout == 0 {
		c.timeout = 30 * time.Second
	}
	if cfg.FeeGranter != "" {
		if c.granter, err = sdk.AccAddressFromBech32(cfg.FeeGranter); err != nil {
			return nil, fmt.Errorf("fee granter: %w", err)
		}
	}
	return c, nil
}

// Provider is the address the sidecar acts for.
func (c *Client) Provider() sdk.AccAddress { return c.provider }

// Signer is the sidecar key's address.
func (c *Client) Signer() sdk.AccAddress { return c.signer }

// Context is the client context, a gRPC connection for module query clients.
func (c *Client) Context() client.Context { return c.ctx }

// Result is an included transaction.
type Result struct {
	Hash   string
	Height int64
	Events []sdk.StringEvent
	Code   uint32
	Log    string
}

// ErrTxFailed is wrapped when the chain refused or failed a transaction.
var ErrTxFailed = errors.New("transaction failed")

// notAdmittedYet is a CheckTx refusal that the same transaction, signed again, can pass.
type notAdmittedYet struct{ error }

func (e notAdmittedYet) Unwrap() error { return e.error }

// admitLater: a stale account sequence, and "signature verification failed" from a node that
// has just restarted. Until such a node commits its first block the SDK checks transactions at
// height 0, as if in genesis, and so verifies every signature against account number 0.
func admitLater(codespace string, code uint32) bool {
	return codespace == sdkerrors.RootCodespace &&
		(code == sdkerrors.ErrWrongSequence.ABCICode() || code == sdkerrors.ErrUnauthorized.ABCICode())
}

// Broadcast signs msgs (wrapped in authz MsgExec when the sidecar acts for another provider)
// with the signer's next sequence and returns once the node's mempool took them (CheckTx), not
// when they are in a block: the next transaction can follow at once, so several of the
// sidecar's transactions fit in one block and an SLA report or a bid never waits a block behind
// a receipt batch. Transactions from one signer execute in sequence order, so the chain still
// sees them in the order they were broadcast.
func (c *Client) Broadcast(ctx context.Context, msgs ...sdk.Msg) (Sent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.signer.Equals(c.provider) {
		exec := authz.NewMsgExec(c.signer, msgs)
		msgs = []sdk.Msg{&exec}
	}
	for resigned := false; ; resigned = true {
		if !c.seqKnown {
			num, seq, err := authtypes.AccountRetriever{}.GetAccountNumberSequence(c.ctx, c.signer)
			if err != nil {
				return Sent{}, fmt.Errorf("account: %w", err)
			}
			c.accNum, c.seq, c.seqKnown = num, seq, true
		}
		bz, err := c.sign(ctx, c.seq, msgs)
		if err != nil {
			return Sent{}, err
		}
		res, err := c.ctx.BroadcastTxSync(bz)
		if err != nil {
			// The node may or may not have taken it: the next transaction asks the chain.
			c.seqKnown = false
			return Sent{}, fmt.Errorf("broadcast: %w", err)
		}
		if res.Code == 0 {
			c.seq++
			return Sent{Hash: res.TxHash, Sequence: c.seq - 1}, nil
		}
		if res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrTxInMempoolCache.ABCICode() {
			// The node has these very bytes: an earlier broadcast whose answer was lost took, and
			// signing is deterministic, so the resend is the same transaction. It is sent.
			c.seq++
			return Sent{Hash: res.TxHash, Sequence: c.seq - 1}, nil
		}
		err = fmt.Errorf("%w: check: code %d: %s", ErrTxFailed, res.Code, res.RawLog)
		if res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrMempoolIsFull.ABCICode() {
			return Sent{}, notAdmittedYet{err} // nothing was taken: the sequence stands
		}
		if res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrWrongSequence.ABCICode() {
			// A transaction of ours left the mempool without a block (the node restarted, or it
			// failed a re-check), or another client used the key: the node says which sequence
			// it expects. The committed sequence is no answer while ours are in the mempool.
			if seq, ok := expectedSequence(res.RawLog); ok && !resigned {
				c.seq = seq
				continue
			}
			c.seqKnown = false
		}
		if admitLater(res.Codespace, res.Code) {
			// A node that has just restarted checks against its genesis state, account number 0.
			c.seqKnown = false
			return Sent{}, notAdmittedYet{err}
		}
		return Sent{}, err
	}
}

// sign builds and signs msgs as the transaction with sequence seq.
func (c *Client) sign(ctx context.Context, seq uint64, msgs []sdk.Msg) ([]byte, error) {
	f := tx.Factory{}.
		WithChainID(c.ctx.ChainID).WithKeybase(c.ctx.Keyring).WithTxConfig(c.ctx.TxConfig).
		WithAccountNumber(c.accNum).WithSequence(seq).WithGas(c.gas).WithFees(c.fees.String()).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).WithFeeGranter(c.granter)
	txb, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, err
	}
	if err := tx.Sign(ctx, f, c.keyName, txb, true); err != nil {
		return nil, err
	}
	return c.ctx.TxConfig.TxEncoder()(txb.GetTx())
}

// expectedSequence reads the sequence the node expects from the SDK's refusal, "account sequence
// mismatch, expected 12, got 9: incorrect account sequence".
func expectedSequence(log string) (uint64, bool) {
	m := expectedSeqRe.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	seq, err := strconv.ParseUint(m[1], 10, 64)
	return seq, err == nil
}

var expectedSeqRe = regexp.MustCompile(`account sequence mismatch, expected (\d+), got \d+`)

// Sent is a transaction the node's mempool took: its hash and the signer's sequence it used.
type Sent struct {
	Hash     string
	Sequence uint64
}

// ErrDropped: the transaction left the mempool without reaching a block (a re-check evicted
// it, or the node restarted between two polls), and its sequence went to another transaction
// or is due again. Sending it again may cure it (Transient).
var ErrDropped = errors.New("transaction dropped from the mempool")

// Wait polls for a broadcast transaction until it is in a block; it needs no lock, so many
// transactions can be waited for at once. A transaction the mempool dropped is never found:
// once the signer's committed sequence has passed the transaction's and it is still not found
// a second later, Wait says so (ErrDropped) rather than waiting out its timeout, so the work it
// carried is sent again within seconds.
func (c *Client) Wait(ctx context.Context, s Sent) (*Result, error) {
	raw, err := hex.DecodeString(s.Hash)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(c.timeout)
	var passed bool      // a block has taken the transaction's sequence
	var committed uint64 // the account's sequence then
	for poll := 1; time.Now().Before(deadline); poll++ {
		r, err := c.ctx.Client.Tx(ctx, raw, false)
		if err == nil {
			out := &Result{Hash: s.Hash, Height: r.Height, Code: r.TxResult.Code, Log: r.TxResult.Log}
			for _, e := range r.TxResult.Events {
				out.Events = append(out.Events, sdk.StringifyEvent(e))
			}
			if r.TxResult.Code != 0 {
				return out, fmt.Errorf("%w: code %d: %s", ErrTxFailed, r.TxResult.Code, r.TxResult.Log)
			}
			return out, nil
		}
		if strings.Contains(err.Error(), "indexing is disabled") {
			// Nothing sent can be confirmed: say what to change rather than fail each send.
			return nil, fmt.Errorf("the node does not index transactions; the sidecar needs one that does (config.toml [tx_index] indexer = \"kv\"): %w", err)
		}
		if !strings.Contains(err.Error(), "not found") {
			return nil, err
		}
		// Every few polls: has a block taken this sequence? If this transaction is still not
		// found a few polls later (the node indexes a block's transactions just after
		// committing it), another transaction had the sequence and this one is in no block.
		if poll%4 == 0 {
			if passed {
				return nil, fmt.Errorf("%w: %s (sequence %d; the account is at %d)", ErrDropped, s.Hash, s.Sequence, committed)
			}
			var err error
			_, committed, err = authtypes.AccountRetriever{}.GetAccountNumberSequence(c.ctx, c.signer)
			passed = err == nil && committed > s.Sequence
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("transaction %s not in a block after %s", s.Hash, c.timeout)
}

// Height is the node's latest committed height (committed): a start from the block store's
// height would page orders from the block before and never see those created in the last one.
func (c *Client) Height(ctx context.Context) (int64, error) {
	_, h, err := committed(ctx, c.ctx.Client)
	return h, err
}

// Attr returns the first value of attribute key in events of type typ (quotes trimmed: typed
// events JSON-encode their values).
func Attr(events []sdk.StringEvent, typ, key string) string {
	for _, e := range events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				return strings.Trim(a.Value, `"`)
			}
		}
	}
	return ""
}
