package docker

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types"

	"github.com/computed-network/computed/provider/exec"
)

// ErrImageNotLoaded is returned when a pinned image is not in the engine's local store. The
// driver never pulls (providers run without registry access), so the image must be loaded
// beforehand, e.g. with `docker load`.
var ErrImageNotLoaded = fmt.Errorf("image not loaded locally (pulling is disabled): %w", exec.ErrUnavailable)

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// pinnedImage is a workload reference that names exactly one image.
type pinnedImage struct {
	// digest is "sha256:<hex>": the manifest digest for a repository reference, the image ID
	// (config digest) for a bare ID.
	digest string
	// named is the repository reference ("repo@sha256:..."); nil for a bare image ID.
	named reference.Canonical
}

// isID reports whether the workload names a local image ID rather than a repository digest.
func (p pinnedImage) isID() bool { return p.named == nil }

// parseWorkload accepts only references that cannot drift: a repository pinned by digest or a
// local image ID. Tags are refused because what they point to changes under the provider.
func parseWorkload(workload, digest string) (pinnedImage, error) {
	var p pinnedImage
	switch {
	case workload == "":
		return p, fmt.Errorf("%w: empty image reference", exec.ErrRefused)
	case strings.HasPrefix(workload, "sha256:"):
		if !sha256Digest.MatchString(workload) {
			return p, fmt.Errorf("%w: image ID %q is not sha256:<64 lowercase hex>", exec.ErrRefused, workload)
		}
		p.digest = workload
	default:
		ref, err := reference.ParseNormalizedNamed(workload)
		if err != nil {
			return p, fmt.Errorf("%w: image reference %q: %v", exec.ErrRefused, workload, err)
		}
		canonical, ok := ref.(reference.Canonical)
		if !ok {
			return p, fmt.Errorf("%w: image %q is not pinned by digest (want name@sha256:<hex> or sha256:<hex>)", exec.ErrRefused, workload)
		}
		d := canonical.Digest().String()
		if !sha256Digest.MatchString(d) {
			return p, fmt.Errorf("%w: image %q: digest %q is not sha256:<64 lowercase hex>", exec.ErrRefused, workload, d)
		}
		// A tag next to the digest is ignored by the engine; drop it so matching is on
		// repository and digest alone.
		trimmed, err := reference.WithDigest(reference.TrimNamed(canonical), canonical.Digest())
		if err != nil {
			return p, fmt.Errorf("%w: image reference %q: %v", exec.ErrRefused, workload, err)
		}
		p.named, p.digest = trimmed, d
	}
	if digest != "" {
		want := digest
		if !strings.HasPrefix(want, "sha256:") {
			want = "sha256:" + want
		}
		if want != p.digest {
			return p, fmt.Errorf("%w: image %q has digest %s, the order names %s", exec.ErrRefused, workload, p.digest, digest)
		}
	}
	return p, nil
}

// checkLocal confirms that the locally stored image is the one the workload pins: the engine
// resolves digest references itself, but checking here keeps the guarantee independent of how
// lookups behave across engine versions.
func (p pinnedImage) checkLocal(img types.ImageInspect) error {
	if p.isID() {
		if img.ID != p.digest {
			return fmt.Errorf("%w: local image has ID %s, want %s", exec.ErrRefused, img.ID, p.digest)
		}
		return nil
	}
	for _, rd := range img.RepoDigests {
		ref, err := reference.ParseNormalizedNamed(rd)
		if err != nil {
			continue
		}
		if ref.String() == p.named.String() {
			return nil
		}
	}
	return fmt.Errorf("%w: local image %s does not carry repo digest %s (has %v)",
		exec.ErrRefused, img.ID, reference.FamiliarString(p.named), img.RepoDigests)
}

// String is the reference handed to the engine.
func (p pinnedImage) String() string {
	if p.isID() {
		return p.digest
	}
	return p.named.String()
}
