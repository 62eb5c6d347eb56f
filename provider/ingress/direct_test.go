package ingress

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
