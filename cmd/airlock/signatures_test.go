package main

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/airlockhq/airlock/internal/cosigntest"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/internal/miniotest"
)

// TestSignatureScripts runs the scripts about upstream cosign signatures
// against images signed with the real cosign CLI (a missing cosign skips
// them, or fails them under CI=true).
func TestSignatureScripts(t *testing.T) {
	cosign := cosigntest.Binary(t)
	reg := imagetest.Registry(t)
	keyDir := signScriptImages(t, cosign, reg)
	tlsReg, tlsCA := signedTLSRegistry(t, cosign, keyDir)
	refReg := signBundleImages(t, cosign, reg, keyDir)
	srv := miniotest.Start(t) // import stores the carried evidence
	client := srv.Client()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/signatures",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg)
			env.Setenv("TLS_REGISTRY", tlsReg)
			env.Setenv("REFERRERS_REGISTRY", refReg)
			env.Setenv("ENDPOINT", srv.Endpoint)
			env.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
			env.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
			env.Setenv("AWS_REGION", "us-east-1")
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			if err := os.WriteFile(filepath.Join(env.WorkDir, "registry-ca.pem"), tlsCA, 0o644); err != nil {
				return err
			}
			if err := os.Mkdir(filepath.Join(env.WorkDir, "keys"), 0o755); err != nil {
				return err
			}
			for _, k := range []string{"alice.pub", "bob.pub", "trusted_root.json", "other_root.json"} {
				b, err := os.ReadFile(filepath.Join(keyDir, k))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, "keys", k), b, 0o644); err != nil {
					return err
				}
			}
			return setupScript(env)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"mkbucket": func(ts *testscript.TestScript, neg bool, args []string) {
				_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(args[0])})
				ts.Check(err)
			},
			"s3ls": s3ls(client),
		},
	})
}

// signScriptImages pushes and signs, with publisher keys alice and bob:
//
//	team/alice:1.0      signed by alice
//	team/bob:1.0        signed by bob
//	team/plain:1.0      unsigned
//	team/tampered:1.0   signed by alice, payload changed afterwards
//	library/multi:2.0   an index (linux/amd64, linux/arm64) signed by alice at the index digest
//	library/plat:3.0    an index whose linux/amd64 manifest alice signed
//
// and returns the folder holding alice.pub and bob.pub.
func signScriptImages(t *testing.T, cosign, reg string) string {
	dir := t.TempDir()
	alice, _ := cosigntest.KeyPair(t, cosign, dir, "alice")
	bob, _ := cosigntest.KeyPair(t, cosign, dir, "bob")
	push := func(repo string) string {
		img := imagetest.Image(t, []imagetest.File{{Name: "etc/" + repo, Body: repo + "\n"}})
		return imagetest.Push(t, reg+"/team/"+repo+":1.0", img)
	}
	cosigntest.Sign(t, cosign, alice, push("alice"))
	cosigntest.Sign(t, cosign, bob, push("bob"))
	push("plain")
	tampered := push("tampered")
	cosigntest.Sign(t, cosign, alice, tampered)
	cosigntest.TamperPayload(t, tampered)
	index := func(ref string) (string, string) {
		idx := imagetest.Index(t, map[string]v1.Image{
			"linux/amd64": imagetest.Image(t, []imagetest.File{{Name: "arch", Body: ref + " amd64\n"}}),
			"linux/arm64": imagetest.Image(t, []imagetest.File{{Name: "arch", Body: ref + " arm64\n"}}),
		})
		idxRef := imagetest.PushIndex(t, reg+ref, idx)
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range im.Manifests {
			if m.Platform.Architecture == "amd64" {
				return idxRef, strings.Split(idxRef, "@")[0] + "@" + m.Digest.String()
			}
		}
		t.Fatal("no amd64 manifest")
		return "", ""
	}
	multi, _ := index("/library/multi:2.0")
	cosigntest.Sign(t, cosign, alice, multi)
	_, plat := index("/library/plat:3.0")
	cosigntest.Sign(t, cosign, alice, plat)
	return dir
}

// signBundleImages signs images in sigstore's bundle format, on a registry
// with the referrers API (returned) unless said otherwise, with alice's and
// bob's keys from keyDir and with carol's certificate from a local CA, and
// writes that CA's trusted root (keyDir/trusted_root.json) and another
// CA's (keyDir/other_root.json):
//
//	team/keyed:1.0      alice's bundle signature, alice's CycloneDX SBOM, bob's SPDX SBOM
//	team/keyless:1.0    carol's bundle signature and SLSA provenance, certified for
//	                    https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
//	                    by https://token.actions.githubusercontent.com
//	team/both:1.0       alice's legacy .sig signature and bob's bundle signature
//	reg: team/fallback:1.0  alice's bundle signature through the referrers tag fallback
//	reg: team/legacyatt:1.0 alice's legacy .sig signature and .att CycloneDX SBOM
func signBundleImages(t *testing.T, cosign, reg, keyDir string) string {
	t.Helper()
	refReg := cosigntest.ReferrersRegistry(t)
	alice, bob := filepath.Join(keyDir, "alice.key"), filepath.Join(keyDir, "bob.key")
	carol, carolPub := cosigntest.KeyPair(t, cosign, keyDir, "carol")
	ca := cosigntest.NewCA(t, keyDir)
	cert := ca.Issue(t, "carol", carolPub, "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main", "https://token.actions.githubusercontent.com")
	if err := os.Rename(ca.TrustedRoot(t, cosign), filepath.Join(keyDir, "trusted_root.json")); err != nil {
		t.Fatal(err)
	}
	otherDir := t.TempDir()
	if err := os.Rename(cosigntest.NewCA(t, otherDir).TrustedRoot(t, cosign), filepath.Join(keyDir, "other_root.json")); err != nil {
		t.Fatal(err)
	}
	pred := func(name, body string) string {
		p := filepath.Join(keyDir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cdx := pred("cdx.json", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}`)
	spdx := pred("spdx.json", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"keyed","dataLicense":"CC0-1.0"}`)
	slsa := pred("slsa.json", `{"builder":{"id":"https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"},"buildType":"https://github.com/slsa-framework/slsa-github-generator/generic@v1"}`)
	push := func(reg, repo string) string {
		img := imagetest.Image(t, []imagetest.File{{Name: "etc/" + repo, Body: repo + " in a sigstore bundle\n"}})
		return imagetest.Push(t, reg+"/team/"+repo+":1.0", img)
	}
	keyed := push(refReg, "keyed")
	cosigntest.SignBundle(t, cosign, alice, keyed)
	cosigntest.Attest(t, cosign, alice, "cyclonedx", cdx, keyed, true)
	cosigntest.Attest(t, cosign, bob, "spdxjson", spdx, keyed, true)
	keyless := push(refReg, "keyless")
	cosigntest.SignBundleWithCertificate(t, cosign, carol, cert, ca.ChainPEM, keyless)
	cosigntest.Attest(t, cosign, carol, "slsaprovenance", slsa, keyless, true, "--certificate", cert, "--certificate-chain", ca.ChainPEM)
	both := push(refReg, "both")
	cosigntest.Sign(t, cosign, alice, both)
	cosigntest.SignBundle(t, cosign, bob, both)
	cosigntest.SignBundle(t, cosign, alice, push(reg, "fallback"))
	legacy := push(reg, "legacyatt")
	cosigntest.Sign(t, cosign, alice, legacy)
	cosigntest.Attest(t, cosign, alice, "cyclonedx", cdx, legacy, false)
	return refReg
}

// signedTLSRegistry serves a registry over TLS with a certificate only its
// own CA (returned as PEM) trusts, and pushes and signs with alice (whose
// key is in keyDir):
//
//	team/tool:1.0    signed by alice
//	team/stall:1.0   signed by alice; the first request for its signature gets no answer:
//	                 a client that has not given up on it after 5 s is refused (403)
//	team/denied:1.0  signed by alice; every request for its signature is refused (403)
//
// Every request for a signature without airlock's user agent is refused,
// so that a signature check that does not go through airlock's registry
// client fails.
func signedTLSRegistry(t *testing.T, cosign, keyDir string) (host string, caPEM []byte) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var stalled atomic.Bool
	var signing atomic.Bool
	signing.Store(true)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sigRequest(r) && !signing.Load() {
			if !strings.HasPrefix(r.UserAgent(), "airlock/") {
				http.Error(w, "signature requests must come from airlock's registry client, not "+r.UserAgent(), http.StatusForbidden)
				return
			}
			if strings.Contains(r.URL.Path, "/team/denied/") {
				http.Error(w, "no signatures for you", http.StatusForbidden)
				return
			}
			if strings.Contains(r.URL.Path, "/team/stall/") && !stalled.Swap(true) {
				select {
				case <-r.Context().Done(): // the client gave up, as it should
				case <-time.After(5 * time.Second):
					http.Error(w, "the client waited 5 s for a stalled request instead of giving up", http.StatusForbidden)
				}
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "https://")
	for _, repo := range []string{"tool", "stall", "denied"} {
		ref := host + "/team/" + repo + ":1.0"
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		img := imagetest.Image(t, []imagetest.File{{Name: "etc/" + repo, Body: repo + " over TLS\n"}})
		if err := remote.Write(r, img, remote.WithTransport(srv.Client().Transport)); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		cosigntest.Sign(t, cosign, filepath.Join(keyDir, "alice.key"), r.Context().Digest(d.String()).String())
	}
	signing.Store(false)
	return host, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// sigRequest reports whether r asks for a cosign signature (the tag
// sha256-<digest>.sig) or for the referrers of a digest (sigstore bundles).
func sigRequest(r *http.Request) bool {
	return strings.Contains(r.URL.Path, "/manifests/sha256-") && strings.HasSuffix(r.URL.Path, ".sig") ||
		strings.Contains(r.URL.Path, "/referrers/")
}
