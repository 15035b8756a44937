package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkStartup is sonde's own share of a process start: runApp from
// argv to exit, for the invocations scripts make in loops (-z on one open
// port, --version).
func BenchmarkStartup(b *testing.B) {
	port := acceptCloseListener(b)
	for _, args := range [][]string{{"--version"}, {"-z", "127.0.0.1", port}} {
		b.Run(args[0], func(b *testing.B) {
			env := runEnv{ctx: context.Background(), stdin: nil, stdout: io.Discard, stderr: io.Discard}
			b.ReportAllocs()
			for b.Loop() {
				if err := runApp(env, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
