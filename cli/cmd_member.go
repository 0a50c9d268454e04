package cli

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

const memberUsage = `usage: keremony member new ALIAS            create member ALIAS: a current and a pre-rotated next key
       keremony member list                 list this device's members
       keremony member card ALIAS [--out FILE]
                                            write ALIAS's public card, signed with its current key
       keremony member check                prove every member's keys are in the keystore (recovery drill)

flags (any subcommand, before or after its arguments):
  --home DIR        data directory (env KEREMONY_HOME; default: the user config dir + /keremony)
  --keystore MODE   auto, keyring or file (env KEREMONY_KEYSTORE; default auto: the OS keyring
                    when it answers, else a passphrase-protected file in the data directory)

environment:
  KEREMONY_PASSPHRASE  passphrase of the file keystore, instead of asking on the terminal. Less
                       safe: the environment is visible to the user's other processes and tends
                       to end up in shell history and CI logs.
`

// testOnlyKDF, set by tests, makes new keystore files cheap to open.
var testOnlyKDF *keystore.KDFParams

// ttyPath is where passphrases are read from; tests point it elsewhere.
var ttyPath = "/dev/tty"

// errNoTerminal: the file keystore needs a passphrase and none can be asked.
var errNoTerminal = errors.New("no terminal to ask for the passphrase (set KEREMONY_PASSPHRASE)")

// runMember manages this device's member keys: exit 0 on success, 1 on
// failure (or members that are not ready), 2 on usage errors.
func runMember(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("member", memberUsage, args, stdout, stderr, "new", "list", "card", "check")
	if !ok {
		return code
	}

	fs := flag.NewFlagSet("member "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, memberUsage) }
	home := fs.String("home", "", "data directory")
	mode := fs.String("keystore", "", "auto, keyring or file")
	out := ""
	if sub == "card" {
		fs.StringVar(&out, "out", "", "write the card to FILE instead of standard output")
	}
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	want := map[string]int{"new": 1, "list": 0, "card": 1, "check": 0}[sub]
	if len(pos) != want {
		fmt.Fprintf(stderr, "keremony member %s: want %d argument(s), got %d\n%s", sub, want, len(pos), memberUsage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "keremony member %s: %v\n", sub, err)
		switch {
		case errors.Is(err, keystore.ErrKeyringUnavailable):
			fmt.Fprintln(stderr, "keremony: hint: without a working OS keyring, use --keystore=file (a passphrase-protected file)")
		case errors.Is(err, keystore.ErrNoPassphrase):
			fmt.Fprintln(stderr, "keremony: hint: run in a terminal, or set KEREMONY_PASSPHRASE (less safe)")
		}
		return 1
	}
	store, _, err := openKeystore(*home, *mode, stdin, stderr)
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "keremony member %s: %s\n", sub, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return 2
	}
	if err != nil {
		return fail(err)
	}
	defer store.Close()

	switch sub {
	case "new":
		err = memberNew(store, pos[0], stdout)
	case "list":
		err = memberList(store, stdout)
	case "card":
		err = memberCard(store, pos[0], out, stdout, stderr)
	case "check":
		var ready bool
		if ready, err = memberCheck(store, stdout); err == nil && !ready {
			return 1
		}
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("--" ends the flags).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// nextDigest is KERI's next-key commitment: Blake3-256 of the key's qb64.
func nextDigest(pub ed25519.PublicKey) string {
	return kel.NextDigest(kel.EncodeVerKey(pub))
}

// terminalPassphrase gets the file keystore's passphrase: KEREMONY_PASSPHRASE
// if set, else from the terminal (twice for a new keystore).
func terminalPassphrase(stdin io.Reader, stderr io.Writer) func(create bool) ([]byte, error) {
	return envPassphrase(func(create bool) ([]byte, error) { return askPassphrase(create, stdin, stderr) })
}

// envPassphrase gets the passphrase from KEREMONY_PASSPHRASE when it is set,
// else from ask.
func envPassphrase(ask func(create bool) ([]byte, error)) func(create bool) ([]byte, error) {
	return func(create bool) ([]byte, error) {
		if p := os.Getenv("KEREMONY_PASSPHRASE"); p != "" {
			return []byte(p), nil
		}
		return ask(create)
	}
}

// askPassphrase asks for the passphrase on the terminal (twice for a new
// keystore).
func askPassphrase(create bool, stdin io.Reader, stderr io.Writer) ([]byte, error) {
	prompt := "keystore passphrase: "
	if create {
		prompt = "new keystore passphrase: "
	}
	p, err := readPassword(prompt, stdin, stderr)
	if err != nil || !create {
		return p, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase")
	}
	again, err := readPassword("repeat the passphrase: ", stdin, stderr)
	if err != nil {
		return nil, err
	}
	defer clear(again)
	if !bytes.Equal(p, again) {
		clear(p)
		return nil, errors.New("the passphrases do not match")
	}
	return p, nil
}

// readPassword reads a line without echo from the controlling terminal, or
// from standard input when that is a terminal.
func readPassword(prompt string, stdin io.Reader, stderr io.Writer) ([]byte, error) {
	if tty, err := os.OpenFile(ttyPath, os.O_RDWR, 0); err == nil {
		defer tty.Close()
		if term.IsTerminal(int(tty.Fd())) {
			return promptPassword(tty, int(tty.Fd()), prompt)
		}
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(stderr, int(f.Fd()), prompt)
	}
	return nil, errNoTerminal
}

func promptPassword(w io.Writer, fd int, prompt string) ([]byte, error) {
	fmt.Fprint(w, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(w)
	return p, err
}

// backendName says in words where the private keys are.
func backendName(s *keystore.Store) string {
	if s.Backend() == keystore.BackendKeyring {
		return "the OS keyring"
	}
	return "the passphrase-protected file " + s.KeystorePath()
}

func memberNew(s *keystore.Store, alias string, stdout io.Writer) error {
	m, err := s.NewMember(alias)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created member %q, keys in %s\nkey   %s\nnext  %s\n",
		m.Alias, backendName(s), kel.EncodeVerKey(m.PublicKey), m.NextDigest)
	return nil
}

func memberList(s *keystore.Store, stdout io.Writer) error {
	ms, err := s.Members()
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		fmt.Fprintf(stdout, "no members in %s\n", s.Home())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tKEY\tNEXT\tSTATE")
	for _, m := range ms {
		state := "-"
		if m.PendingNextDigest != "" {
			state = "rotation prepared"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Alias, kel.EncodeVerKey(m.PublicKey), m.NextDigest, state)
	}
	return tw.Flush()
}

func memberCard(s *keystore.Store, alias, out string, stdout, stderr io.Writer) error {
	card, err := cardPacket(s, alias)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = stdout.Write(card.Marshal())
		return err
	}
	if err := os.WriteFile(out, card.Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote the card of member %q to %s\n", alias, out)
	return nil
}

// cardPacket is member alias's card, signed with its current key.
func cardPacket(s *keystore.Store, alias string) (transport.Card, error) {
	m, err := s.Member(alias)
	if err != nil {
		return transport.Card{}, err
	}
	return transport.NewCard(m.Alias, kel.EncodeVerKey(m.PublicKey), m.NextDigest, func(b []byte) ([]byte, error) {
		return s.SignProof(alias, b)
	})
}

// memberCheck runs the recovery drill; ready is false when any member (or
// the journal) is not ready, or there is no member at all.
func memberCheck(s *keystore.Store, stdout io.Writer) (ready bool, err error) {
	rs, err := s.CheckReadiness()
	if err != nil {
		return false, err
	}
	if len(rs) == 0 {
		fmt.Fprintf(stdout, "no members in %s: nothing to sign with\n", s.Home())
		return false, nil
	}
	ready = true
	for _, r := range rs {
		if r.Ready {
			fmt.Fprintf(stdout, "%s: ready\n", r.Alias)
		} else {
			ready = false
			fmt.Fprintf(stdout, "%s: NOT READY: %v\n", r.Alias, r.Err)
		}
	}
	entries, torn, err := s.Journal().Entries()
	switch {
	case err != nil:
		ready = false
		fmt.Fprintf(stdout, "journal: NOT READY: %v\n", err)
	case torn > 0:
		fmt.Fprintf(stdout, "journal: %d signatures; a torn last line (%d bytes, from a crash; its signature was never released) will be dropped\n", len(entries), torn)
	default:
		fmt.Fprintf(stdout, "journal: %d signatures\n", len(entries))
	}
	return ready, nil
}
