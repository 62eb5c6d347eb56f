package ingress

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// hopHeaders are the hop-by-hop headers (RFC 9110 §7.6.1) a proxy must not forward.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// forward is the proxy's hot path for ordinary requests: the semantics of httputil.ReverseProxy
// (hop-by-hop headers dropped, X-Forwarded-* set, bodies streamed, trailers kept, an aborted
// backend body aborts the client's response) without its per-request request clone and header
// copies. Protocol upgrades go through ReverseProxy, which knows how to splice them.
func (p *Proxy) forward(rw http.ResponseWriter, req *http.Request) {
	if isUpgrade(req.Header) {
		p.rp.ServeHTTP(rw, req)
		return
	}
	out := new(http.Request)
	*out = *req // shallow: the incoming request is not used again after this handler
	u := *p.target
	u.Path, u.RawPath = joinURLPath(p.target, req.URL)
	u.RawQuery = req.URL.RawQuery
	if p.target.RawQuery != "" {
		u.RawQuery = p.target.RawQuery + "&" + req.URL.RawQuery
	}
	out.URL, out.Host, out.RequestURI, out.Close = &u, "", "", false
	if req.ContentLength == 0 {
		out.Body = nil // an empty body is sent without Transfer-Encoding
	}
	te := req.Header.Get("Te")
	removeHopHeaders(out.Header)
	// The front server already answered it (100 Continue as the body is read); the backend
	// need not answer it again.
	out.Header.Del("Expect")
	if strings.Contains(strings.ToLower(te), "trailers") {
		out.Header.Set("Te", "trailers")
	}
	if ip, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		if prior := out.Header["X-Forwarded-For"]; len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		out.Header.Set("X-Forwarded-For", ip)
	}
	out.Header.Set("X-Forwarded-Host", req.Host)
	proto := "http"
	if req.TLS != nil {
		proto = "https"
	}
	out.Header.Set("X-Forwarded-Proto", proto)

	res, err := p.transport.RoundTrip(out.WithContext(req.Context()))
	if err != nil {
		p.handleError(rw, req, err)
		return
	}
	defer res.Body.Close()
	removeHopHeaders(res.Header)
	h := rw.Header()
	for k, vv := range res.Header {
		h[k] = vv
	}
	announced := len(res.Trailer)
	if announced > 0 {
		names := make([]string, 0, announced)
		for k := range res.Trailer {
			names = append(names, k)
		}
		h.Set("Trailer", strings.Join(names, ", "))
	}
	rw.WriteHeader(res.StatusCode)
	streaming := res.ContentLength == -1
	buf := p.buffers.Get()
	defer p.buffers.Put(buf)
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			if _, werr := rw.Write(buf[:n]); werr != nil {
				panic(http.ErrAbortHandler) // the client is gone
			}
			if streaming {
				_ = http.NewResponseController(rw).Flush()
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				break
			}
			// The backend failed mid-body, or the client went away and the read was cancelled:
			// abort rather than send a truncated response; finish tells the two apart.
			panic(http.ErrAbortHandler)
		}
	}
	for k, vv := range res.Trailer {
		if announced > 0 {
			h[k] = vv
		} else {
			h[http.TrailerPrefix+k] = vv
		}
	}
}

// joinURLPath joins the target's and the request's paths as ReverseProxy does.
func joinURLPath(a, b *url.URL) (path, rawpath string) {
	if a.RawPath == "" && b.RawPath == "" {
		return singleJoiningSlash(a.Path, b.Path), ""
	}
	apath, bpath := a.EscapedPath(), b.EscapedPath()
	aslash, bslash := strings.HasSuffix(apath, "/"), strings.HasPrefix(bpath, "/")
	switch {
	case aslash && bslash:
		return a.Path + b.Path[1:], apath + bpath[1:]
	case !aslash && !bslash:
		return a.Path + "/" + b.Path, apath + "/" + bpath
	}
	return a.Path + b.Path, apath + bpath
}

func singleJoiningSlash(a, b string) string {
	aslash, bslash := strings.HasSuffix(a, "/"), strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}
