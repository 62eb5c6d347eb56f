package verify

import (
	"crypto/x509"
	"strings"

	errorsmod "cosmossdk.io/errors"
	"github.com/google/go-sev-guest/kds"
	"github.com/google/go-sev-guest/verify/trust"
)

// SNPRoots maps an AMD product line ("Milan", "Genoa") to the ARK/ASK (or ARK/ASVK) bundles trusted
// for it. It must never be empty when passed to VerifySNP: go-sev-guest silently falls back to its
// embedded AMD roots when given no roots, and trust must come from chain state, not from whatever
// library version a validator happens to compile in.
type SNPRoots map[string][]*trust.AMDRootCerts

// supportedProductLines are the product lines whose TCB_VERSION layout (bl, tee, _, _, _, _, snp,
// ucode) go-sev-guest v0.15.0 decodes. Turin moved the fields (it adds FMC), so a minimum-TCB check
// on a Turin report would compare the wrong bytes; Turin is refused until that is handled.
var supportedProductLines = []string{"Milan", "Genoa"}

// ParseAMDRoots parses a KDS cert_chain bundle (two PEM certificates: ASK or ASVK, then ARK), as
// served by https://kdsintf.amd.com/{vcek,vlek}/v1/<productLine>/cert_chain, and checks that the
// ARK is self-signed, that it signed the intermediate, and that both are named for productLine.
func ParseAMDRoots(productLine string, pemBundle []byte) (*trust.AMDRootCerts, error) {
	if !containsExact(supportedProductLines, productLine) {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "product line %q not supported (want one of %v)", truncate(productLine), supportedProductLines)
	}
	askDER, arkDER, err := kds.ParseProductCertChain(pemBundle)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "%v", err)
	}
	// Parse ourselves first: trust.ProductCerts.Decode only logs an unparsable ARK and carries on.
	ark, err := x509.ParseCertificate(arkDER)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "ARK: %v", err)
	}
	ica, err := x509.ParseCertificate(askDER)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "ASK/ASVK: %v", err)
	}
	if ark.Subject.CommonName != "ARK-"+productLine {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "ARK common name %q, want ARK-%s", ark.Subject.CommonName, productLine)
	}
	if cn := ica.Subject.CommonName; cn != "SEV-"+productLine && cn != "SEV-VLEK-"+productLine {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "intermediate common name %q, want SEV-%s or SEV-VLEK-%s", cn, productLine, productLine)
	}
	if err := ark.CheckSignatureFrom(ark); err != nil {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "ARK is not self-signed: %v", err)
	}
	if err := ica.CheckSignatureFrom(ark); err != nil {
		return nil, errorsmod.Wrapf(ErrSNPRootsInvalid, "intermediate not signed by ARK: %v", err)
	}
	roots := trust.AMDRootCertsProduct(productLine)
	roots.ProductCerts = &trust.ProductCerts{Ark: ark}
	if strings.HasPrefix(ica.Subject.CommonName, "SEV-VLEK-") {
		roots.ProductCerts.Asvk = ica
	} else {
		roots.ProductCerts.Ask = ica
	}
	return roots, nil
}

// AddPEM parses a KDS cert_chain bundle and appends it to the roots of productLine. A product line
// may hold several bundles, e.g. a VCEK (ASK) and a VLEK (ASVK) chain under the same ARK.
func (r SNPRoots) AddPEM(productLine string, pemBundle []byte) error {
	roots, err := ParseAMDRoots(productLine, pemBundle)
	if err != nil {
		return err
	}
	r[productLine] = append(r[productLine], roots)
	return nil
}

// Validate rejects an empty root set (see SNPRoots) and malformed entries.
func (r SNPRoots) Validate() error {
	if len(r) == 0 {
		return errorsmod.Wrap(ErrSNPRootsInvalid, "no trusted AMD roots")
	}
	for _, line := range sortedKeys(r) {
		if !containsExact(supportedProductLines, line) {
			return errorsmod.Wrapf(ErrSNPRootsInvalid, "product line %q not supported", truncate(line))
		}
		if len(r[line]) == 0 {
			return errorsmod.Wrapf(ErrSNPRootsInvalid, "product line %s has no roots", line)
		}
		for _, root := range r[line] {
			if root == nil || root.ProductCerts == nil || root.ProductCerts.Ark == nil ||
				(root.ProductCerts.Ask == nil && root.ProductCerts.Asvk == nil) || root.GetProductLine() != line {
				return errorsmod.Wrapf(ErrSNPRootsInvalid, "product line %s: incomplete root bundle", line)
			}
		}
	}
	return nil
}
