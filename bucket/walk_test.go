package bucket

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Walk lists every object under the prefix across listing pages (1,000
// keys each), in UTF-8 binary order, which is Go's string order; List
// returns the same; an error from fn stops the walk.
func TestWalk(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	ctx := context.Background()
	var keys []string
	for i := range 1010 {
		keys = append(keys, fmt.Sprintf("w/%04d.tgz", i))
	}
	// Non-ASCII keys (a listing's UTF-8 byte order is not UTF-16 order:
	// U+FF21 sorts before U+1F600 only in the first) and one outside.
	keys = append(keys, "w/Z.tgz", "w/z.tgz", "w/\u00e9.tgz", "w/\uff21.tgz", "w/\U0001f600.tgz", "x/outside.tgz")
	c := srv.Client() // one: each holds its own connections
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for k := range work {
				body := strings.NewReader(k)
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(k), Body: body}); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var got []Object
	if err := s.Walk(ctx, "w/", func(o Object) error { got = append(got, o); return nil }); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	var want []Object
	for _, k := range keys[:len(keys)-1] {
		want = append(want, Object{Key: k, Size: int64(len(k))})
	}
	slices.SortFunc(want, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	if !slices.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("Walk listed %d objects, want %d in Go string order; they differ from index %d", len(got), len(want), i)
	}
	if listed, err := s.List(ctx, "w/"); err != nil || !slices.Equal(listed, want) {
		t.Errorf("List = %d objects (%v), want the %d Walk lists", len(listed), err, len(want))
	}

	stop := errors.New("stop")
	n := 0
	err := s.Walk(ctx, "w/", func(Object) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("Walk with fn failing at the third object = %v after %d calls, want that error after 3", err, n)
	}
}
