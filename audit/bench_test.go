package audit

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

// BenchmarkRun audits a clean bucket of N small objects, one record
// listing them all, against the shared local MinIO, as airlock audit does:
// the record becomes a record.Set (as record.Scan makes it) and is dropped
// before the audit. kept-B/object is the live heap (after a GC) that the
// set and the report hold per object, its evidence written: what an audit
// keeps as objects grow. record-B/object is what the whole record (its
// parsed manifest) takes per object, which the audit no longer holds.
// objects/s is the audit's rate.
//
//	go test -run '^$' -bench Run -benchtime 1x ./audit
func BenchmarkRun(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv := minio.Get(b)
			s := buckettest.New(b, srv)
			var kept, full int64
			for b.Loop() {
				b.StopTimer()
				base := liveHeap()
				rec := fill(b, srv, s, n)
				full = int64(liveHeap()) - int64(base)
				b.StartTimer()
				set, err := record.NewSet([]record.Record{rec})
				if err != nil {
					b.Fatal(err)
				}
				rec = record.Record{}
				rep, err := Run(context.Background(), s, set)
				if err != nil {
					b.Fatal(err)
				}
				ev := rep.Evidence()
				if err := ev.WriteJSON(discard{}); err != nil || !rep.OK() || rep.Checked != n {
					b.Fatalf("audit of a clean bucket: %v, %d checked, OK %v", err, rep.Checked, rep.OK())
				}
				kept = int64(liveHeap()) - int64(base)
				runtime.KeepAlive(rep)
				runtime.KeepAlive(rec)
			}
			b.ReportMetric(float64(kept)/float64(n), "kept-B/object")
			b.ReportMetric(float64(full)/float64(n), "record-B/object")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// liveHeap is the heap in use after a GC; the second GC empties what
// sync.Pools kept through the first.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// fill puts n objects of 16 bytes (NAME/NAME-VERSION.tgz, 100 series, as
// bench/mkbundle names them) with their recorded sha256, and returns the
// record listing them.
func fill(b *testing.B, srv *miniotest.Server, s *bucket.Store, n int) record.Record {
	b.Helper()
	rec := record.Record{ID: "0123456789abcdef", Manifest: &manifest.Manifest{}}
	bodies := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("obj%02d", i%100)
		key := fmt.Sprintf("%s/%s-1.%d.tgz", name, name, i/100)
		bodies[i] = fmt.Sprintf("%16d", i)
		rec.Manifest.Entries = append(rec.Manifest.Entries, manifest.Entry{Path: manifest.ImagesFolder + key, Size: int64(len(bodies[i])),
			SHA256: buckettest.SHA([]byte(bodies[i])), Image: &manifest.Image{Name: name, Key: key}})
	}
	c := srv.Client() // one: each holds its own connections
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				e := rec.Manifest.Entries[i]
				_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(e.Image.Key),
					Body: strings.NewReader(bodies[i]), Metadata: map[string]string{"sha256": e.SHA256}})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return rec
}
