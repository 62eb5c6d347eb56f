package docker

import (
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types"

	"github.com/computed-network/computed/provider/exec"
)

const (
	hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hexB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestParseWorkloadRefusesUnpinned(t *testing.T) {
	for _, tc := range []struct{ workload, digest string }{
		{"", ""},
		{"computed-test/echo:latest", ""},
		{"computed-test/echo", ""},
		{"latest", ""},
		{"sha256:" + hexA[:63], ""},                   // short ID
		{"sha256:" + strings.ToUpper(hexA), ""},       // engines only use lowercase
		{"echo@sha256:" + hexA[:10], ""},              // truncated digest
		{"echo@sha512:" + hexA + hexA, ""},            // not sha256
		{"sha256:" + hexA, "sha256:" + hexB},          // order names another image
		{"echo@sha256:" + hexA, hexB},                 // bare-hex digest, still different
		{"Bad Name@sha256:" + hexA, ""},               // not a reference at all
		{"echo:1.0@sha256:" + hexA, "sha256:" + hexB}, // tag does not change the digest check
	} {
		_, err := parseWorkload(tc.workload, tc.digest)
		if !errors.Is(err, exec.ErrRefused) {
			t.Errorf("parseWorkload(%q, %q) = %v, want ErrRefused", tc.workload, tc.digest, err)
		}
	}
}

func TestParseWorkloadAcceptsPinned(t *testing.T) {
	for _, tc := range []struct{ workload, digest, want string }{
		{"sha256:" + hexA, "", "sha256:" + hexA},
		{"sha256:" + hexA, "sha256:" + hexA, "sha256:" + hexA},
		{"sha256:" + hexA, hexA, "sha256:" + hexA},
		{"echo@sha256:" + hexA, "", "docker.io/library/echo@sha256:" + hexA},
		{"registry.example:5000/team/echo@sha256:" + hexA, "sha256:" + hexA, "registry.example:5000/team/echo@sha256:" + hexA},
		// A tag beside the digest is dropped: the digest alone decides what runs.
		{"echo:1.0@sha256:" + hexA, "", "docker.io/library/echo@sha256:" + hexA},
	} {
		p, err := parseWorkload(tc.workload, tc.digest)
		if err != nil {
			t.Errorf("parseWorkload(%q, %q): %v", tc.workload, tc.digest, err)
			continue
		}
		if p.String() != tc.want {
			t.Errorf("parseWorkload(%q) = %q, want %q", tc.workload, p.String(), tc.want)
		}
	}
}

func TestCheckLocal(t *testing.T) {
	byID, _ := parseWorkload("sha256:"+hexA, "")
	if err := byID.checkLocal(types.ImageInspect{ID: "sha256:" + hexA}); err != nil {
		t.Errorf("matching ID refused: %v", err)
	}
	if err := byID.checkLocal(types.ImageInspect{ID: "sha256:" + hexB}); !errors.Is(err, exec.ErrRefused) {
		t.Errorf("other ID = %v, want ErrRefused", err)
	}

	byRepo, _ := parseWorkload("docker.io/library/echo@sha256:"+hexA, "")
	// The engine lists repo digests in their familiar form.
	ok := types.ImageInspect{ID: "sha256:" + hexB, RepoDigests: []string{"other@sha256:" + hexA, "echo@sha256:" + hexA}}
	if err := byRepo.checkLocal(ok); err != nil {
		t.Errorf("matching repo digest refused: %v", err)
	}
	for _, digests := range [][]string{nil, {"echo@sha256:" + hexB}, {"other@sha256:" + hexA}} {
		err := byRepo.checkLocal(types.ImageInspect{ID: "sha256:" + hexB, RepoDigests: digests})
		if !errors.Is(err, exec.ErrRefused) {
			t.Errorf("repo digests %v = %v, want ErrRefused", digests, err)
		}
	}
}
