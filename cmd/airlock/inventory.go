package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/inventory"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/record"
)

type inventoryOptions struct {
	s3   s3Flags
	pubs []string
	deep bool
	key  string
	out  string
	json bool
}

func newInventoryCmd(s streams) *cobra.Command {
	var o inventoryOptions
	c := &cobra.Command{
		Use:   "inventory --bucket B --pub KEY.pub [--deep] [--key OFFLINE.key] -o RECEIPT.json",
		Short: "Write a receipt of the images the bucket holds intact, for a delta export",
		Long: `Write a receipt: the images the bucket holds, present and intact. The bundle
records import kept (under .airlock/bundles/) are checked against the trusted
keys, then every image object they list is checked for size and recorded
sha256 (--deep downloads and re-hashes each one). Each intact image is listed
with its key, image digest, platform, tgz size and sha256 and bundle id;
images that are missing, drifted or unverified are left out of it, listed
apart and reported here.

With --key, the receipt is signed with that Ed25519 key (a key pair from
airlock keygen, kept on this side): the signature goes to RECEIPT.json.sig.
Carry both files to the connected side, where
'airlock export ... --have RECEIPT.json --have-pub OFFLINE.pub' ships only
what the bucket lacks. The format is in docs/receipt.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInventory(cmd.Context(), o, s)
		},
	}
	o.s3.add(c)
	addPubFlag(c, &o.pubs)
	c.Flags().BoolVar(&o.deep, "deep", false, "download and re-hash every image object")
	c.Flags().StringVar(&o.key, "key", "", "sign the receipt with this private key (writes RECEIPT.json.sig)")
	c.Flags().StringVarP(&o.out, "output", "o", "", "receipt file to write (required)")
	c.Flags().BoolVar(&o.json, "json", false, "print the receipt on stdout as well")
	return c
}

func runInventory(ctx context.Context, o inventoryOptions, s streams) error {
	trusted, err := loadTrusted(o.pubs, s.err)
	if err != nil {
		return err
	}
	if o.out == "" {
		return usagef("inventory needs -o RECEIPT.json")
	}
	if err := checkFolder(o.out); err != nil {
		return err
	}
	var priv ed25519.PrivateKey
	if o.key != "" {
		if priv, err = keys.LoadPrivate(o.key); err != nil {
			return err
		}
	}
	store, err := o.s3.open(ctx)
	if err != nil {
		return err
	}
	if err := store.Check(ctx); err != nil {
		return err
	}
	records, err := record.Read(ctx, store, o.s3.prefix, trusted)
	if err != nil {
		return err
	}
	if len(records) == 0 {
		fmt.Fprintf(s.err, "airlock: warning: bucket %s holds no bundle records under %q%s; the receipt lists nothing, so a delta export ships everything (pass --prefix if the images were imported under one)\n",
			store.Bucket(), o.s3.prefix, record.Folder)
	}
	r, err := inventory.Build(ctx, store, records, inventory.WithDeep(o.deep), inventory.WithPrefix(o.s3.prefix),
		inventory.WithTrusted(trusted), inventory.WithTool("airlock "+version))
	if err != nil {
		return err
	}
	data, err := writeReceipt(o.out, r, priv)
	if err != nil {
		return err
	}
	if o.json {
		if _, err := s.out.Write(data); err != nil {
			return err
		}
	}
	for _, l := range r.LeftOut {
		fmt.Fprintf(s.err, "left out  %s (%s: %s)\n", r.Prefix+l.Key, l.Reason, l.Detail)
	}
	signed := "unsigned"
	if r.Signer != "" {
		signed = "signed by key " + r.Signer + ", signature in " + o.out + inventory.SigSuffix
	}
	fmt.Fprintf(s.err, "wrote %s (%s): %d image(s) present and intact in bucket %s under %q from %d bundle(s), %d left out\n",
		o.out, signed, len(r.Images), r.Bucket, r.Prefix, len(r.Bundles), len(r.LeftOut))
	return nil
}

// writeReceipt writes the receipt and, with a key, its signature beside it.
// The signature is renamed into place first: until the receipt follows, the
// pair fails to verify rather than passing for the old one. An unsigned
// receipt removes a signature left by an earlier run first.
func writeReceipt(path string, r *inventory.Receipt, priv ed25519.PrivateKey) ([]byte, error) {
	sigPath := path + inventory.SigSuffix
	var data, sig []byte
	var err error
	if priv != nil {
		data, sig, err = r.Sign(priv)
	} else {
		data, err = r.Marshal()
	}
	if err != nil {
		return nil, err
	}
	if sig != nil {
		err = writeFileAtomic(sigPath, func(f *os.File) error { _, err := f.Write(sig); return err })
	} else if rmErr := os.Remove(sigPath); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = fmt.Errorf("removing the old signature %s: %w", sigPath, rmErr)
	}
	if err != nil {
		return nil, err
	}
	return data, writeFileAtomic(path, func(f *os.File) error { _, err := f.Write(data); return err })
}
