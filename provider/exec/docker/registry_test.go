package docker

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// memRegistry is just enough of the OCI distribution API for the engine to push to it. Pushing
// is the only way, without pulling, to give a local image a repo digest, which the
// "name@sha256:..." workload form is checked against.
type memRegistry struct {
	mu        sync.Mutex
	blobs     map[string][]byte // by digest
	uploads   map[string][]byte // by upload id
	manifests map[string]manifest
	next      int
}

type manifest struct {
	mediaType string
	body      []byte
}

func newMemRegistry() *httptest.Server {
	r := &memRegistry{blobs: map[string][]byte{}, uploads: map[string][]byte{}, manifests: map[string]manifest{}}
	return httptest.NewServer(r)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (r *memRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	path := req.URL.Path
	if path == "/v2/" || path == "/v2" {
		return
	}
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	switch {
	case strings.Contains(rest, "/blobs/uploads/"):
		i := strings.LastIndex(rest, "/blobs/uploads/")
		r.upload(w, req, rest[:i], rest[i+len("/blobs/uploads/"):])
	case strings.Contains(rest, "/blobs/"):
		i := strings.LastIndex(rest, "/blobs/")
		r.blob(w, req, rest[i+len("/blobs/"):])
	case strings.Contains(rest, "/manifests/"):
		i := strings.LastIndex(rest, "/manifests/")
		r.manifest(w, req, rest[:i], rest[i+len("/manifests/"):])
	default:
		http.NotFound(w, req)
	}
}

func (r *memRegistry) upload(w http.ResponseWriter, req *http.Request, name, id string) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch req.Method {
	case http.MethodPost:
		r.next++
		id = strconv.Itoa(r.next)
		r.uploads[id] = body
	case http.MethodPatch:
		r.uploads[id] = append(r.uploads[id], body...)
	case http.MethodPut:
		data := append(r.uploads[id], body...)
		delete(r.uploads, id)
		want := req.URL.Query().Get("digest")
		if digestOf(data) != want {
			http.Error(w, "digest mismatch", http.StatusBadRequest)
			return
		}
		r.blobs[want] = data
		w.Header().Set("Docker-Content-Digest", want)
		w.Header().Set("Location", "/v2/"+name+"/blobs/"+want)
		w.WriteHeader(http.StatusCreated)
		return
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
	w.Header().Set("Docker-Upload-UUID", id)
	w.Header().Set("Range", fmt.Sprintf("0-%d", max(len(r.uploads[id])-1, 0)))
	w.WriteHeader(http.StatusAccepted)
}

func (r *memRegistry) blob(w http.ResponseWriter, req *http.Request, digest string) {
	data, ok := r.blobs[digest]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if req.Method == http.MethodGet {
		w.Write(data)
	}
}

func (r *memRegistry) manifest(w http.ResponseWriter, req *http.Request, name, ref string) {
	key := name + "@" + ref
	if req.Method == http.MethodPut {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m := manifest{mediaType: req.Header.Get("Content-Type"), body: body}
		digest := digestOf(body)
		r.manifests[key] = m
		r.manifests[name+"@"+digest] = m
		w.Header().Set("Docker-Content-Digest", digest)
		w.Header().Set("Location", "/v2/"+name+"/manifests/"+digest)
		w.WriteHeader(http.StatusCreated)
		return
	}
	m, ok := r.manifests[key]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", m.mediaType)
	w.Header().Set("Docker-Content-Digest", digestOf(m.body))
	w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
	if req.Method == http.MethodGet {
		w.Write(m.body)
	}
}

// anonymousAuth is the registry credential header for a registry without auth.
var anonymousAuth = base64.URLEncoding.EncodeToString([]byte("{}"))
