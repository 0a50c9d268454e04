// Command keremony runs KERI multi-signature co-signing ceremonies.
//
// main.go only wires: the command line is package cli, the application
// package device, the terminal UI package tui.
package main

import (
	"os"

	"github.com/keremony/keremony/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
