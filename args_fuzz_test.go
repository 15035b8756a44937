package main

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
)

// Seed corpora live in testdata/fuzz/FuzzXxx; `go test` runs them as
// regression cases, `go test -fuzz` starts from them.

// argFlag is one flag as a parser read it.
type argFlag struct {
	name, value string
	hasValue    bool
}

// readArgs is what a command line means: the command, the flags in order
// and the positionals; failed is set when the line cannot parse (an
// unknown flag, a flag without its value), missing when a value is
// missing; help is set when -h or --help asks for help.
type readArgs struct {
	cmd                   string
	flags                 []argFlag
	pos                   []string
	failed, missing, help bool
}

// getoptRead reads a command line the way normalizeArgs promises urfave/cli
// will: as getopt_long does with argument permutation. "--" ends the flags;
// "--name=V" and "--name V" take a value; "-abc" are three flags; a letter
// that takes a value takes the rest of its word (one leading '=' dropped)
// or else the next word, whatever it is. Choices of sonde's own: a '-'
// among the flag letters (-l-p) makes the word one long flag (l-p) that
// urfave/cli rejects; a first positional that names a command is the
// command; and -h or --help drops the other positionals (it shows the
// command's help). This is the specification FuzzNormalizeArgs holds
// normalizeArgs to; it is written from its documentation, not its code.
func getoptRead(args []string, takes map[string]bool, commands []string) readArgs {
	var r readArgs
	// Like getopt, go on after an error, to see the whole line.
	long := func(body string, i *int) {
		name, value, has := strings.Cut(body, "=")
		tv, known := takes[name]
		if !known {
			r.failed = true
			return
		}
		if tv && !has {
			if *i+1 >= len(args) {
				r.failed, r.missing = true, true
				return
			}
			*i++
			value, has = args[*i], true
		}
		r.flags = append(r.flags, argFlag{name, value, has})
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			r.pos = append(r.pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			long(a[2:], &i)
		case len(a) > 1 && a[0] == '-':
			var letters []string
			for j := 1; j < len(a); {
				_, size := utf8.DecodeRuneInString(a[j:])
				letters = append(letters, a[j:j+size])
				j += size
			}
			dash := false
			for _, l := range letters {
				if l == "-" {
					dash = true
				}
				if dash || takes[l] {
					break
				}
			}
			if dash {
				long(a[1:], &i)
				continue
			}
			rest := a[1:]
			for _, l := range letters {
				rest = rest[len(l):]
				tv, known := takes[l]
				if !known {
					r.failed = true
					continue
				}
				if !tv {
					r.flags = append(r.flags, argFlag{l, "", false})
					continue
				}
				switch {
				case rest != "":
					r.flags = append(r.flags, argFlag{l, strings.TrimPrefix(rest, "="), true})
				case i+1 < len(args):
					i++
					r.flags = append(r.flags, argFlag{l, args[i], true})
				default:
					r.failed, r.missing = true, true
				}
				break
			}
		default:
			r.pos = append(r.pos, a)
		}
	}
	if len(r.pos) > 0 && slices.Contains(commands, r.pos[0]) {
		r.cmd, r.pos = r.pos[0], r.pos[1:]
	}
	for _, fl := range r.flags {
		if on, err := strconv.ParseBool(fl.value); (fl.name == "h" || fl.name == "help") && (!fl.hasValue || err == nil && on) {
			r.help, r.pos = true, nil
		}
	}
	return r
}

// flagRead reads an argv as urfave/cli does with Go's flag package: a
// command first, then flags until "--" or the first word that is not one
// ("-name", "--name", "-name=V"; a flag that takes a value takes the next
// word whatever it is); then, with no command yet, a first positional
// that names a command is one.
func flagRead(argv []string, takes map[string]bool, commands []string) readArgs {
	var r readArgs
	i := 0
	if len(argv) > 0 && slices.Contains(commands, argv[0]) {
		r.cmd, i = argv[0], 1
	}
	for ; i < len(argv); i++ {
		s := argv[i]
		if len(s) < 2 || s[0] != '-' {
			break
		}
		body := s[1:]
		if s[1] == '-' {
			if len(s) == 2 {
				i++
				break
			}
			body = s[2:]
		}
		if body[0] == '-' || body[0] == '=' {
			r.failed = true // "bad flag syntax"
			return r
		}
		name, value, has := body, "", false
		if k := strings.IndexByte(body[1:], '='); k >= 0 {
			name, value, has = body[:k+1], body[k+2:], true
		}
		tv, known := takes[name]
		if !known {
			r.failed = true // "flag provided but not defined"
			return r
		}
		if tv && !has {
			if i+1 >= len(argv) {
				r.failed = true // "flag needs an argument"
				return r
			}
			i++
			value, has = argv[i], true
		}
		r.flags = append(r.flags, argFlag{name, value, has})
	}
	r.pos = argv[i:]
	if r.cmd == "" && len(r.pos) > 0 && slices.Contains(commands, r.pos[0]) {
		r.cmd, r.pos = r.pos[0], r.pos[1:]
	}
	return r
}

// sondeFlags are the flags and commands run passes to normalizeArgs, and
// which flags take a value: those and urfave/cli's own -h, --help.
func sondeFlags() (flags []cli.Flag, takes map[string]bool, commands []string) {
	app := newApp(runEnv{})
	flags = app.Flags
	for _, c := range app.Commands {
		commands = append(commands, c.Name)
		flags = append(flags, c.Flags...)
	}
	takes = make(map[string]bool)
	for _, f := range flags {
		for _, n := range f.Names() {
			takes[n] = f.(cli.DocGenerationFlag).TakesValue()
		}
	}
	takes["h"], takes["help"] = false, false
	return flags, takes, commands
}

// FuzzNormalizeArgs: the getopt-style rewrite of argv (the fuzz input is
// the command line, split at spaces). urfave/cli reading the rewrite finds
// the same command, flags, values and positionals as getopt reading the
// original (getoptRead), and fails exactly when getopt fails (unknown
// flag, value missing). The rewrite is a fixed point, and unless a value is
// missing or help is asked for (then positionals go), and no word is a
// cluster (-lv, -p80), it only reorders words and adds or drops a "--".
func FuzzNormalizeArgs(f *testing.F) {
	for _, s := range []string{"host 80 -v", "-lvnp 4444", "-lvnp4444 -k", "-w5 host 80", "-p=80 -l", "connect -v echo 7", "x listen -l 80",
		"host -- -80", "--color=never --hex-file f host 80", "-é", "-\xff", "--proxy-auth a:b --", "-e", "-w -- host 80", "scan -z 127.0.0.1 1-100"} {
		f.Add(s)
	}
	flags, takes, commands := sondeFlags()
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, " ")
		}
		out := normalizeArgs(slices.Clone(args), flags, commands)
		want := getoptRead(args, takes, commands)
		got := flagRead(out, takes, commands)
		switch {
		case want.failed != got.failed:
			t.Fatalf("normalizeArgs(%q) = %q: getopt fails: %v, urfave/cli fails: %v", args, out, want.failed, got.failed)
		case want.failed:
		case got.cmd != want.cmd || !slices.Equal(got.flags, want.flags) || !slices.Equal(got.pos, want.pos):
			t.Fatalf("normalizeArgs(%q) = %q\nurfave/cli reads %+v\ngetopt reads     %+v", args, out, got, want)
		}
		if again := normalizeArgs(slices.Clone(out), flags, commands); !slices.Equal(again, out) {
			t.Fatalf("normalizeArgs(%q) = %q, but normalizing that gives %q", args, out, again)
		}
		for _, a := range args {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' {
				if _, size := utf8.DecodeRuneInString(a[1:]); size != len(a)-1 {
					return // a cluster: split into several words
				}
			}
		}
		if want.missing || want.help {
			return // the positionals may be dropped
		}
		words := func(s []string) []string {
			s = slices.DeleteFunc(slices.Clone(s), func(w string) bool { return w == "--" })
			slices.Sort(s)
			return s
		}
		if !slices.Equal(words(out), words(args)) {
			t.Fatalf("normalizeArgs(%q) = %q: not the same words", args, out)
		}
	})
}

// FuzzRelayAddress: relay's LISTEN and TARGET. An accepted address has a
// port, a clean host (a fixed point of ParseHost), a host unless it is
// LISTEN, and reads back the same as HOST:PORT; a bare number is a LISTEN
// port on every address.
func FuzzRelayAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8080", "[::1]:80", ":8080", "8080", "example.com:http", "[fe80::1%eth0]:22", "::1:80", "host:", "[::1]", "a b:1", "0"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, listen bool) {
		what := "TARGET"
		if listen {
			what = "LISTEN"
		}
		tg, err := relayAddress(what, s, listen)
		if err != nil {
			var in *transport.InputError
			if !errors.As(err, &in) || in.Msg == "" || in.Hint == "" || strings.ContainsAny(in.Msg+in.Hint, "\r\n") {
				t.Fatalf("relayAddress(%q, %v): error %q (%T): want a one-line *InputError with a hint", s, listen, err, err)
			}
			return
		}
		if tg.Port == "" || !listen && tg.Host == "" {
			t.Fatalf("relayAddress(%q, %v) = %+v: missing host or port", s, listen, tg)
		}
		if h, err := transport.ParseHost(tg.Host); err != nil || h != tg.Host {
			t.Fatalf("relayAddress(%q, %v) = %+v: host reads as %q, %v", s, listen, tg, h, err)
		}
		joined := net.JoinHostPort(tg.Host, tg.Port)
		if again, err := relayAddress(what, joined, listen); err != nil || again != tg {
			t.Fatalf("relayAddress(%q, %v) = %+v, but %q gives %+v, %v", s, listen, tg, joined, again, err)
		}
		if listen && strings.Trim(s, "0123456789") == "" && tg != (transport.Target{Port: s}) {
			t.Fatalf("relayAddress(%q, LISTEN) = %+v, want every address, port %s", s, tg, s)
		}
	})
}
