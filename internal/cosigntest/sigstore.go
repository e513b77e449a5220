package cosigntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// ReferrersRegistry starts an in-process registry that serves the OCI 1.1
// referrers API and returns its host:port.
func ReferrersRegistry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

var offline = []string{"--new-bundle-format", "--use-signing-config=false", "--tlog-upload=false",
	"--allow-insecure-registry", "--allow-http-registry", "--yes"}

// SignBundle signs ref with key in sigstore's bundle format, attached
// through the referrers API (or, on a registry without it, the referrers
// tag fallback), without a transparency log.
func SignBundle(t testing.TB, cosign, key, ref string) {
	t.Helper()
	run(t, cosign, filepath.Dir(key), append([]string{"sign", "--key", key}, append(offline, ref)...)...)
}

// SignReferrer signs ref with key in cosign's legacy signature layout,
// attached as an OCI 1.1 referrer instead of at the ".sig" tag (cosign's
// experimental --registry-referrers-mode=oci-1-1).
func SignReferrer(t testing.TB, cosign, key, ref string) {
	t.Helper()
	runEnv(t, cosign, filepath.Dir(key), []string{"COSIGN_EXPERIMENTAL=1"}, "sign", "--key", key, "--tlog-upload=false",
		"--registry-referrers-mode=oci-1-1", "--allow-insecure-registry", "--allow-http-registry", "--yes", ref)
}

// SignBundleWithCertificate signs ref like SignBundle with key, putting
// cert (issued for key's public half, see CA.Issue) in the bundle.
func SignBundleWithCertificate(t testing.TB, cosign, key, cert, chain, ref string) {
	t.Helper()
	run(t, cosign, filepath.Dir(key), append([]string{"sign", "--key", key, "--certificate", cert, "--certificate-chain", chain}, append(offline, ref)...)...)
}

// Attest attaches an attestation of type typ (cyclonedx, spdxjson,
// slsaprovenance, ...) with the predicate file predicate to ref, signed
// with key: in sigstore's bundle format through referrers when bundle is
// true, else in the legacy ".att" tag. extra are more cosign flags, e.g.
// --certificate and --certificate-chain.
func Attest(t testing.TB, cosign, key, typ, predicate, ref string, bundle bool, extra ...string) {
	t.Helper()
	args := append([]string{"attest", "--key", key, "--type", typ, "--predicate", predicate}, extra...)
	if bundle {
		args = append(args, offline...)
	} else {
		args = append(args, "--tlog-upload=false", "--allow-insecure-registry", "--allow-http-registry", "--yes")
	}
	run(t, cosign, filepath.Dir(key), append(args, ref)...)
}

// CA is a local certificate authority standing in for Fulcio.
type CA struct {
	Dir      string
	ChainPEM string // path of the CA certificate (the whole chain)
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
}

// NewCA creates a CA in dir (DIR/ca.pem).
func NewCA(t testing.TB, dir string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "airlock test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{Dir: dir, ChainPEM: filepath.Join(dir, "ca.pem"), cert: cert, key: key}
	writePEM(t, ca.ChainPEM, der)
	return ca
}

// oidcIssuerOID is Fulcio's OIDC issuer extension (v2).
var oidcIssuerOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

// Issue writes DIR/NAME.crt: a code-signing certificate for the public key
// in pub (a PEM file) with subject (a URI SAN) and the OIDC issuer, as
// Fulcio issues for a workload identity.
func (ca *CA) Issue(t testing.TB, name, pub, subject, issuer string) string {
	t.Helper()
	b, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(subject)
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := asn1.Marshal(issuer)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs: []*url.URL{u}, ExtraExtensions: []pkix.Extension{{Id: oidcIssuerOID, Value: iss}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pk, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ca.Dir, name+".crt")
	writePEM(t, path, der)
	return path
}

// TrustedRoot writes DIR/trusted_root.json naming the CA as the only
// certificate authority, with `cosign trusted-root create`.
func (ca *CA) TrustedRoot(t testing.TB, cosign string) string {
	t.Helper()
	out := filepath.Join(ca.Dir, "trusted_root.json")
	run(t, cosign, ca.Dir, "trusted-root", "create", "--fulcio=url=https://ca.airlock.test,certificate-chain="+ca.ChainPEM, "--out", out)
	return out
}

func writePEM(t testing.TB, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
