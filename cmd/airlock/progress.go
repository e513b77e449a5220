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
	p   *mpb.Progress
	all []*mpb.Bar // every bar added, so wait can end the unfinished ones
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
		return bs.keep(bs.p.AddSpinner(0,
			mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CurrentKiloByte("% .1f")),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1000(0), "% .1f")),
			mpb.BarRemoveOnComplete(),
		))
	}
	return bs.keep(bs.p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CountersKiloByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1000(0), "% .1f"), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete(),
	))
}

func (bs *bars) keep(b *mpb.Bar) *bar {
	bs.all = append(bs.all, b)
	return &bar{b}
}

// addCount starts a bar counting items up to total, with ETA.
func (bs *bars) addCount(name string, total int64) *bar {
	if bs.p == nil {
		return nil
	}
	return bs.keep(bs.p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CountersNoUnit("%d / %d")),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO), decor.Name(", eta "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete(),
	))
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

// wait ends every bar still running (the job failed or was interrupted
// halfway) and stops rendering. mpb's Wait would otherwise wait for ever
// for bars that never complete.
func (bs *bars) wait() {
	if bs.p == nil {
		return
	}
	for _, b := range bs.all {
		b.Abort(true)
	}
	bs.p.Wait()
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
