package modes

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// A TLS listener serves the first client that completes its handshake: a
// client that connected before it and sends nothing does not hold it
// (its handshake may take an hour here), and is closed once the other
// wins.
func TestListenTLSSilentClientDoesNotBlock(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	cfg, _ := loopbackTLS(t)
	ready := make(chan net.Addr, 1)
	var stdout bytes.Buffer
	o := &Options{
		Server: Server{
			Network:   "tcp",
			Listen:    transport.Endpoint{Host: "127.0.0.1"},
			TLSServer: cfg,
			UI:        ui.New(io.Discard, 0),
			OnReady:   func(a net.Addr) { ready <- a },
		},
		Timeout: time.Hour, // the silent client's handshake would outlast the test
		Stdin:   strings.NewReader(""),
		Stdout:  &stdout,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, o) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Listen ended early: %v", err)
	}

	silent, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	guard := time.Now().Add(30 * time.Second) // only against a hang
	silent.SetDeadline(guard)

	raw, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(guard)
	client := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	defer client.Close()
	if err := client.Handshake(); err != nil {
		t.Fatalf("the second client's handshake: %v (the listener waited on the silent one)", err)
	}
	if _, err := io.WriteString(client, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := client.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(client); err != nil {
		t.Fatalf("reading the listener's end: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if stdout.String() != "hello" {
		t.Errorf("stdout %q, want %q", stdout.String(), "hello")
	}
	// The silent client lost: the listener closed it.
	if _, err := silent.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the silent client read %v, want EOF: it should have been closed", err)
	}
}
