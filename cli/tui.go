package cli

// The terminal UI: keremony (no arguments), keremony --drop DIR, keremony tui.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/tui"
)

const tuiUsage = `usage: keremony [tui] [--home DIR] [--keystore MODE] [--drop DIR]

Opens the terminal UI on this device: its members, groups, ceremonies and the packets
waiting for it, and every ceremony step (cards, proposals, review, signing, collecting,
finalizing) with packets shared as files, QR codes or through a drop folder.

flags:
  --home DIR        data directory (env KEREMONY_HOME; default: the user config dir + /keremony)
  --keystore MODE   auto, keyring or file (env KEREMONY_KEYSTORE)
  --drop DIR        a folder shared with the other devices (a synced or removable folder;
                    env KEREMONY_DROP; created if missing): what this device sends is put
                    there, and what the others put there is picked up; files that are not
                    packets go to DIR/rejected/
environment:
  KEREMONY_PASSPHRASE  passphrase of the file keystore (less safe than typing it)
`

// runTUI parses the TUI's flags and runs it until the user quits: exit 0,
// 1 when it fails, 2 on usage errors.
func runTUI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tuiUsage) }
	home := fs.String("home", "", "data directory")
	mode := fs.String("keystore", "", "auto, keyring or file")
	drop := fs.String("drop", os.Getenv("KEREMONY_DROP"), "drop folder")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		safetext.Fprintf(stderr, "keremony: unexpected arguments %q\n", pos)
		fmt.Fprint(stderr, tuiUsage)
		return 2
	}
	open := func(ask tui.Ask) (tui.Backend, error) {
		d, err := device.Open(device.Options{
			Home:       firstNonEmpty(*home, os.Getenv("KEREMONY_HOME")),
			Keystore:   firstNonEmpty(*mode, os.Getenv("KEREMONY_KEYSTORE")),
			Passphrase: envPassphrase(ask),
			Drop:       *drop,
			KDF:        testOnlyKDF,
		})
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return d.Backend(), nil
	}
	if err := tui.Run(tui.Options{Open: open}, stdin, stdout); err != nil {
		safetext.Fprintf(stderr, "keremony: %v\n", err)
		return 1
	}
	return 0
}
