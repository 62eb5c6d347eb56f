package ingress

import (
	"bufio"
	"net"
	"net/http"
)

// statusWriter records the status the client is sent. It hides nothing from ReverseProxy:
// flushing goes through Unwrap (http.ResponseController), and Hijack is wrapped only to note
// a successful protocol switch.
type statusWriter struct {
	rw     http.ResponseWriter
	status int
	// completed is set once ReverseProxy returned normally; false at finish means the
	// response was aborted (ReverseProxy panics with http.ErrAbortHandler mid-body).
	completed bool
}

func (w *statusWriter) Header() http.Header { return w.rw.Header() }

func (w *statusWriter) WriteHeader(code int) {
	// 1xx informational headers precede the final status; they are not the outcome.
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.rw.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.rw.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.rw }

// Hijack is used by ReverseProxy only to switch protocols (WebSocket upgrades).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.status = http.StatusSwitchingProtocols
	}
	return c, brw, err
}
