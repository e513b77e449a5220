package bundle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// Each case damages a good bundle and expects verification to fail with an
// error naming the thing at fault.
func TestBadInput(t *testing.T) {
	const partSize = 4096
	tests := []struct {
		name     string
		damage   func(t *testing.T, f *fixture, files []string) []string // returns verify args
		failure  bool                                                    // a *verify.Error (exit 3)
		mentions []string
	}{{
		name: "flipped byte in payload",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			flipByte(t, files[2], 100) // inside images/a (10000 bytes, from ~2.5 KiB on)
			return files[:1]
		},
		failure:  true,
		mentions: []string{"entry images/a/a-1.0.tgz", "split.tar.003:", "differs from the signed part index"},
	}, {
		name: "truncated last part",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			last := files[len(files)-1]
			fi, _ := os.Stat(last)
			os.Truncate(last, fi.Size()-1500)
			return files[:1]
		},
		failure:  true,
		mentions: []string{"split.tar.005", "short by 1500 bytes"},
	}, {
		name: "missing middle part",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			os.Remove(files[1])
			return files[:1]
		},
		failure:  true,
		mentions: []string{"bundle ends early: 4 of 5 parts present; split.tar.002 is missing"},
	}, {
		name: "missing last part",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			os.Remove(files[4])
			return files[:1]
		},
		failure:  true,
		mentions: []string{"bundle ends early: 4 of 5 parts present; split.tar.005 is missing"},
	}, {
		name: "part of another bundle",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			os.Mkdir(filepath.Join(f.dir, "o"), 0o755)
			keep := f.data["images/a/a-1.0.tgz"]
			f.data["images/a/a-1.0.tgz"] = bytes.Repeat([]byte("other"), 2000)
			other := f.write(t, "o/split", bundle.WithPartSize(partSize))
			f.data["images/a/a-1.0.tgz"] = keep
			copyFile(t, other.Files[1], files[1])
			return files[:1]
		},
		failure:  true,
		mentions: []string{"split.tar.002", "differs from the signed part index"},
	}, {
		name: "without a part index: parts out of order",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			os.Remove(filepath.Join(f.dir, "split.parts.sha256"))
			files[0], files[1] = files[1], files[0]
			return files
		},
		mentions: []string{"out of order", "split.tar.002"},
	}, {
		name: "without a part index: cut inside an entry",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			os.Remove(filepath.Join(f.dir, "split.parts.sha256"))
			os.Remove(files[4])
			os.Remove(files[3])
			return files[:1]
		},
		failure:  true,
		mentions: []string{"entry images/", "in part", "split.tar.003", "ends early"},
	}, {
		name: "parts swapped on disk",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			os.Rename(files[1], files[1]+".x")
			os.Rename(files[2], files[1])
			os.Rename(files[1]+".x", files[2])
			return files[:1]
		},
		failure:  true,
		mentions: []string{"split.tar.002", "holds the content of split.tar.003"},
	}, {
		name:     "extra entry not in the manifest",
		damage:   whole(func(e []tarEntry) []tarEntry { return append(e, entry("images/x.tgz", "extra")) }),
		failure:  true,
		mentions: []string{"images/x.tgz", "not listed in the signed manifest"},
	}, {
		name:     "manifest entry missing from the stream",
		damage:   whole(func(e []tarEntry) []tarEntry { return append(e[:4], e[5:]...) }),
		failure:  true,
		mentions: []string{"images/b/b-2.0.tgz", "missing from the bundle"},
	}, {
		name: "entry with ../ path",
		damage: whole(func(e []tarEntry) []tarEntry {
			return append(e[:3], append([]tarEntry{entry("../evil", "x")}, e[3:]...)...)
		}),
		failure:  true,
		mentions: []string{"../evil", "unsafe entry name"},
	}, {
		name:     "entry with absolute path",
		damage:   whole(func(e []tarEntry) []tarEntry { return append(e, entry("/etc/passwd", "x")) }),
		failure:  true,
		mentions: []string{"/etc/passwd", "absolute"},
	}, {
		name:     "unsigned bundle",
		damage:   whole(func(e []tarEntry) []tarEntry { return append(e[:1], e[2:]...) }),
		failure:  true,
		mentions: []string{"SHA256SUMS.sig", "not signed"},
	}, {
		name: "signature over a different manifest",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			other := f.write(t, "other", bundle.WithCreated(created.AddDate(0, 0, 1)))
			return whole(func(e []tarEntry) []tarEntry {
				e[1].body = tarHeaders0(t, other.Files[0], manifest.SigName)
				return e
			})(t, f, files)
		},
		failure:  true,
		mentions: []string{"SHA256SUMS", "does not match any trusted key"},
	}, {
		name: "wrong public key",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			keys.Generate(filepath.Join(f.dir, "stranger"))
			pub, _ := keys.LoadPublic(filepath.Join(f.dir, "stranger.pub"))
			f.trusted = []keys.Public{pub}
			return files[:1]
		},
		failure:  true,
		mentions: []string{"does not match any trusted key"},
	}, {
		name: "not a bundle",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			p := filepath.Join(f.dir, "notes.txt")
			os.WriteFile(p, []byte("hello, this is not a tar file at all\n"), 0o644)
			return []string{p}
		},
		mentions: []string{"notes.txt", "not an airlock bundle"},
	}, {
		name: "a tar that is not a bundle",
		damage: whole(func(e []tarEntry) []tarEntry {
			return []tarEntry{entry("hello.txt", "hi")}
		}),
		mentions: []string{"whole.tar", "not an airlock bundle", "hello.txt"},
	}, {
		name: "empty file",
		damage: func(t *testing.T, f *fixture, files []string) []string {
			p := filepath.Join(f.dir, "empty.tar")
			os.WriteFile(p, nil, 0o644)
			return []string{p}
		},
		mentions: []string{"empty.tar", "empty or not a tar file"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.write(t, "split", bundle.WithPartSize(partSize))
			args := tt.damage(t, f, append([]string(nil), res.Files...))
			_, err := f.verifyAll(args...)
			wantErr(t, err, tt.mentions...)
			if got := verify.IsFailure(err); got != tt.failure {
				t.Errorf("IsFailure = %v, want %v (err: %v)", got, tt.failure, err)
			}
		})
	}
}

// whole rewrites the bundle as one file (whole.tar) with edited entries.
func whole(edit func([]tarEntry) []tarEntry) func(*testing.T, *fixture, []string) []string {
	return func(t *testing.T, f *fixture, files []string) []string {
		src := filepath.Join(f.dir, "joined.tar")
		var all []byte
		for _, p := range files {
			all = append(all, readFile(t, p)...)
		}
		os.WriteFile(src, all, 0o644)
		dst := filepath.Join(f.dir, "whole.tar")
		rewrite(t, src, dst, edit)
		return []string{dst}
	}
}

func entry(name, body string) tarEntry {
	return tarEntry{hdr: hdr(name), body: []byte(body)}
}

func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	b := readFile(t, p)
	b[off] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, readFile(t, from), 0o644); err != nil {
		t.Fatal(err)
	}
}
