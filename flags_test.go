package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTLSUsageErrors: misuse of the --tls family exits 2 with one line
// saying what is wrong, before any connection (port 1 would be refused if
// sonde got that far). testdata/script/tls.txtar checks the wording.
func TestTLSUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pin := "sha256:" + strings.Repeat("ab", 32)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--pin", "sha256:xyz", "127.0.0.1", "1"}, "bad --pin"},
		{[]string{"--pin", strings.Repeat("ab", 32), "127.0.0.1", "1"}, "must start with sha256:"},
		{[]string{"--insecure", "--pin", pin, "127.0.0.1", "1"}, "--insecure and --pin cannot be combined"},
		{[]string{"--insecure", "--ca", notPEM, "127.0.0.1", "1"}, "--insecure and --ca cannot be combined"},
		{[]string{"-u", "--tls", "127.0.0.1", "1"}, "DTLS"},
		{[]string{"-u", "--pin", pin, "127.0.0.1", "1"}, "DTLS"},
		{[]string{"-l", "-u", "--tls", "127.0.0.1", "0"}, "DTLS"},
		{[]string{"-l", "--tls", "--sni", "example.com", "127.0.0.1", "0"}, "--sni is for TLS clients, not listeners"},
		{[]string{"-l", "--insecure", "127.0.0.1", "0"}, "--insecure is for TLS clients, not listeners"},
		{[]string{"-l", "--pin", pin, "127.0.0.1", "0"}, "--pin is for TLS clients, not listeners"},
		{[]string{"--ca", filepath.Join(dir, "missing.pem"), "127.0.0.1", "1"}, "cannot read --ca"},
		{[]string{"--ca", notPEM, "127.0.0.1", "1"}, "holds no PEM certificate"},
		{[]string{"--cert", notPEM, "127.0.0.1", "1"}, "--cert and --key go together"},
		{[]string{"-l", "--key", notPEM, "127.0.0.1", "0"}, "--cert and --key go together"},
		{[]string{"-l", "--cert", notPEM, "--key", notPEM, "127.0.0.1", "0"}, "cannot load --cert"},
		{[]string{"echo", "-u", "--tls", "127.0.0.1", "0"}, "DTLS"},
		{[]string{"echo", "--tls", "--sni", "example.com", "127.0.0.1", "0"}, "--sni is for TLS clients, not listeners"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, strings.NewReader(""), &stdout, &stderr)
		first, _, _ := strings.Cut(stderr.String(), "\n")
		switch {
		case code != exitUsage:
			t.Errorf("sonde %q: exit %d, want 2; stderr:\n%s", c.args, code, stderr.String())
		case stdout.Len() != 0:
			t.Errorf("sonde %q: wrote %q to stdout", c.args, stdout.String())
		case !strings.HasPrefix(first, "sonde: ") || !strings.Contains(first, c.want):
			t.Errorf("sonde %q: first line %q, want one containing %q", c.args, first, c.want)
		}
	}
}

// TestFlagNamesDirect: the names flagNames reads straight from each flag
// are the ones urfave/cli's Names() gives, for every flag of the app and
// of every command.
func TestFlagNamesDirect(t *testing.T) {
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	flags := slices.Clone(app.Flags)
	for _, c := range app.Commands {
		flags = append(flags, c.Flags...)
	}
	for _, f := range flags {
		if got, want := flagNames(f), f.Names(); !slices.Equal(got, want) {
			t.Errorf("flagNames(%T %s) = %q, want %q", f, want[0], got, want)
		}
		if got, want := flagName(f), f.Names()[0]; got != want {
			t.Errorf("flagName(%T %s) = %q, want %q", f, want, got, want)
		}
	}
}
