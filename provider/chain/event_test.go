package chain

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	attesttypes "github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// typedEvent is msg as the SDK emits it, plus the plain attributes the SDK appends after the
// fact (they are not part of the typed event and some are not JSON).
func typedEvent(t *testing.T, msg proto.Message, extra ...abci.EventAttribute) abci.Event {
	t.Helper()
	ev, err := sdk.TypedEventToEvent(msg)
	if err != nil {
		t.Fatal(err)
	}
	ev.Attributes = append(ev.Attributes, extra...)
	return abci.Event(ev)
}

func attr(k, v string) abci.EventAttribute { return abci.EventAttribute{Key: k, Value: v, Index: true} }

func TestParseEvent(t *testing.T) {
	closed := &markettypes.EventLeaseClosed{LeaseId: 12, OrderId: 7, Reason: "CLOSE_REASON_EXPIRED", Detail: `quote " inside`}
	challenge := &attesttypes.EventChallengeIssued{ChallengeId: 3, Provider: "cmpt1p", Nonce: "00ff", ExpiryHeight: 1 << 40}
	for _, tc := range []struct {
		name  string
		event abci.Event
		want  proto.Message
	}{
		{"bare", typedEvent(t, closed), closed},
		// Leases that expire close in EndBlock; the SDK tags those events with a non-JSON mode.
		{"finalize block, EndBlock", typedEvent(t, closed, attr("mode", "EndBlock")), closed},
		{"finalize block, BeginBlock", typedEvent(t, closed, attr("mode", "BeginBlock")), closed},
		{"transaction", typedEvent(t, closed, attr("msg_index", "0")), closed},
		// Sent through authz MsgExec (the sidecar acting for its operator).
		{"authz transaction", typedEvent(t, closed, attr("authz_msg_index", "1"), attr("msg_index", "0")), closed},
		{"other module", typedEvent(t, challenge, attr("mode", "EndBlock")), challenge},
		{"zero values omitted", typedEvent(t, &markettypes.EventLeaseClosed{}, attr("mode", "EndBlock")), &markettypes.EventLeaseClosed{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEvent(tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("ParseEvent = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestParseEventRejects: events that are not typed events fail to parse, so the watcher can
// drop them.
func TestParseEventRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event abci.Event
	}{
		{"plain SDK event", abci.Event{Type: "transfer", Attributes: []abci.EventAttribute{attr("amount", "5uusdc")}}},
		{"unknown type", abci.Event{Type: "computed.market.v1.EventNoSuchThing"}},
		{"mangled attribute", abci.Event{Type: "computed.market.v1.EventLeaseClosed", Attributes: []abci.EventAttribute{attr("lease_id", "not json")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg, err := ParseEvent(tc.event); err == nil {
				t.Fatalf("ParseEvent = %v, want an error", msg)
			}
		})
	}
}

func TestAttr(t *testing.T) {
	events := []sdk.StringEvent{
		{Type: "message", Attributes: []sdk.Attribute{{Key: "lease_id", Value: "1"}}},
		sdk.StringifyEvent(typedEvent(t, &markettypes.EventLeaseCreated{LeaseId: 42, Provider: "cmpt1p"}, attr("msg_index", "0"))),
		sdk.StringifyEvent(typedEvent(t, &markettypes.EventLeaseCreated{LeaseId: 43})),
	}
	created := proto.MessageName(&markettypes.EventLeaseCreated{})
	for _, tc := range []struct {
		typ, key, want string
	}{
		// Typed events JSON-encode values (uint64 as a quoted string); Attr strips the quotes.
		{created, "lease_id", "42"},
		{created, "provider", "cmpt1p"},
		{created, "msg_index", "0"},
		// Only events of the asked type count, though "message" comes first with the same key.
		{"message", "lease_id", "1"},
		{created, "no_such_key", ""},
		{"computed.market.v1.EventLeaseClosed", "lease_id", ""},
	} {
		if got := Attr(events, tc.typ, tc.key); got != tc.want {
			t.Errorf("Attr(%s, %s) = %q, want %q", tc.typ, tc.key, got, tc.want)
		}
	}
	if got := Attr(nil, created, "lease_id"); got != "" {
		t.Errorf("Attr(nil) = %q", got)
	}
}
