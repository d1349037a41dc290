package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/patrolgrid/patrolgrid/web"
)

// runToken draws a token for --role and --label and prints it, once, with
// its line for serve --credentials, which holds only its SHA-256.
func runToken(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	role := fs.String("role", "", "viewer, device, dispatcher, planner or admin")
	label := fs.String("label", "", "the name the token goes by in the audit log (a word: desk-3, gateway-north)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, line, err := web.NewToken(*role, *label)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token (shown this once): %s\nline for the --credentials file:\n%s\n", tok, line)
	return nil
}
