// Command echobare is the ceiling for the echo-load benchmark (bench/echo.sh):
// the plainest Go echo server there is. One goroutine per connection, each
// with a 32 KiB buffer, reading and writing back until the client's EOF,
// then closing. No logging, no limits, no deadlines.
//
//	go run ./bench/echobare -addr 127.0.0.1:7007
//
// It prints "echobare: listening on ADDR" on stderr once it is listening and
// runs until killed.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on (port 0: any free port)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: echobare [-addr HOST:PORT]")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echobare:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "echobare: listening on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			fmt.Fprintln(os.Stderr, "echobare: accept:", err)
			os.Exit(1)
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
