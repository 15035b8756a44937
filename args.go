package main

import (
	"strings"

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
//     moved to the front, where urfave/cli looks for it.
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
		for _, n := range f.Names() {
			takesValue[n] = tv
		}
	}
	var opts, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			opts = append(opts, a)
			if !hasValue && takesValue[name] && i+1 < len(args) {
				opts = append(opts, args[i+1])
				i++
			}
		case len(a) > 1 && a[0] == '-':
			cluster := []rune(a[1:])
			for j := 0; j < len(cluster); j++ {
				name := string(cluster[j])
				opts = append(opts, "-"+name)
				if !takesValue[name] {
					continue
				}
				if rest := string(cluster[j+1:]); rest != "" {
					opts = append(opts, strings.TrimPrefix(rest, "="))
				} else if i+1 < len(args) {
					opts = append(opts, args[i+1])
					i++
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
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}
