package chain

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/cosmos-sdk/client"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
)

// mempoolNode is a node's mempool and account state as far as one signer's sequence goes: CheckTx
// takes the next sequence only, a block commits the mempool, a restart empties it.
type mempoolNode struct {
	rpcclient.Client
	enc moduletestutil.TestEncodingConfig
	acc *authtypes.BaseAccount

	mu        sync.Mutex
	check     uint64 // the sequence CheckTx expects next
	committed uint64 // the account's sequence in the last block
	mempool   []cmttypes.Tx
	included  map[string]int64 // tx hash → height
	height    int64
	seen      []uint64 // the sequences CheckTx took, in order
	refused   int      // CheckTx refusals for a wrong sequence
	down      bool
	mute      bool // takes the transaction but the answer is lost
	full      bool // the mempool takes nothing
}

func (n *mempoolNode) BroadcastTxSync(_ context.Context, tx cmttypes.Tx) (*ctypes.ResultBroadcastTx, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return nil, errors.New("post failed: connection refused")
	}
	decoded, err := n.enc.TxConfig.TxDecoder()(tx)
	if err != nil {
		return nil, err
	}
	sigs, err := decoded.(authsigning.SigVerifiableTx).GetSignaturesV2()
	if err != nil || len(sigs) != 1 {
		return nil, fmt.Errorf("signatures: %v", err)
	}
	hash := sha256.Sum256(tx)
	for _, m := range n.mempool {
		if string(m) == string(tx) {
			return nil, errors.New("tx already exists in cache") // CometBFT's words
		}
	}
	if n.full {
		return nil, errors.New("mempool is full: number of txs 5000 (max: 5000)")
	}
	if seq := sigs[0].Sequence; seq != n.check {
		n.refused++
		return &ctypes.ResultBroadcastTx{Code: 32, Codespace: "sdk", Hash: hash[:],
			Log: fmt.Sprintf("account sequence mismatch, expected %d, got %d: incorrect account sequence", n.check, seq)}, nil
	}
	n.seen = append(n.seen, n.check)
	n.check++
	n.mempool = append(n.mempool, tx)
	if n.mute {
		return nil, errors.New("post failed: context deadline exceeded")
	}
	return &ctypes.ResultBroadcastTx{Hash: hash[:]}, nil
}

// block includes the mempool.
func (n *mempoolNode) block() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.height++
	for _, tx := range n.mempool {
		h := sha256.Sum256(tx)
		n.included[fmt.Sprintf("%X", h[:])] = n.height
	}
	n.mempool, n.committed = nil, n.check
}

// restart loses the mempool.
func (n *mempoolNode) restart() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mempool, n.check = nil, n.committed
}

func (n *mempoolNode) Tx(_ context.Context, hash []byte, _ bool) (*ctypes.ResultTx, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, ok := n.included[fmt.Sprintf("%X", hash)]
	if !ok {
		return nil, fmt.Errorf("tx (%X) not found", hash)
	}
	return &ctypes.ResultTx{Hash: cmtbytes.HexBytes(hash), Height: h}, nil
}

// ABCIQueryWithOptions answers the account query with the committed sequence.
func (n *mempoolNode) ABCIQueryWithOptions(_ context.Context, path string, _ cmtbytes.HexBytes, _ rpcclient.ABCIQueryOptions) (*ctypes.ResultABCIQuery, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if path != "/cosmos.auth.v1beta1.Query/Account" {
		return nil, fmt.Errorf("unexpected query %s", path)
	}
	acc := *n.acc
	acc.Sequence = n.committed
	packed, err := codectypes.NewAnyWithValue(&acc)
	if err != nil {
		return nil, err
	}
	bz, err := n.enc.Codec.Marshal(&authtypes.QueryAccountResponse{Account: packed})
	if err != nil {
		return nil, err
	}
	return &ctypes.ResultABCIQuery{Response: abci.ResponseQuery{Value: bz, Height: n.height}}, nil
}

func testClient(t *testing.T) (*Client, *mempoolNode) {
	t.Helper()
	enc := moduletestutil.MakeTestEncodingConfig(auth.AppModuleBasic{}, bank.AppModuleBasic{})
	kr := keyring.NewInMemory(enc.Codec)
	rec, _, err := kr.NewMnemonic("sidecar", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := rec.GetPubKey()
	if err != nil {
		t.Fatal(err)
	}
	node := &mempoolNode{enc: enc, acc: authtypes.NewBaseAccount(addr, pub, 7, 0), included: map[string]int64{}}
	cctx := client.Context{}.WithCodec(enc.Codec).WithInterfaceRegistry(enc.InterfaceRegistry).WithTxConfig(enc.TxConfig).
		WithKeyring(kr).WithChainID("computed-test").WithClient(node)
	c, err := New(cctx, Config{KeyName: "sidecar", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, node
}

func sendMsg(c *Client) sdk.Msg {
	return banktypes.NewMsgSend(c.Signer(), c.Signer(), sdk.NewCoins(sdk.NewInt64Coin("uusdc", 1)))
}

// Several transactions go to the mempool before a block, so they share it; after the node
// loses its mempool the client takes the sequence the node expects and goes on from there.
func TestBroadcastPipelines(t *testing.T) {
	c, node := testClient(t)
	ctx := context.Background()
	var hashes []Sent
	for range 3 {
		h, err := c.Broadcast(ctx, sendMsg(c))
		if err != nil {
			t.Fatalf("broadcast before the first block: %v", err)
		}
		hashes = append(hashes, h)
	}
	if node.refused != 0 {
		t.Fatalf("%d broadcasts refused for their sequence: the client does not count its transactions in the mempool", node.refused)
	}
	node.block()
	for _, h := range hashes {
		res, err := c.Wait(ctx, h)
		if err != nil || res.Height != 1 {
			t.Fatalf("tx %s: %+v, %v; want it in block 1 with the others", h.Hash, res, err)
		}
	}

	// Two more reach the mempool, which a restart then loses: the next broadcast is refused
	// with the sequence the node expects and signed again with it.
	for range 2 {
		if _, err := c.Broadcast(ctx, sendMsg(c)); err != nil {
			t.Fatal(err)
		}
	}
	node.restart()
	h, err := c.Broadcast(ctx, sendMsg(c))
	if err != nil {
		t.Fatalf("broadcast after the mempool was lost: %v", err)
	}
	node.block()
	if res, err := c.Wait(ctx, h); err != nil || res.Height != 2 {
		t.Fatalf("re-signed tx: %+v, %v", res, err)
	}

	// A broadcast the node may not have taken (no answer) makes the next one ask the chain.
	node.mu.Lock()
	node.down = true
	node.mu.Unlock()
	if _, err := c.Broadcast(ctx, sendMsg(c)); err == nil || !Transient(err) {
		t.Fatalf("broadcast to a node that is down: %v, want a transient error", err)
	}
	node.mu.Lock()
	node.down = false
	node.mu.Unlock()
	if _, err := c.Broadcast(ctx, sendMsg(c)); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	seen, refused := fmt.Sprint(node.seen), node.refused
	node.mu.Unlock()
	if want := "[0 1 2 3 4 3 4]"; seen != want || refused != 1 {
		t.Fatalf("sequences the node took: %s, refused %d; want %s, 1 refused (after the restart)", seen, refused, want)
	}

	// A transaction the mempool lost, whose sequence a block then gave to another: Wait says
	// it was dropped once the account is past its sequence, well before its timeout, with an
	// error a retry cures.
	c.timeout = time.Minute
	node.block() // the transaction above, sequence 4
	lost, err := c.Broadcast(ctx, sendMsg(c))
	if err != nil {
		t.Fatal(err)
	}
	node.restart()
	other, err := c.Broadcast(ctx, banktypes.NewMsgSend(c.Signer(), c.Signer(), sdk.NewCoins(sdk.NewInt64Coin("uusdc", 2))))
	if err != nil || other.Sequence != lost.Sequence {
		t.Fatalf("the next transaction: %+v, %v; want it re-signed with the lost one's sequence %d", other, err, lost.Sequence)
	}
	node.block()
	if _, err := c.Wait(ctx, lost); !errors.Is(err, ErrDropped) || !Transient(err) {
		t.Fatalf("wait for the lost tx: %v, want ErrDropped", err)
	}
	if res, err := c.Wait(ctx, other); err != nil || res.Height != 4 {
		t.Fatalf("wait for the tx that took its sequence: %+v, %v", res, err)
	}

	// One that never reaches a block while no block passes its sequence: Wait gives up at its
	// timeout, with an error a retry cures.
	c.timeout = time.Second
	h, err = c.Broadcast(ctx, sendMsg(c))
	if err != nil {
		t.Fatal(err)
	}
	node.restart()
	if _, err := c.Wait(ctx, h); err == nil || !strings.Contains(err.Error(), "not in a block") || !Transient(err) {
		t.Fatalf("wait for a dropped tx: %v", err)
	}
}

// TestBroadcastResendOfATakenTx: the node took a transaction but its answer was lost; the
// resend, signed with the same (committed) sequence, is the same bytes, which the node's cache
// refuses: the client takes it as sent and waits for it, not as a failure. A full mempool is
// a refusal a retry cures, and costs no sequence.
func TestBroadcastResendOfATakenTx(t *testing.T) {
	c, node := testClient(t)
	ctx := context.Background()
	msg := sendMsg(c)
	node.mu.Lock()
	node.mute = true
	node.mu.Unlock()
	if _, err := c.Broadcast(ctx, msg); err == nil || !Transient(err) {
		t.Fatalf("broadcast whose answer is lost: %v, want a transient error", err)
	}
	node.mu.Lock()
	node.mute = false
	node.mu.Unlock()
	sent, err := c.Broadcast(ctx, msg)
	if err != nil {
		t.Fatalf("resend of the taken tx: %v", err)
	}
	node.block()
	if res, err := c.Wait(ctx, sent); err != nil || res.Height != 1 {
		t.Fatalf("wait for the resent tx: %+v, %v", res, err)
	}

	node.mu.Lock()
	node.full = true
	node.mu.Unlock()
	if _, err := c.Broadcast(ctx, sendMsg(c)); err == nil || !Transient(err) {
		t.Fatalf("broadcast to a full mempool: %v, want a transient error", err)
	}
	node.mu.Lock()
	node.full = false
	node.mu.Unlock()
	next, err := c.Broadcast(ctx, sendMsg(c))
	if err != nil || next.Sequence != sent.Sequence+1 {
		t.Fatalf("after the full mempool: %+v, %v; want sequence %d", next, err, sent.Sequence+1)
	}
}

func TestExpectedSequence(t *testing.T) {
	for _, tc := range []struct {
		log  string
		want uint64
		ok   bool
	}{
		{"account sequence mismatch, expected 12, got 9: incorrect account sequence", 12, true},
		{"account sequence mismatch, expected 0, got 3: incorrect account sequence", 0, true},
		{"signature verification failed", 0, false},
	} {
		got, ok := expectedSequence(tc.log)
		if got != tc.want || ok != tc.ok {
			t.Errorf("expectedSequence(%q) = %d, %v; want %d, %v", tc.log, got, ok, tc.want, tc.ok)
		}
	}
}
