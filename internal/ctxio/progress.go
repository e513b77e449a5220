package ctxio

import "io"

// ProgressWriter passes writes on to W, counts the bytes written in N and,
// when Report is set, reports them as increments: after every write when
// Step is 0, otherwise once at least Step bytes have gathered. Flush reports
// what is left. It has no ReadFrom, so io.Copy always goes through Write.
type ProgressWriter struct {
	W      io.Writer
	Report func(int64)
	Step   int64
	N      int64 // bytes written so far

	noted int64
}

func (p *ProgressWriter) Write(b []byte) (int, error) {
	n, err := p.W.Write(b)
	p.N += int64(n)
	if p.N-p.noted >= max(p.Step, 1) {
		p.Flush()
	}
	return n, err
}

// Flush reports the bytes counted since the last report.
func (p *ProgressWriter) Flush() {
	if p.Report != nil && p.N > p.noted {
		p.Report(p.N - p.noted)
		p.noted = p.N
	}
}
