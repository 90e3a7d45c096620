package main

import (
	"context"
	"fmt"
	"io"
)

// command is one subcommand of penstock. Its run gets the arguments after
// the subcommand name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// commands lists the subcommands in help order. Add a subcommand by adding
// a row here and a file with its run function.
var commands = []command{
	{"serve", "run the server", serve},
	{"version", "print the version", printVersion},
}

// run executes the subcommand named by args[0]. It returns nil when the
// command succeeded (for serve: after a clean shutdown once ctx is
// cancelled) and an error to print and exit non-zero with otherwise.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: penstock <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "penstock <command> --help" for a command's flags.`)
}
