// Command startfloor is the floor of bench/startup.sh: a program that
// imports the libraries sonde is built on and does nothing of its own
// but print a version through urfave/cli, so that its start-up is what
// those libraries' package initialisation and size cost. sonde's own
// start-up is what it spends above this.
package main

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"
	"golang.org/x/net/proxy"
	"golang.org/x/term"
)

func main() {
	app := &cli.App{Name: "startfloor", Version: "0"}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Kept reachable so that the linker keeps the libraries, as sonde does.
	if len(os.Args) > 5 {
		color.NoColor = term.IsTerminal(0)
		fmt.Println(proxy.FromEnvironment(), tls.VersionName(tls.VersionTLS13))
	}
}
