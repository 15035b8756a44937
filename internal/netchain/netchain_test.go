package netchain

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Do enters a namespace on one thread only, and only while f runs: every
// thread of the process, the main one included (its namespace is what
// /proc/self/net and /proc/net show), is back home afterwards, while a
// socket f opened stays in the chain.
func TestDoLeavesNoThreadBehind(t *testing.T) {
	home, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	c := Build(t, fmt.Sprintf("trace-%d-do", os.Getpid()))
	var inside string
	for range 50 { // whichever threads the goroutines land on
		if err := c.Do(c.Server, func() error {
			ln, err := net.Listen("tcp", net.JoinHostPort(Server4, "0"))
			if err != nil {
				return err
			}
			ln.Close()
			inside, err = os.Readlink("/proc/thread-self/ns/net")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if inside == home {
		t.Fatalf("f ran in the test's own namespace %s", home)
	}
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads found: %v", err)
	}
	for _, task := range tasks {
		if ns, err := os.Readlink(task); err == nil && ns != home {
			t.Errorf("%s is in %s, not in the test's namespace %s", task, ns, home)
		}
	}
}
