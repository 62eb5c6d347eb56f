package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/computed-network/computed/provider/gpu"
)

// nrasServer answers like NRAS v3 and records what it was sent.
type nrasServer struct {
	*httptest.Server
	calls  atomic.Int32
	status int
	body   string

	// The handler runs on the server's goroutine; the test reads these after Collect returns.
	mu     sync.Mutex
	got    nrasRequest
	header http.Header
}

func (s *nrasServer) request() (nrasRequest, http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got, s.header
}

func newNRAS(t *testing.T, status int, body string) *nrasServer {
	t.Helper()
	s := &nrasServer{status: status, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.header = r.Header.Clone()
		if r.Method != http.MethodPost {
			http.Error(w, "want POST", http.StatusMethodNotAllowed)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&s.got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(s.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func mockBackend(t *testing.T, cfg gpu.MockConfig) gpu.Backend {
	t.Helper()
	b := gpu.NewMock(cfg)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestNRASCollect(t *testing.T) {
	const eat = `[["JWT","eyJhbGciOi.platform.sig"],{"GPU-0":"eyJ.gpu.sig"}]`
	srv := newNRAS(t, http.StatusOK, eat)
	backend := mockBackend(t, gpu.H100Node())
	nonce := testNonce()

	ev, err := NRAS{URL: srv.URL, Backend: backend, Client: srv.Client()}.Collect(context.Background(), nonce)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Token) != eat {
		t.Errorf("Token = %q, want NRAS's body verbatim", ev.Token)
	}

	req, header := srv.request()
	if req.Nonce != hex.EncodeToString(nonce) || req.Arch != "HOPPER" || len(req.EvidenceList) != 8 {
		t.Fatalf("request nonce %q arch %q with %d evidence entries", req.Nonce, req.Arch, len(req.EvidenceList))
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	seen := map[string]bool{}
	for i, e := range req.EvidenceList {
		report, err := base64.StdEncoding.DecodeString(e.Evidence)
		if err != nil {
			t.Fatalf("evidence %d is not base64: %v", i, err)
		}
		certs, err := base64.StdEncoding.DecodeString(e.Certificate)
		if err != nil || len(certs) == 0 {
			t.Fatalf("certificate %d: %q, %v", i, e.Certificate, err)
		}
		// Each report is the GPU's answer to this nonce, one per GPU.
		if !bytes.Contains(report, nonce) || seen[string(report)] {
			t.Errorf("evidence %d does not answer the nonce or repeats another", i)
		}
		seen[string(report)] = true
	}

	devices, err := backend.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.GPUs) != 8 {
		t.Fatalf("GPUs = %+v, want 8", ev.GPUs)
	}
	for i, g := range ev.GPUs {
		if g.Sku != "H100-SXM-80GB" || g.VramGib != 80 || g.Uuid != devices[i].UUID {
			t.Errorf("GPU %d = %+v, want H100-SXM-80GB/80 %s", i, g, devices[i].UUID)
		}
	}
}

func TestNRASCollectErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    gpu.MockConfig
		nonce  []byte
		status int
		body   string
		want   []string
		// asked says whether NRAS may be called at all: bad input must fail before the network.
		asked bool
	}{
		{"rejected", gpu.H100Node(), testNonce(), http.StatusForbidden, "nonce expired\n", []string{"403 Forbidden", "nonce expired"}, true},
		{"server error", gpu.H100Node(), testNonce(), http.StatusInternalServerError, "", []string{"500"}, true},
		{"short nonce", gpu.H100Node(), testNonce()[:31], http.StatusOK, "", []string{"nonce must be 32 bytes, got 31"}, false},
		{"long nonce", gpu.H100Node(), append(testNonce(), 0), http.StatusOK, "", []string{"got 33"}, false},
		{"no nonce", gpu.H100Node(), nil, http.StatusOK, "", []string{"got 0"}, false},
		{"cc off", func() gpu.MockConfig { c := gpu.H100Node(); c.CC = false; return c }(), testNonce(), http.StatusOK, "",
			[]string{"no GPU has confidential computing on"}, false},
		{"no GPUs", gpu.MockConfig{Count: 0, CC: true}, testNonce(), http.StatusOK, "",
			[]string{"no GPU has confidential computing on"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newNRAS(t, tc.status, tc.body)
			n := NRAS{URL: srv.URL, Backend: mockBackend(t, tc.cfg), Client: srv.Client()}
			ev, err := n.Collect(context.Background(), tc.nonce)
			if err == nil {
				t.Fatalf("Collect = %+v, want an error", ev)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if called := srv.calls.Load() > 0; called && !tc.asked {
				t.Errorf("NRAS was called")
			}
		})
	}
}

func TestNRASUnreachable(t *testing.T) {
	srv := newNRAS(t, http.StatusOK, "")
	url := srv.URL
	srv.Close()
	_, err := NRAS{URL: url, Backend: mockBackend(t, gpu.H100Node())}.Collect(context.Background(), testNonce())
	if err == nil || !strings.HasPrefix(err.Error(), "NRAS:") {
		t.Fatalf("err = %v, want an 'NRAS: ...' transport error", err)
	}
}

func TestNRASClosedBackend(t *testing.T) {
	srv := newNRAS(t, http.StatusOK, "eat")
	b := gpu.NewMock(gpu.H100Node())
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := (NRAS{URL: srv.URL, Backend: b, Client: srv.Client()}).Collect(context.Background(), testNonce()); err == nil {
		t.Fatal("Collect over a closed backend succeeded")
	}
	if srv.calls.Load() != 0 {
		t.Error("NRAS was called without evidence")
	}
}
