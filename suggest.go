package main

// Typos: the "did you mean" of a misspelt flag or command, and sonde help.

import (
	"errors"
	"net"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
)

// suggestFlag names the flag of flags that the unknown name (without
// dashes) was probably meant to be, spelt with its dashes, or "". urfave/cli
// picks the likeliest; sonde offers it only when it is at most two edits
// away, so that "--nope" is not answered with an unrelated flag.
func suggestFlag(flags []cli.Flag, name string) string {
	if cli.SuggestFlag == nil || len([]rune(name)) < 3 {
		return ""
	}
	s := cli.SuggestFlag(flags, name, false)
	if s == "" || editDistance(strings.TrimLeft(s, "-"), name) > 2 {
		return ""
	}
	return s
}

// suggestCommand names the command one edit away from word ("scna",
// "ehco"), or "" when word is a command already or is no near miss.
func suggestCommand(commands []*cli.Command, word string) string {
	if len([]rune(word)) < 3 {
		return ""
	}
	for _, c := range commands {
		if c.Name == word {
			return ""
		}
	}
	for _, c := range commands {
		if !c.Hidden && editDistance(c.Name, word) == 1 {
			return c.Name
		}
	}
	return ""
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of two neighbouring letters that turn a into b (the optimal string
// alignment distance): "ehco" is one swap from "echo".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// hintedError adds a hint of the command line's own to an error that
// transport.Explain words: report prints it after the error's own hint.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withCommandHint adds "did you mean `sonde scan`?" to the error of a
// root command line whose first word is one edit from a command: the
// usage error of "sonde scna host 80" (three arguments), or the failure
// to resolve the host "ehco" of "sonde ehco 9000". The word is tried as a
// host first, since it may be one.
func withCommandHint(err error, commands []*cli.Command, first string) error {
	if err == nil {
		return nil
	}
	var (
		in  *transport.InputError
		re  *transport.ResolveError
		dns *net.DNSError
	)
	if !errors.As(err, &in) && !errors.As(err, &re) && !errors.As(err, &dns) {
		return err
	}
	if name := suggestCommand(commands, first); name != "" {
		return &hintedError{err: err, hint: "did you mean `sonde " + name + "`?"}
	}
	return err
}

// helpArgs reads "sonde help" and "sonde help COMMAND" as --help: the
// first word "help" always asks for help, so a host named help is
// reached with "sonde connect help PORT". ok is false when the words
// after help name no command.
func helpArgs(args []string, commands []*cli.Command) (out []string, ok bool) {
	switch {
	case len(args) == 1:
		return []string{"--help"}, true
	case len(args) == 2:
		for _, c := range commands {
			if c.Name == args[1] && !c.Hidden {
				return []string{c.Name, "--help"}, true
			}
		}
	}
	return nil, false
}
