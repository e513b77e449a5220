package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/airlockhq/airlock/internal/cosigntest"
	"github.com/airlockhq/airlock/internal/imagetest"
)

// TestSignatureScripts runs the scripts about upstream cosign signatures
// against images signed with the real cosign CLI (a missing cosign skips
// them, or fails them under CI=true).
func TestSignatureScripts(t *testing.T) {
	cosign := cosigntest.Binary(t)
	reg := imagetest.Registry(t)
	keyDir := signScriptImages(t, cosign, reg)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/signatures",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg)
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			if err := os.Mkdir(filepath.Join(env.WorkDir, "keys"), 0o755); err != nil {
				return err
			}
			for _, k := range []string{"alice.pub", "bob.pub"} {
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
