package importer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/keys"
)

// raceSizes are the object sizes two imports race with: one PutObject, and
// a multipart upload.
var raceSizes = []struct {
	name string
	size int
}{{"single", 1000}, {"multipart", 12 << 20}}

// Two imports of different content for one key, both planning "upload"
// before either writes: exactly one wins, the other fails with a conflict
// naming the key, and the object is the winner's, whole.
func TestConcurrentImportsOneWins(t *testing.T) {
	srv := minio.Get(t)
	for _, tc := range raceSizes {
		t.Run(tc.name, func(t *testing.T) {
			s := buckettest.New(t, srv)
			var bundles [2][]string
			var trusted []keys.Public
			for i := range bundles {
				files, pub := writeBundle(t, 1, tc.size, uint64(10*i+1))
				bundles[i], trusted = files, append(trusted, pub...)
			}
			_, errs := importTogether(t, s, bundles, trusted)
			winner, loser := 0, 1
			if errs[0] != nil {
				winner, loser = 1, 0
			}
			var conflict *ConflictError
			if errs[winner] != nil || !errors.As(errs[loser], &conflict) || !conflict.Meanwhile() ||
				conflict.Conflicts[0].Key != "ci/img0/img0-1.0.tgz" {
				t.Fatalf("imports ended with %v and %v; want one success and one *ConflictError found meanwhile", errs[0], errs[1])
			}
			t.Logf("loser: %v", errs[loser])
			r, err := bundle.Open(bundles[winner], trusted)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want := r.Manifest.Entries[0].SHA256
			if obj, ok, err := s.Stat(context.Background(), "ci/img0/img0-1.0.tgz"); err != nil || !ok || obj.SHA256 != want {
				t.Fatalf("object = %+v, %v, %v; want the winner's (sha256 %s)", obj, ok, err, want)
			}
			assertDeepOK(t, s)
			if ups := buckettest.Uploads(t, srv, s.Bucket(), "ci/img0/img0-1.0.tgz"); len(ups) > 0 {
				t.Errorf("incomplete uploads left: %v", ups)
			}
		})
	}
}

// importTogether runs two imports at once, each held after planning its
// first entry until the other has planned too: both plans see the same
// bucket before either writes.
func importTogether(t *testing.T, s *bucket.Store, bundles [2][]string, trusted []keys.Public) ([2]*Result, [2]error) {
	var res [2]*Result
	var errs [2]error
	var planned sync.WaitGroup
	planned.Add(2)
	var wg sync.WaitGroup
	for i := range bundles {
		var once sync.Once
		wg.Go(func() {
			res[i], errs[i] = runImport(t, s, bundles[i], trusted, WithEvents(func(e Event) {
				if e.Kind == Planned {
					once.Do(func() { planned.Done(); planned.Wait() })
				}
			}))
		})
	}
	wg.Wait()
	return res, errs
}

// assertDeepOK checks the object under the one key hashes to the sha256
// recorded on it: the winner's data, whole.
func assertDeepOK(t *testing.T, s *bucket.Store) {
	t.Helper()
	obj, _, _ := s.Stat(context.Background(), "ci/img0/img0-1.0.tgz")
	rc, err := s.Open(context.Background(), "ci/img0/img0-1.0.tgz")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || int64(len(b)) != obj.Size || buckettest.SHA(b) != obj.SHA256 {
		t.Fatalf("the object's data (%d bytes, %v) does not hash to its recorded sha256", len(b), err)
	}
}

// --overwrite replaces only the object it planned to replace: one written
// after planning survives, and the import fails with a conflict.
func TestOverwriteReplacesOnlyWhatWasPlanned(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	files, trusted := writeBundle(t, 1, 1000, 1)
	const key = "ci/img0/img0-1.0.tgz"
	buckettest.RawPut(t, srv, s.Bucket(), key, []byte("old"), nil)
	_, err := runImport(t, s, files, trusted, WithOverwrite(true), WithEvents(func(e Event) {
		if e.Kind == Planned {
			buckettest.RawPut(t, srv, s.Bucket(), key, []byte("written meanwhile"), nil)
		}
	}))
	var conflict *ConflictError
	if !errors.As(err, &conflict) || !conflict.Meanwhile() {
		t.Fatalf("err = %v, want a *ConflictError found meanwhile", err)
	}
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "written meanwhile" {
		t.Fatalf("object holds %q, want the one written after planning", b)
	}
}

// Two imports of the same content for one key, both planning "upload"
// before either writes: the one whose conditional write is refused finds
// the other's object, with its own checksum, and counts it as already
// there. Both succeed; neither undoes the other's work.
func TestConcurrentImportsOfSameContentBothSucceed(t *testing.T) {
	srv := minio.Get(t)
	for _, tc := range raceSizes {
		t.Run(tc.name, func(t *testing.T) {
			s := buckettest.New(t, srv)
			files, trusted := writeBundle(t, 2, tc.size, 1)
			res, errs := importTogether(t, s, [2][]string{files, files}, trusted)
			for i := range 2 {
				if errs[i] != nil || res[i].Uploaded+res[i].Skipped != 2 {
					t.Fatalf("import %d = %+v, %v; want both to succeed, each key uploaded or found in place", i, res[i], errs[i])
				}
			}
			if ups := buckettest.Uploads(t, srv, s.Bucket(), "ci/img0/img0-1.0.tgz", "ci/img1/img1-1.1.tgz"); len(ups) > 0 {
				t.Errorf("incomplete uploads left: %v", ups)
			}
			assertAuditOK(t, s, trusted, 2)
		})
	}
}

// An import that starts while another import of the same bundle is in the
// middle of a multipart upload leaves that upload alone: both succeed. (An
// import aborts the incomplete uploads under its keys, the leftovers of
// interrupted runs, only once its own objects are in place under them.)
func TestImportStartingMidUploadLeavesTheOtherAlone(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	files, trusted := writeBundle(t, 1, 12<<20, 1)
	var once sync.Once
	var second *Result
	var secondErr error
	done := make(chan struct{})
	first, firstErr := runImport(t, s, files, trusted, WithEvents(func(e Event) {
		if e.Kind != Progress {
			return
		}
		once.Do(func() {
			// A part of the first import is in: run a second import until
			// it uploads too (or ends), then let the first one go on.
			uploading := make(chan struct{})
			var up sync.Once
			go func() {
				defer close(done)
				second, secondErr = runImport(t, s, files, trusted, WithEvents(func(e Event) {
					if e.Kind == Progress {
						up.Do(func() { close(uploading) })
					}
				}))
			}()
			select {
			case <-uploading:
			case <-done:
			}
		})
	}))
	<-done
	if firstErr != nil || secondErr != nil {
		t.Fatalf("imports ended with %v and %v; want both to succeed", firstErr, secondErr)
	}
	if first.Uploaded+first.Skipped != 1 || second.Uploaded+second.Skipped != 1 {
		t.Fatalf("imports: %+v and %+v", first, second)
	}
	assertAuditOK(t, s, trusted, 1)
}

// An import that fails (here on a conflict) cleans up after its own
// uploads only: a multipart upload another import has under the same key,
// with parts in, is left alone, and that import succeeds.
func TestFailedImportLeavesOtherUploadsAlone(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	shared := image{"b", 12 << 20, 7}
	filesA, trustedA := writeImages(t, shared)
	filesB, trustedB := writeImages(t, image{"a", 1000, 1}, shared)
	trusted := append(trustedA, trustedB...)
	var once sync.Once
	var errB error
	_, errA := runImport(t, s, filesA, trusted, WithEvents(func(e Event) {
		if e.Kind != Progress {
			return
		}
		// A part of A's upload is in: B runs to its end meanwhile, and
		// fails when another writer takes its first key after planning.
		once.Do(func() {
			_, errB = runImport(t, s, filesB, trusted, WithEvents(func(e Event) {
				if e.Kind == Planned && e.Key == "ci/a/a-1.0.tgz" {
					buckettest.RawPut(t, srv, s.Bucket(), e.Key, []byte("other"), nil)
				}
			}))
		})
	}))
	if !errors.As(errB, new(*ConflictError)) {
		t.Fatalf("import B = %v, want a *ConflictError", errB)
	}
	if errA != nil {
		t.Fatalf("import A = %v; B's clean-up must leave A's upload alone", errA)
	}
	if ups := buckettest.Uploads(t, srv, s.Bucket(), "ci/a/a-1.0.tgz", "ci/b/b-1.0.tgz"); len(ups) > 0 {
		t.Errorf("incomplete uploads left: %v", ups)
	}
}

// An upload that stops before the end of its entry because another import
// put the same content meanwhile (here: its multipart upload is aborted
// under it and the object written, after its first bytes) counts as
// already there, and the import reads on: it once waited forever for the
// rest of the entry to be read.
func TestUploadOvertakenMidEntryReadsOn(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	files, trusted := writeImages(t, image{"big", 48 << 20, 7}, image{"small", 1000, 8})
	body, sum := buckettest.Data(48<<20, 7)
	key := "ci/big/big-1.0.tgz"
	var once sync.Once
	overtake := func(e Event) {
		if e.Kind != Progress || e.Key != key {
			return
		}
		once.Do(func() {
			if err := s.Put(context.Background(), key, bytes.NewReader(body), int64(len(body)), sum); err != nil {
				t.Errorf("the other writer's put: %v", err)
			}
			if _, err := s.AbortIncomplete(context.Background(), key); err != nil {
				t.Errorf("aborting the import's upload: %v", err)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := runImportCtx(ctx, t, s, files, trusted, WithEvents(overtake))
	if err != nil || ctx.Err() != nil {
		t.Fatalf("import = %+v, %v (context: %v); want it to finish, the overtaken key counted as there", res, err, ctx.Err())
	}
	if res.Uploaded != 1 || res.Skipped != 1 {
		t.Errorf("uploaded %d, skipped %d; want 1 and 1", res.Uploaded, res.Skipped)
	}
	assertAuditOK(t, s, trusted, 2)
}

// A write to a new key that fails in transit (a reset instead of the
// 412) is judged by what the key holds afterwards.
func TestRacedJudgesATransportErrorByTheKey(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	ctx := context.Background()
	reset := errors.New("write: connection reset by peer")
	mine, sum := buckettest.Data(1000, 1)
	if err := raced(ctx, s, "k/absent.tgz", int64(len(mine)), sum, true, reset); err != reset {
		t.Errorf("empty key: %v, want the transport error", err)
	}
	other, osum := buckettest.Data(1000, 2)
	if err := s.Put(ctx, "k/other.tgz", bytes.NewReader(other), int64(len(other)), osum); err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if err := raced(ctx, s, "k/other.tgz", int64(len(mine)), sum, true, reset); !errors.As(err, &ce) || !ce.Conflicts[0].Meanwhile {
		t.Errorf("another writer's object: %v, want a ConflictError", err)
	}
	if err := raced(ctx, s, "k/other.tgz", int64(len(mine)), sum, false, reset); err != reset {
		t.Errorf("a planned replace: %v, want the transport error", err)
	}
	if err := s.Put(ctx, "k/same.tgz", bytes.NewReader(mine), int64(len(mine)), sum); err != nil {
		t.Fatal(err)
	}
	if err := raced(ctx, s, "k/same.tgz", int64(len(mine)), sum, true, reset); !errors.Is(err, errSameContent) {
		t.Errorf("the same content: %v, want errSameContent", err)
	}
}
