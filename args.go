package main

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// normalizeArgs rewrites a netcat-style command line into one urfave/cli
// parses the same way getopt would:
//
//   - flags may follow positionals (sonde host 80 -v): they are moved ahead,
//     and the positionals follow a "--";
//   - short flags combine (-lvnp 4444, -vv, -ulk) and take attached values
//     (-p4444, -w5): each is split into its own token;
//   - a first positional that names a command (connect, listen, ...) is
//     moved to the front, where urfave/cli looks for it;
//   - -h or --help anywhere asks for the help of the command, whatever
//     else the line holds (sonde host 80 --help): the other positionals
//     are dropped, or urfave/cli would take the first for a help topic
//     and fail ("No help topic for 'host'");
//   - a flag that takes a value but ends the line without one (sonde
//     host -p) is left last, and the positionals are dropped, so that
//     urfave/cli reports the value missing instead of taking "--" for it;
//   - a '-' among the letters of a cluster (-l-p) is no flag letter, and
//     "-" "-" would end the flags: such a word is passed whole.
//
// flags are those of the app and of every command: a flag name must mean
// the same (value or not) everywhere. Unknown flags are passed through for
// urfave/cli to reject.
func normalizeArgs(args []string, flags []cli.Flag, commands []string) []string {
	takesValue := make(map[string]bool)
	for _, f := range flags {
		tv := false
		if d, ok := f.(cli.DocGenerationFlag); ok {
			tv = d.TakesValue()
		}
		for _, n := range flagNames(f) {
			takesValue[n] = tv
		}
	}
	var opts, pos []string
	help, missing := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if name == "help" || name == "h" { // Go's flag package takes --h for -h
				on, err := strconv.ParseBool(value)
				help = help || !hasValue || err == nil && on
			}
			opts = append(opts, a)
			if !hasValue && takesValue[name] {
				if i+1 < len(args) {
					opts = append(opts, args[i+1])
					i++
				} else {
					missing = true
				}
			}
		case len(a) > 1 && a[0] == '-':
			if dashLetter(a[1:], takesValue) {
				opts = append(opts, a)
				continue
			}
			// Letters are sliced out of a, not converted through []rune,
			// which would turn bytes that are not UTF-8 into U+FFFD.
			for j := 1; j < len(a); {
				_, size := utf8.DecodeRuneInString(a[j:])
				name := a[j : j+size]
				j += size
				opts = append(opts, "-"+name)
				help = help || name == "h"
				if !takesValue[name] {
					continue
				}
				if rest := a[j:]; rest != "" {
					opts = append(opts, strings.TrimPrefix(rest, "="))
				} else if i+1 < len(args) {
					opts = append(opts, args[i+1])
					i++
				} else {
					missing = true
				}
				break
			}
		default:
			pos = append(pos, a)
		}
	}
	var out []string
	if len(pos) > 0 {
		for _, c := range commands {
			if pos[0] == c {
				out = append(out, c)
				pos = pos[1:]
				break
			}
		}
	}
	out = append(out, opts...)
	if len(pos) > 0 && !help && !missing {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// dashLetter tells whether a cluster of short flags (the word without its
// leading '-') holds a '-' before its first letter that takes a value.
func dashLetter(cluster string, takesValue map[string]bool) bool {
	for _, r := range cluster {
		if r == '-' {
			return true
		}
		if takesValue[string(r)] {
			return false
		}
	}
	return false
}
