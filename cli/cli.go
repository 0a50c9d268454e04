package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/keremony/keremony/keystore"
)

// errInputTooLarge is the default refusal of readBounded.
var errInputTooLarge = errors.New("input too large")

// readBounded reads the file at path ("-": stdin) and refuses, with tooLarge
// (errInputTooLarge when nil), anything over limit bytes without reading
// more than limit+1 of it. Every command that takes a file reads through it.
func readBounded(path string, stdin io.Reader, limit int, tooLarge error) ([]byte, error) {
	if tooLarge == nil {
		tooLarge = errInputTooLarge
	}
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, tooLarge, limit)
	}
	return data, nil
}

// openKeystore opens the keystore of the data directory named by --home (or
// KEREMONY_HOME, or the default), with the backend named by --keystore (or
// KEREMONY_KEYSTORE). A bad backend name is a usage error (errUsage). The
// keystore's one-line notice (such as a fallback to the file) goes to stderr.
func openKeystore(home, mode string, stdin io.Reader, stderr io.Writer) (*keystore.Store, string, error) {
	return openKeystoreWith(home, mode, terminalPassphrase(stdin, stderr), stderr)
}

// openKeystoreWith is openKeystore with the passphrase of the file backend
// asked by pass (called at most once, and only when a private key is
// needed).
func openKeystoreWith(home, mode string, pass func(create bool) ([]byte, error), stderr io.Writer) (*keystore.Store, string, error) {
	backend, err := keystore.ParseBackend(firstNonEmpty(mode, os.Getenv("KEREMONY_KEYSTORE")))
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	dir := firstNonEmpty(home, os.Getenv("KEREMONY_HOME"))
	if dir == "" {
		if dir, err = keystore.DefaultHome(); err != nil {
			return nil, "", err
		}
	}
	ks, notice, err := keystore.Open(keystore.Options{
		Home:       dir,
		Backend:    backend,
		Passphrase: pass,
		NextDigest: nextDigest,
		Now:        time.Now,
		KDF:        testOnlyKDF,
	})
	if err != nil {
		return nil, "", err
	}
	if notice != "" {
		fmt.Fprintf(stderr, "keremony: notice: %s\n", notice)
	}
	return ks, dir, nil
}

// subcommand splits `keremony NAME SUB ARGS...`: it answers a missing or
// unknown SUB (exit 2) and help (exit 0) itself, so ok is false then.
func subcommand(name, usage string, args []string, stdout, stderr io.Writer, known ...string) (sub string, rest []string, code int, ok bool) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return "", nil, 2, false
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return "", nil, 0, false
	}
	if !slices.Contains(known, args[0]) {
		fmt.Fprintf(stderr, "keremony %s: unknown subcommand %q\n%s", name, args[0], usage)
		return "", nil, 2, false
	}
	return args[0], args[1:], 0, true
}
