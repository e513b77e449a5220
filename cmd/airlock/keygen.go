package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/keys"
)

type keygenOptions struct {
	out string
}

func newKeygenCmd(s streams) *cobra.Command {
	var o keygenOptions
	c := &cobra.Command{
		Use:   "keygen -o NAME",
		Short: "Create a signing key pair (NAME.key, NAME.pub)",
		Long: `Create an Ed25519 key pair for signing bundles: NAME.key (private, mode 0600,
PKCS#8 PEM) and NAME.pub (PKIX PEM), both readable by openssl. Prints the key
id that bundles record. Existing files are never overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKeygen(cmd.Context(), o, s)
		},
	}
	c.Flags().StringVarP(&o.out, "output", "o", "", "base name of the key files (required)")
	return c
}

func runKeygen(_ context.Context, o keygenOptions, s streams) error {
	if o.out == "" {
		return usagef("keygen needs -o NAME")
	}
	id, err := keys.Generate(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, id)
	fmt.Fprintf(s.err, "wrote %s.key (private: keep it on the connected side) and %s.pub (copy it across)\n", o.out, o.out)
	return nil
}
