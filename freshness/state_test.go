package freshness

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/manifest"
)

var minio miniotest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	minio.Close()
	os.Exit(code)
}

const signer = "0123456789abcdef"

var t0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// bundleAt is bundle seq of channel prod; content tells bundles of one
// sequence apart.
func bundleAt(seq uint64, content string) Bundle {
	return Bundle{ID: Digest([]byte("id" + content))[:16], Digest: Digest([]byte(content)), Signer: signer,
		Created:   t0.Add(time.Duration(seq) * time.Hour),
		Freshness: &manifest.Freshness{Channel: "prod", Sequence: seq, Expires: t0.Add(30 * 24 * time.Hour)}}
}

func accept(t *testing.T, s *bucket.Store, b Bundle, allow ...Override) (Verdict, error) {
	t.Helper()
	// As import does: the state seen when the bundle was checked.
	var seen uint64
	if st, _, err := ReadState(context.Background(), s, "p/", signer, "prod"); err == nil && st != nil {
		seen = st.Sequence
	}
	return Accept(context.Background(), s, "p/", b, seen, t0.Add(100*time.Hour), allow...)
}

func stored(t *testing.T, s *bucket.Store) *State {
	t.Helper()
	st, _, err := ReadState(context.Background(), s, "p/", signer, "prod")
	if err != nil || st == nil {
		t.Fatalf("ReadState = %v, %v", st, err)
	}
	return st
}

func wantKind(t *testing.T, err error, k Kind) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != k {
		t.Fatalf("err = %v, want a %s *Error", err, k)
	}
}

func TestAcceptRefusesAReplayAndAnotherBundleOfTheSameSequence(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	if v, err := accept(t, s, bundleAt(2, "two")); err != nil || v.Status != Fresh {
		t.Fatalf("first: %+v, %v", v, err)
	}
	if v, err := accept(t, s, bundleAt(2, "two")); err != nil || v.Status != Same {
		t.Fatalf("the same bundle again: %+v, %v, want it accepted as the same", v, err)
	}
	_, err := accept(t, s, bundleAt(1, "one"))
	wantKind(t, err, Rollback)
	_, err = accept(t, s, bundleAt(2, "other"))
	wantKind(t, err, Conflict)
	if st := stored(t, s); st.Sequence != 2 || st.Digest != bundleAt(2, "two").Digest {
		t.Fatalf("state moved: %+v", st)
	}
	// An explicit rollback is let in and recorded.
	if v, err := accept(t, s, bundleAt(1, "one"), AllowRollback); err != nil || len(v.Overrides) != 1 {
		t.Fatalf("--allow-rollback: %+v, %v", v, err)
	}
	st := stored(t, s)
	if st.Sequence != 1 || len(st.History) != 2 || !st.History[0].overridden(AllowRollback) {
		t.Fatalf("state after the rollback: %+v", st)
	}
}

func TestCheckRefusesAnExpiredBundleAndAClockFarInThePast(t *testing.T) {
	b := bundleAt(1, "one")
	_, err := Check(b, nil, b.Freshness.Expires)
	wantKind(t, err, Expired)
	if v, err := Check(b, nil, b.Freshness.Expires.Add(time.Hour), AllowExpired); err != nil || v.Overrides[0] != AllowExpired {
		t.Fatalf("--allow-expired: %+v, %v", v, err)
	}
	_, err = Check(b, nil, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))
	wantKind(t, err, Clock)
	if v, err := Check(Bundle{}, nil, t0); err != nil || v.Status != Unversioned {
		t.Fatalf("a bundle without freshness: %+v, %v", v, err)
	}
}

func TestAcceptConcurrentImportsLeaveTheHigherSequence(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	for round := 0; round < 3; round++ {
		lo, hi := uint64(10*round+1), uint64(10*round+5)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seq := lo
				if i%2 == 1 {
					seq = hi
				}
				_, errs[i] = accept(t, s, bundleAt(seq, strings.Repeat("x", int(seq))))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil && i%2 == 1 {
				t.Fatalf("round %d: the higher sequence failed: %v", round, err)
			}
			if err != nil { // a lower one checked after the higher was accepted
				wantKind(t, err, Rollback)
			}
		}
		if st := stored(t, s); st.Sequence != hi {
			t.Fatalf("round %d: state at %d, want %d", round, st.Sequence, hi)
		}
	}
}

func TestReadStateDetectsATamperedState(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	if _, err := accept(t, s, bundleAt(3, "three")); err != nil {
		t.Fatal(err)
	}
	key := Key("p/", signer, "prod")
	stale := stored(t, s).Digest
	cases := map[string]string{
		"sequence lowered, sha256 kept": `{"format":1,"signer":"` + signer + `","channel":"prod","sequence":1}`,
		"not json":                      `{`,
		"other channel":                 `{"format":1,"signer":"` + signer + `","channel":"test","sequence":3}`,
		"too large":                     strings.Repeat(" ", MaxStateSize+1),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			meta := map[string]string{"sha256": buckettest.SHA([]byte(body))}
			if strings.HasPrefix(name, "sequence lowered") {
				meta["sha256"] = stale // a stale recorded checksum
			}
			buckettest.RawPut(t, srv, s.Bucket(), key, []byte(body), meta)
			_, _, err := ReadState(context.Background(), s, "p/", signer, "prod")
			if !errors.As(err, new(*StateError)) {
				t.Fatalf("ReadState = %v, want a *StateError", err)
			}
			if _, err := accept(t, s, bundleAt(4, "four")); err == nil {
				t.Fatal("Accept wrote over a tampered state")
			}
			// --allow-rollback rewrites it, and the history says so.
			if _, err := accept(t, s, bundleAt(4, "four"), AllowRollback); err != nil {
				t.Fatalf("--allow-rollback over a tampered state: %v", err)
			}
			if st := stored(t, s); st.Sequence != 4 || !st.History[0].overridden(AllowRollback) {
				t.Fatalf("rewritten state: %+v", st)
			}
		})
	}
}

// An import checked against an older state, overtaken by a newer bundle
// before its state write, is superseded: no error, the state stays.
func TestAcceptOvertakenIsSuperseded(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	now := t0.Add(100 * time.Hour)
	if _, err := Accept(context.Background(), s, "p/", bundleAt(5, "five"), 0, now); err != nil {
		t.Fatal(err)
	}
	// bundle 3 was checked when the state was empty (seen 0).
	v, err := Accept(context.Background(), s, "p/", bundleAt(3, "three"), 0, now)
	if err != nil || v.Status != Superseded || v.Stored != 5 {
		t.Fatalf("overtaken import: %+v, %v; want superseded by 5", v, err)
	}
	// checked when the state was at 5 already: a rollback.
	_, err = Accept(context.Background(), s, "p/", bundleAt(3, "three"), 5, now)
	wantKind(t, err, Rollback)
	if st := stored(t, s); st.Sequence != 5 {
		t.Fatalf("state went back to %d", st.Sequence)
	}
}
