package daemon

import (
	"context"
	"fmt"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/computed-network/computed/provider/chain"
)

// queryNode answers the chain's gRPC queries (over ABCI) from a table the test fills: path →
// response. Any other node call panics (the embedded nil client): a test that reaches one is
// wrong about what the code under test does.
type queryNode struct {
	rpcclient.Client
	mu      sync.Mutex
	answers map[string]gogoproto.Message
}

func (n *queryNode) set(path string, res gogoproto.Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.answers[path] = res
}

func (n *queryNode) ABCIQueryWithOptions(_ context.Context, path string, _ cmtbytes.HexBytes, _ rpcclient.ABCIQueryOptions) (*ctypes.ResultABCIQuery, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	res, ok := n.answers[path]
	if !ok {
		return nil, fmt.Errorf("unexpected query %s", path)
	}
	bz, err := gogoproto.Marshal(res)
	if err != nil {
		return nil, err
	}
	return &ctypes.ResultABCIQuery{Response: abci.ResponseQuery{Value: bz, Height: 1}}, nil
}

// fakeChain is a chain client over a queryNode, signing with a fresh key.
func fakeChain(t *testing.T) (*chain.Client, *queryNode) {
	t.Helper()
	enc := moduletestutil.MakeTestEncodingConfig()
	kr := keyring.NewInMemory(enc.Codec)
	if _, _, err := kr.NewMnemonic("sidecar", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1); err != nil {
		t.Fatal(err)
	}
	node := &queryNode{answers: map[string]gogoproto.Message{}}
	cctx := client.Context{}.WithCodec(enc.Codec).WithInterfaceRegistry(enc.InterfaceRegistry).WithTxConfig(enc.TxConfig).
		WithKeyring(kr).WithChainID("computed-test").WithClient(node)
	c, err := chain.New(cctx, chain.Config{KeyName: "sidecar"})
	if err != nil {
		t.Fatal(err)
	}
	return c, node
}
