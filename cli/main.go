// Package cli is keremony's command line: one file per command, each
// parsing its flags, calling package device and rendering the result.
package cli

import (
	"fmt"
	"github.com/keremony/keremony/internal/safetext"
	"io"
	"strings"
)

// command is one subcommand: it gets its arguments (without its own name) and
// the process streams, and returns the exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order usage shows them.
func commands() []command {
	return []command{
		{"verify", "replay and verify CESR key event logs", runVerify},
		{"member", "manage this device's member keys", runMember},
		{"qr", "send and receive files as animated QR codes", runQR},
		{"group", "propose a new group identifier (inception)", runGroup},
		{"rotate", "contribute to and propose a group rotation", runRotate},
		{"anchor", "propose anchoring seals in a group's KEL (ixn)", runAnchor},
		{"review", "check a proposal before signing it", runReview},
		{"sign", "review a proposal and sign it", runSign},
		{"collect", "add received signatures to a ceremony", runCollect},
		{"status", "list ceremonies, or show one's threshold progress", runStatus},
		{"finalize", "write the fully signed event once the thresholds are met", runFinalize},
		{"publish", "send finalized events to the group's witnesses and keep their receipts", runPublish},
		{"abort", "abort a ceremony, or apply another device's abort record", runAbort},
		{"kel", "import, export, list and show key event logs", runKEL},
		{"tui", "open the terminal UI (also: keremony with no arguments)", runTUI},
	}
}

// Main runs keremony with the process's arguments (without the program
// name) and streams, and returns the exit code: 0 success, 1 failure, 2
// usage.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return dispatch(args, stdin, stdout, stderr)
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		usage(stdout)
		return 0
	case len(args) == 0 || strings.HasPrefix(args[0], "-"):
		// No command, or only flags: the terminal UI.
		return runTUI(args, stdin, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	safetext.Fprintf(stderr, "keremony: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: keremony COMMAND [ARGS]")
	fmt.Fprintln(w, "       keremony [--home DIR] [--keystore MODE] [--drop DIR]   (no command: the terminal UI)")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		safetext.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
