package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/stage"
)

type cacheOptions struct {
	dir       string
	olderThan time.Duration
	maxSize   byteSizeValue
}

func newCacheCmd(s streams) *cobra.Command {
	var o cacheOptions
	c := &cobra.Command{
		Use:   "cache",
		Short: "List or prune the staging cache of converted images",
		Long: `export keeps every converted image in a staging cache, so an interrupted
export resumes and a repeated one is quick. The cache is never pruned by
itself: list it with 'cache ls', shrink it with 'cache prune'.`,
	}
	c.PersistentFlags().StringVar(&o.dir, "cache-dir", "", "staging cache folder (default: the user cache dir)")
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the cached images, most recently used first",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runCacheLs(cmd.Context(), o, s) },
	}
	prune := &cobra.Command{
		Use:   "prune (--older-than DURATION | --max-size SIZE)",
		Short: "Remove cached images not used lately, or the least recently used beyond a size",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runCachePrune(cmd.Context(), o, s) },
	}
	prune.Flags().DurationVar(&o.olderThan, "older-than", 0, "remove entries not used for this long (e.g. 720h), and leftovers of interrupted exports")
	prune.Flags().Var(&o.maxSize, "max-size", "then remove the least recently used entries until the cache holds at most SIZE (e.g. 20GB)")
	c.AddCommand(ls, prune)
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
	return c
}

func runCacheLs(_ context.Context, o cacheOptions, s streams) error {
	c, err := stage.Open(o.dir)
	if err != nil {
		return err
	}
	infos, err := c.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSIZE\tLAST USED\tFILE")
	var total int64
	for _, in := range infos {
		total += in.Size
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Key[:12], humanBytes(in.Size), in.Used.Format(time.DateTime), in.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(s.err, "%d entries, %s in %s\n", len(infos), humanBytes(total), c.Dir())
	return nil
}

func runCachePrune(_ context.Context, o cacheOptions, s streams) error {
	if o.olderThan <= 0 && !o.maxSize.set {
		return usagef("cache prune needs --older-than DURATION or --max-size SIZE")
	}
	c, err := stage.Open(o.dir)
	if err != nil {
		return err
	}
	var freed int64
	if o.olderThan > 0 {
		if freed, err = c.Prune(time.Now().Add(-o.olderThan)); err != nil {
			return err
		}
	}
	if o.maxSize.set {
		n, err := c.Shrink(int64(o.maxSize.bytes))
		freed += n
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(s.err, "freed %s in %s\n", humanBytes(freed), c.Dir())
	return nil
}
