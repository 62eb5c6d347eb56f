package ingress

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// HTTP1Transport must keep one pool per host, reuse connections and carry bodies both ways.
func TestHTTP1TransportHostsAndReuse(t *testing.T) {
	conns := map[string]map[string]bool{}
	newServer := func(name string) *httptest.Server {
		conns[name] = map[string]bool{}
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			conns[name][r.RemoteAddr] = true
			fmt.Fprintf(w, "%s:%s:%s", name, r.URL.Path, body)
		}))
	}
	a, b := newServer("a"), newServer("b")
	defer a.Close()
	defer b.Close()

	client := &http.Client{Transport: NewHTTP1Transport()}
	defer client.CloseIdleConnections()
	for i := 0; i < 5; i++ {
		for _, s := range []struct {
			name string
			url  string
		}{{"a", a.URL}, {"b", b.URL}} {
			resp, err := client.Post(s.url+"/p", "text/plain", strings.NewReader(fmt.Sprint(i)))
			if err != nil {
				t.Fatalf("POST %s: %v", s.name, err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%s:/p:%d", s.name, i); string(got) != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	}
	// Sequential requests on a keep-alive pool use one connection per host.
	for name, seen := range conns {
		if len(seen) != 1 {
			t.Fatalf("host %s saw %d connections, want 1", name, len(seen))
		}
	}
}

// A dead host is an error, not a hang or a panic.
func TestHTTP1TransportDialError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	client := &http.Client{Transport: NewHTTP1Transport()}
	if _, err := client.Get(url); err == nil {
		t.Fatal("GET on a closed server succeeded")
	}
}

// A backend's informational answer (103 Early Hints here; 100 Continue alike) is not the
// request's answer: taken for it, the real answer stays queued on the pooled connection and the
// next request, another client's, reads it.
func TestInformationalResponsesSkipped(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "answer to "+r.URL.Path)
	}))
	defer backend.Close()
	client := &http.Client{Transport: NewHTTP1Transport()}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/first", "/second", "/third"} {
		resp, err := client.Get(backend.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "answer to "+path {
			t.Fatalf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
}

// A pooled connection the backend closed while idle is not used for the next request: one with
// a body cannot be sent again, so it would fail (a 502 counted against the provider).
func TestIdleConnectionClosedByBackend(t *testing.T) {
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	}))
	backend.Config.IdleTimeout = 20 * time.Millisecond
	backend.Start()
	defer backend.Close()
	client := &http.Client{Transport: NewHTTP1Transport()}
	defer client.CloseIdleConnections()
	for i := range 3 {
		// Not replayable: the transport cannot retry it on a fresh connection.
		body := io.NopCloser(strings.NewReader(fmt.Sprint("payload ", i)))
		req, err := http.NewRequest(http.MethodPost, backend.URL+"/infer", body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %d after the backend closed the idle connection: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != fmt.Sprint("payload ", i) {
			t.Fatalf("POST %d: %q", i, got)
		}
		time.Sleep(200 * time.Millisecond) // the backend closes the connection meanwhile
	}
}
