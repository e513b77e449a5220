package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/airlockhq/airlock/source"
)

// registryTLS turns --registry-ca and --registry-certs-dir into source
// options: the system's CAs (SSL_CERT_FILE, SSL_CERT_DIR) plus each file
// for every registry, and docker's per-registry CAs.
func registryTLS(caFiles []string, certsDir string) ([]source.Option, error) {
	opts := []source.Option{source.WithCertsDir(certsDir)}
	if len(caFiles) == 0 {
		return opts, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range caFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("registry CA: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("registry CA %s holds no PEM certificate", f)
		}
	}
	return append(opts, source.WithRootCAs(pool)), nil
}

// registryTLSHint says how to trust a registry's CA.
func registryTLSHint(err error) error {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return withHint(err, "trust the registry's CA with --registry-ca FILE, or put it at "+source.DefaultCertsDir+"/HOST[:PORT]/ca.crt as for docker (SSL_CERT_FILE replaces the system's CAs)")
	}
	return err
}
