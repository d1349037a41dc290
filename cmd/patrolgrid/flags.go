package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// envPrefix begins the environment variable of every flag.
const envPrefix = "PATROLGRID_"

// envName returns the environment variable of the flag name: --foo-bar is
// PATROLGRID_FOO_BAR.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// parseFlags parses args into fs, then sets each flag not given on the
// command line from its environment variable (envName), which lookupEnv
// reads: a variable that is set, even to the empty string, is the flag's
// value as --name=VALUE would be, and a flag on the command line wins over
// it. It returns the names of the flags set either way. It returns
// flag.ErrHelp as fs.Parse does; any other error names the subcommand
// (fs.Name()), and one of the environment names the variable and its value.
func parseFlags(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) (given map[string]bool, err error) {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		v, ok := lookupEnv(name)
		if !ok {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("%s: %s=%q: %w", fs.Name(), name, v, e)
		}
		given[f.Name] = true
	})
	if err != nil {
		return nil, err
	}
	return given, nil
}
