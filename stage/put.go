package stage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"

	"github.com/airlockhq/airlock/internal/atomicfile"
	"github.com/airlockhq/airlock/internal/writeback"
)

// tempPrefix starts the names of files being written.
const tempPrefix = ".tmp-"

// Put stores what fill writes as key's entry and returns it. fill's
// returned meta is stored as JSON in the record (Entry.Meta). The data is
// written to a temporary file in the cache directory, hashed and counted
// on the way, fsynced and renamed into place, then the record is renamed
// into place. If fill fails, ctx is cancelled (writes then fail with
// ctx's error) or anything else fails, Put removes what it wrote and no
// entry appears. Put replaces an existing entry for key.
func (c *Cache) Put(ctx context.Context, key string, fill func(w io.Writer) (meta any, err error)) (Entry, error) {
	return c.PutWithRefs(ctx, key, func(w io.Writer) (any, []string, error) {
		meta, err := fill(w)
		return meta, nil, err
	})
}

// PutWithRefs is Put for data that uses bytes of other entries' data
// files: fill also returns refs, their names in the cache directory
// (filepath.Base of their Entry.Path). Lookup treats the entry as broken
// (removes it, reports it missing) once one of them is gone, and Prune
// keeps them as long as it keeps the entry.
func (c *Cache) PutWithRefs(ctx context.Context, key string, fill func(w io.Writer) (meta any, refs []string, err error)) (Entry, error) {
	if err := checkKey(key); err != nil {
		return Entry{}, err
	}
	tmp, err := atomicfile.New(c.dir, tempPrefix+key+"-*.tgz", 0o600)
	if err != nil {
		return Entry{}, fmt.Errorf("staging %s: %w", key, err)
	}
	defer tmp.Abort() // no-op once committed
	r, err := c.writeData(ctx, tmp, fill)
	if err != nil {
		return Entry{}, fmt.Errorf("staging %s: %w", key, err)
	}
	r.File = dataName(key, r.SHA256)
	if err := r.check(key); err != nil {
		return Entry{}, fmt.Errorf("staging %s: %w", key, err)
	}
	if err := c.commit(key, tmp, r); err != nil {
		return Entry{}, fmt.Errorf("staging %s: %w", key, err)
	}
	return c.entry(r), nil
}

// writeData runs fill into f, then fsyncs and closes f.
func (c *Cache) writeData(ctx context.Context, f *atomicfile.File, fill func(io.Writer) (any, []string, error)) (record, error) {
	w := &hashWriter{ctx: ctx, w: f, h: sha256.New(), wb: writeback.New(f.File)}
	meta, refs, err := fill(w)
	if err == nil {
		err = ctx.Err()
	}
	if ferr := f.Finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return record{}, err
	}
	r := record{Format: recordFormat, Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil)), Refs: refs}
	if meta != nil {
		if r.Meta, err = json.Marshal(meta); err != nil {
			return record{}, fmt.Errorf("encoding metadata: %w", err)
		}
		r.MetaSHA256 = metaSum(r.Meta)
	}
	return r, nil
}

// commit renames the data into place, then writes and renames the record.
func (c *Cache) commit(key string, tmpData *atomicfile.File, r record) error {
	data := filepath.Join(c.dir, r.File)
	if err := tmpData.Commit(data); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	rec, err := atomicfile.New(c.dir, tempPrefix+key+".json-*", 0o600)
	if err == nil {
		defer rec.Abort()
		_, err = rec.Write(b)
	}
	if err == nil {
		err = rec.Commit(c.recordPath(key))
	}
	if err != nil {
		return errors.Join(err, removeIfExists(data))
	}
	return nil
}

// hashWriter hashes and counts what it writes and fails once ctx is done.
type hashWriter struct {
	ctx context.Context
	w   io.Writer
	h   hash.Hash
	n   int64
	wb  *writeback.Tracker // so the fsync at the end does not stall the conversion
}

func (w *hashWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.w.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	w.wb.Wrote(n)
	return n, err
}
