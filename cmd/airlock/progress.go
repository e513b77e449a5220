package main

import (
	"fmt"
	"io"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// bars renders progress bars on stderr when it is a terminal and does
// nothing otherwise, so logs and pipes stay clean.
type bars struct {
	p *mpb.Progress
}

func newBars(w io.Writer) *bars {
	if !isTerminal(w) {
		return &bars{}
	}
	return &bars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))}
}

// bar is one progress bar; a nil *bar ignores calls.
type bar struct{ b *mpb.Bar }

// add starts a bar counting bytes up to total, with rate and ETA; with an
// unknown total (0) it shows a spinner, the bytes so far and the rate.
func (bs *bars) add(name string, total int64) *bar {
	if bs.p == nil {
		return nil
	}
	if total <= 0 {
		return &bar{bs.p.AddSpinner(0,
			mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CurrentKiloByte("% .1f")),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1000(0), "% .1f")),
			mpb.BarRemoveOnComplete(),
		)}
	}
	return &bar{bs.p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CountersKiloByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1000(0), "% .1f"), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete(),
	)}
}

// addCount starts a bar counting items up to total, with ETA.
func (bs *bars) addCount(name string, total int64) *bar {
	if bs.p == nil {
		return nil
	}
	return &bar{bs.p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CountersNoUnit("%d / %d")),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO), decor.Name(", eta "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete(),
	)}
}

func (b *bar) inc(n int64) {
	if b != nil {
		b.b.IncrInt64(n)
	}
}

func (b *bar) abort() {
	if b != nil {
		b.b.Abort(true)
	}
}

// println writes a line to w without tearing the bars.
func (bs *bars) println(w io.Writer, line string) {
	if bs.p != nil && isTerminal(w) {
		fmt.Fprintln(bs.p, line)
		return
	}
	fmt.Fprintln(w, line)
}

// wait stops rendering; every bar must be done or aborted first.
func (bs *bars) wait() {
	if bs.p != nil {
		bs.p.Wait()
	}
}

// byteBar is a single bar with its container, for one-pass jobs.
type byteBar struct {
	*bars
	b *bar
}

func newByteBar(w io.Writer, name string, total int64) byteBar {
	bs := newBars(w)
	return byteBar{bs, bs.add(name, total)}
}

func (b byteBar) add(n int64) { b.b.inc(n) }

func (b byteBar) finish() {
	b.b.abort()
	b.wait()
}
