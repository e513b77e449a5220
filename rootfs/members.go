package rootfs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
)

// Member is one gzip member of a tgz that [Write] writes with
// [WithMembers]: the compressed bytes of one run of tar entries
// (docs/format-v2.md section 3).
type Member struct {
	Index     int // position in the tgz, from 0
	Kind      MemberKind
	Offset    int64    // where the member starts in the tgz
	Size      int64    // compressed bytes
	SHA256    [32]byte // of the compressed bytes: the member's name
	TarOffset int64    // where its run starts in the tar stream
	TarSize   int64    // the run's uncompressed bytes
	RawSHA256 [32]byte // of the run's uncompressed bytes, when hashed (WithMemberSource; see LayerMemo); else zero
	Reused    bool     // its bytes came from the MemberSource, not from compressing
	// CRC32C is the CRC-32C (Castagnoli) of the compressed bytes: what a
	// reader of them soon after, from where they were written, can check
	// them against at a tenth of SHA-256's cost.
	CRC32C uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MemberKind says which rule of docs/format-v2.md section 3 ended a member.
type MemberKind uint8

// The member kinds.
const (
	MemberHead  MemberKind = iota + 1 // metadata.json and rootfs/
	MemberRun                         // a run of whole entries
	MemberPiece                       // a piece of one entry of at least MemberMaxRun bytes
	MemberTail                        // the end-of-archive marker
)

func (k MemberKind) String() string {
	switch k {
	case MemberHead:
		return "head"
	case MemberRun:
		return "run"
	case MemberPiece:
		return "piece"
	case MemberTail:
		return "tail"
	}
	return fmt.Sprintf("MemberKind(%d)", uint8(k))
}

// WithMembers has Write cut the tar stream into runs of entries and
// compress each run as a gzip member of its own (docs/format-v2.md
// section 3), instead of one pgzip stream; fn is called for every member,
// in order, once its bytes are written, on Write's goroutine. The output
// is still an ordinary tgz (gzip readers read the members as one stream);
// its bytes depend on the level, not on the concurrency or the block size.
// WithConcurrency sets how many runs compress at once; memory is about
// (concurrency + 2) × 2 × MemberPieceSize.
func WithMembers(fn func(Member)) Option {
	return func(o *options) {
		if fn != nil {
			o.members = fn
		}
	}
}

// WithMemberOutput has the member writer of WithMembers hand each member,
// in order, to fn instead of writing it to Write's writer, which then gets
// nothing: fn decides where each member's bytes go (export keeps a member
// an earlier image already staged as a reference to it). b is valid only
// during the call; an error from fn fails Write. fn is called before the
// WithMembers callback of the same member, on Write's goroutine.
func WithMemberOutput(fn func(m Member, b []byte) error) Option {
	return func(o *options) { o.memberOutput = fn }
}

// MemberSource supplies members compressed before, so that a run met
// again (in another image on the same base) is copied, not compressed
// again (docs/format-v2.md section 9). Member is asked, from several
// goroutines at once, for the member holding the run whose uncompressed
// bytes have SHA-256 raw at gzip level; it returns the member's bytes
// and name (their SHA-256), or false to have the run compressed. A member's bytes are a function
// of its run and the level alone (section 4), so a source must return
// only bytes it has checked to be the member compressed from such a run
// (e.g. against the member's recorded name): the writer cannot tell.
type MemberSource interface {
	Member(raw [32]byte, level int) (member []byte, name [32]byte, ok bool)
}

// WithMemberSource has the member writer of WithMembers ask src before
// compressing each run, and report each member's RawSHA256 (hashing every
// run: some CPU, less than compressing). With WithLayerMemo as well, only
// the runs src may hold are hashed and looked up: the head, the tail and
// the runs of layers the memo says another image holds; the others report
// no RawSHA256. The output bytes are the same with or without it, so
// OutputSettings does not name it.
func WithMemberSource(src MemberSource) Option { return func(o *options) { o.source = src } }

// compressor is the gzip side of Write: pgzip's single stream or members.
type compressor interface {
	io.Writer
	Close() error // writes what is left; the output is complete
	Abort()       // stops without finishing; waits for its goroutines
	// LayerEnd says the stream moves on to the next layer's entries, at an
	// entry boundary: members end there (docs/format-v2.md section 3).
	LayerEnd() error
}

type pgzipCompressor struct{ *pgzip.Writer }

func (c pgzipCompressor) Abort() { c.Reset(io.Discard) } // stops pgzip's goroutines without a trailer

func (c pgzipCompressor) LayerEnd() error { return nil }

// memberWriter compresses the runs of a splitter, up to conc at once,
// and writes them in order. Runs in flight (compressing, or done and
// waiting for an older one) are capped at maxPending and at budget raw
// bytes (conc pieces of MemberPieceSize), so memory stays what conc
// pieces take however small the runs.
type memberWriter struct {
	*splitter
	w                  io.Writer
	level              int
	conc               int
	report             func(Member)
	output             func(Member, []byte) error // WithMemberOutput; nil: write to w
	source             MemberSource
	memo               *LayerMemo // with a source only
	layerHashed        []bool     // with a memo: by layer index, whether its runs are hashed (LayerMemo.hashes)
	hashRuns           bool       // the runs gathered now are hashed
	pending            []*memberJob
	printed            []printedRun // runs compressed, their prints waiting for their files' sums
	off                int64
	tarOff             int64
	index              int
	sem                chan struct{} // a slot per run compressing
	stop               atomic.Bool
	bufs               chan []byte // free run buffers of runSize bytes
	bigBufs            chan []byte // free run buffers of pieceSize bytes
	runSize, pieceSize int64
	maxPending         int   // runs in flight at most
	budget             int64 // and their raw bytes
	inFlight           int64
	outs               chan *bytes.Buffer // free buffers of compressed bytes
	zws                chan *gzip.Writer  // free gzip writers of level
	failed             error
}

type memberJob struct {
	raw     []byte
	tarSize int64 // the run's bytes in the tar stream (raw holds them, unless the member came by print)
	print   *runPrint
	byPrint bool // the member came by the run's print; raw holds no file content
	kind    MemberKind
	out     *bytes.Buffer
	sum     [32]byte
	hash    bool     // raw256 is wanted: the source is asked for the run by it
	raw256  [32]byte // when hashed
	reused  bool
	err     error
	done    chan struct{}
}

type printedRun struct {
	print *runPrint
	raw   [32]byte
}

func newMemberWriter(w io.Writer, o options) (*memberWriter, error) {
	if _, err := gzip.NewWriterLevel(io.Discard, o.level); err != nil {
		return nil, fmt.Errorf("compression level %d: %w", o.level, err)
	}
	m := &memberWriter{w: w, level: o.level, conc: o.concurrency, report: o.members, output: o.memberOutput, source: o.source, sem: make(chan struct{}, o.concurrency),
		hashRuns: true}
	if o.source != nil {
		m.memo = o.memo
	}
	m.maxPending = maxPendingPerCore * o.concurrency
	m.budget = int64(o.concurrency) * o.pieceSize
	m.runSize, m.pieceSize = o.maxRun, o.pieceSize
	m.bufs = make(chan []byte, m.maxPending+2)
	m.bigBufs = make(chan []byte, o.concurrency+2)
	m.outs = make(chan *bytes.Buffer, m.maxPending)
	m.zws = make(chan *gzip.Writer, o.concurrency)
	m.splitter = newSplitter(o.minRun, o.cutScale, o.maxRun, o.pieceSize, m.newBuf, m.start)
	return m, nil
}

// hashLayers has the runs of img's layers hashed only where the memo
// says the source may hold them (LayerMemo.hashes). A layer whose digest
// is unknown, or an image whose layers are, has its runs hashed.
func (m *memberWriter) hashLayers(img v1.Image) {
	layers, err := img.Layers()
	if err != nil {
		return
	}
	m.layerHashed = make([]bool, len(layers))
	for i, l := range layers {
		d, err := l.Digest()
		m.layerHashed[i] = err != nil || m.memo.hashes(d)
	}
}

// layerStart says that the entries written from now on come from layer
// i. The runs before them have ended (rule 0: the flattener calls
// LayerEnd first), so every run is hashed or not by its own layer.
func (m *memberWriter) layerStart(i int) {
	m.hashRuns = m.layerHashed == nil || i < 0 || i >= len(m.layerHashed) || m.layerHashed[i]
}

// maxPendingPerCore bounds the runs in flight per core: small runs
// compress in well under a millisecond, so a core that finished its own
// would otherwise idle while an older piece of MemberPieceSize still
// compresses (docs/format-v2.md section 12: 4 per core was no faster and
// took a third more memory).
const maxPendingPerCore = 2

// newBuf is an empty run buffer of at least size bytes' capacity.
func (m *memberWriter) newBuf(size int64) []byte {
	pool, c := m.bufs, m.runSize
	if size > m.runSize {
		pool, c = m.bigBufs, m.pieceSize
	}
	if size > c {
		return make([]byte, 0, size)
	}
	select {
	case b := <-pool:
		return b[:0]
	default:
		return make([]byte, 0, c)
	}
}

// putBuf keeps a run buffer for newBuf.
func (m *memberWriter) putBuf(b []byte) {
	pool := m.bufs
	switch int64(cap(b)) {
	case m.runSize:
	case m.pieceSize:
		pool = m.bigBufs
	default:
		return
	}
	select {
	case pool <- b:
	default:
	}
}

// start compresses run on a goroutine of its own, first finishing the
// oldest runs while maxPending, or runs of budget raw bytes, are in
// flight, so that conc compress while the next run is gathered.
func (m *memberWriter) start(run []byte, kind MemberKind, segs []segment) error {
	for len(m.pending) >= m.maxPending || len(m.pending) > 0 && m.inFlight+int64(len(run)) > m.budget {
		if err := m.finishOldest(); err != nil {
			return err
		}
	}
	j := &memberJob{raw: run, tarSize: int64(len(run)), kind: kind, done: make(chan struct{}),
		hash: m.source != nil && (m.hashRuns || kind == MemberHead || kind == MemberTail)}
	select {
	case j.out = <-m.outs:
		j.out.Reset()
	default:
		j.out = new(bytes.Buffer)
	}
	if m.memo != nil && len(segs) > 0 {
		j.print = printOf(run, segs)
		j.hash = true // the memo keeps the print with the run's SHA-256
		var holes int64
		for _, s := range segs {
			if s.src != nil {
				holes += s.n
			}
		}
		if holes > 0 {
			j.tarSize += holes
			if m.byPrint(j) {
				m.pending = append(m.pending, j)
				close(j.done)
				return nil
			}
			// No earlier image made this run: read its files after all.
			full, _, err := materialize(run, segs, j.tarSize, m.newBuf)
			if err != nil {
				return err
			}
			m.putBuf(run)
			j.raw = full
			m.memo.Unprinted.Add(1)
		}
	}
	m.pending = append(m.pending, j)
	m.inFlight += int64(len(j.raw))
	go m.compress(j)
	return nil
}

// byPrint fills in j's member from the source when an earlier run with
// j's print was compressed: no byte of the run's files is read.
func (m *memberWriter) byPrint(j *memberJob) bool {
	sum, ok := j.print.sum()
	if !ok {
		return false
	}
	raw, ok := m.memo.raw(sum)
	if !ok {
		return false
	}
	b, name, ok := m.source.Member(raw, m.level)
	if !ok {
		return false
	}
	j.out.Write(b)
	j.sum, j.raw256, j.reused, j.byPrint = name, raw, true, true
	m.memo.Printed.Add(1)
	return true
}

// remember records the prints of the runs compressed so far whose files
// are all done (a file cut into pieces is done after its last piece).
func (m *memberWriter) remember() {
	kept := m.printed[:0]
	for _, p := range m.printed {
		if sum, ok := p.print.sum(); ok {
			m.memo.remember(sum, p.raw)
		} else {
			kept = append(kept, p)
		}
	}
	clear(m.printed[len(kept):])
	m.printed = kept
}

// compressStep is how much of a run is compressed between checks for Abort.
const compressStep = 256 << 10

func (m *memberWriter) compress(j *memberJob) {
	defer close(j.done)
	m.sem <- struct{}{}
	defer func() { <-m.sem }()
	if j.hash {
		j.raw256 = sha256.Sum256(j.raw)
		if b, name, ok := m.source.Member(j.raw256, m.level); ok {
			j.out.Write(b)
			j.sum, j.reused = name, true
			return
		}
	}
	j.out.Grow(len(j.raw)/2 + 64)
	var zw *gzip.Writer
	select {
	case zw = <-m.zws:
		zw.Reset(j.out)
	default:
		zw, _ = gzip.NewWriterLevel(j.out, m.level) // level checked in newMemberWriter
	}
	defer func() { m.zws <- zw }() // never blocks: at most conc writers exist
	zw.ModTime = epoch
	for p := j.raw; len(p) > 0; {
		if m.stop.Load() {
			j.err = errAborted
			return
		}
		n := min(len(p), compressStep)
		if _, err := zw.Write(p[:n]); err != nil {
			j.err = err
			return
		}
		p = p[n:]
	}
	if j.err = zw.Close(); j.err == nil {
		j.sum = sha256.Sum256(j.out.Bytes())
	}
}

var errAborted = errors.New("aborted")

func (m *memberWriter) finishOldest() error {
	j := m.pending[0]
	m.pending = m.pending[1:]
	<-j.done
	if !j.byPrint {
		m.inFlight -= int64(len(j.raw))
	}
	if j.err != nil {
		return fmt.Errorf("compressing member %d: %w", m.index, j.err)
	}
	mem := Member{Index: m.index, Kind: j.kind, Offset: m.off, Size: int64(j.out.Len()), SHA256: j.sum,
		TarOffset: m.tarOff, TarSize: j.tarSize, RawSHA256: j.raw256, Reused: j.reused,
		CRC32C: crc32.Checksum(j.out.Bytes(), castagnoli)}
	var err error
	if m.output != nil {
		err = m.output(mem, j.out.Bytes())
	} else {
		_, err = m.w.Write(j.out.Bytes())
	}
	if err != nil {
		return fmt.Errorf("writing member %d: %w", m.index, err)
	}
	if j.print != nil && !j.byPrint {
		m.printed = append(m.printed, printedRun{j.print, j.raw256})
		m.remember()
	}
	m.index++
	m.off += mem.Size
	m.tarOff += mem.TarSize
	m.putBuf(j.raw)
	select {
	case m.outs <- j.out:
	default:
	}
	m.report(mem)
	return nil
}

func (m *memberWriter) Write(p []byte) (int, error) {
	if m.failed != nil {
		return 0, m.failed
	}
	n, err := m.splitter.Write(p)
	if err != nil {
		m.failed = err
	}
	return n, err
}

func (m *memberWriter) Close() error {
	if m.failed != nil {
		return m.failed
	}
	err := m.finish()
	for err == nil && len(m.pending) > 0 {
		err = m.finishOldest()
	}
	if err == nil && m.memo != nil {
		m.remember()
	}
	if err != nil {
		m.failed = err
		m.Abort()
	}
	return err
}

func (m *memberWriter) Abort() {
	m.stop.Store(true)
	for _, j := range m.pending {
		<-j.done
	}
	m.pending = nil
}
