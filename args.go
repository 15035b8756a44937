package main

import (
	"slices"
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
	tv := make(map[string]bool)
	for _, f := range flags {
		v := false
		if d, ok := f.(cli.DocGenerationFlag); ok {
			v = d.TakesValue()
		}
		for _, n := range flagNames(f) {
			tv[n] = v
		}
	}
	out, _ := normalizeLine(args, func(name string) bool { return tv[name] }, commands)
	return out
}

// valueFlagNames are the names of the flags that take a value, in the
// app or in any command: what normalizeArgs would read from every flag,
// without building every command's flags to read it (TestValueFlagNames
// keeps the two in step).
var valueFlagNames = [...]string{
	"port", "p", "source-port", "source", "s", "wait", "w", "quit", "q",
	"max-conns", "allow", "deny", "allow-uid", "interval", "i", "replies",
	"hex-file", "color", "ca", "ssl-trustfile", "sni", "ssl-servername",
	"alpn", "ssl-alpn", "pin", "cert", "ssl-cert", "key", "ssl-key",
	"proxy", "x", "proxy-type", "X", "proxy-auth", "proxy-auth-file",
	"exec", "e", "sh-exec", "c", "idle-timeout", "delay", "retries",
	"concurrency", "targets", "max-hosts", "count", "timeout", "max-hops",
	"m", "probes",
}

// takesValue tells whether the flag named name (without dashes) takes a value.
func takesValue(name string) bool { return slices.Contains(valueFlagNames[:], name) }

// normalizeLine is normalizeArgs with takesValue telling which flags take
// a value; help tells whether the line asks for help.
func normalizeLine(args []string, takesValue func(string) bool, commands []string) (out []string, help bool) {
	var opts, pos []string
	missing := false
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
			if !hasValue && takesValue(name) {
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
				if !takesValue(name) {
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
	return out, help
}

// dashLetter tells whether a cluster of short flags (the word without its
// leading '-') holds a '-' before its first letter that takes a value.
func dashLetter(cluster string, takesValue func(string) bool) bool {
	for _, r := range cluster {
		if r == '-' {
			return true
		}
		if takesValue(string(r)) {
			return false
		}
	}
	return false
}
