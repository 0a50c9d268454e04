package cli

// The file keystore's passphrase: KEREMONY_PASSPHRASE, else asked on the
// terminal.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// ttyPath is where passphrases are read from; tests point it elsewhere.
var ttyPath = "/dev/tty"

// errNoTerminal: the file keystore needs a passphrase and none can be asked.
var errNoTerminal = errors.New("no terminal to ask for the passphrase (set KEREMONY_PASSPHRASE)")

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
