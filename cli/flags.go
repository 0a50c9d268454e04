package cli

// The plumbing every command shares: flags before or after the arguments,
// usage errors (exit 2) and failures (exit 1) with hints, opening the home,
// and writing results to files or standard output.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
)

// commonFlagsUsage documents the flags every ceremony command takes.
const commonFlagsUsage = `
common flags (before or after the arguments):
  --home DIR        data directory (env KEREMONY_HOME; default: the user config dir + /keremony)
  --keystore MODE   auto, keyring or file (env KEREMONY_KEYSTORE)
  --expires DUR     (commands that start a ceremony) expire it after DUR, e.g. 72h; it
                    then stays on record as expired and takes no more signatures
environment:
  KEREMONY_PASSPHRASE  passphrase of the file keystore (less safe than typing it)
exit status: 0 success, 1 failure, 2 usage
`

// errUsage marks a usage error found by the command line itself.
var errUsage = errors.New("usage")

// testOnlyKDF, set by tests, makes new keystore files cheap to open.
var testOnlyKDF *device.KDFParams

// testOnlyClock, set by tests, replaces the clock of the homes commands
// open (nil: time.Now).
var testOnlyClock func() time.Time

// cmd is one run of a command: its name, flags and streams.
type cmd struct {
	name    string
	usage   string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	result  io.Writer // where a result written to "-" goes: the real standard output
	fs      *flag.FlagSet
	home    *string
	mode    *string
	expires *time.Duration // set by commands that create ceremonies
}

func newCmd(name, usage string, stdin io.Reader, stdout, stderr io.Writer) *cmd {
	c := &cmd{name: name, usage: usage, stdin: stdin, stdout: stdout, stderr: stderr, result: stdout}
	c.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	c.fs.SetOutput(stderr)
	c.fs.Usage = func() { fmt.Fprint(stderr, usage+commonFlagsUsage) }
	c.home = c.fs.String("home", "", "data directory")
	c.mode = c.fs.String("keystore", "", "auto, keyring or file")
	return c
}

// expiresFlag lets a command that creates a ceremony give it a deadline.
func (c *cmd) expiresFlag() {
	c.expires = c.fs.Duration("expires", 0, "expire the ceremony after this long (e.g. 2h); 0: never")
}

// expiry is the --expires duration (0: never).
func (c *cmd) expiry() time.Duration {
	if c.expires == nil {
		return 0
	}
	return *c.expires
}

// parse parses the flags; ok is false when the command should exit with
// code (0 after --help, 2 on a usage error).
func (c *cmd) parse(args []string) (pos []string, code int, ok bool) {
	pos, err := parseInterleaved(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		return nil, 2, false
	}
	return pos, 0, true
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

// Every message goes through safetext: its arguments may quote outside
// text (labels, file names, reasons, errors naming input), which must never
// reach the terminal as control characters.

// usageErr reports a usage error (exit 2).
func (c *cmd) usageErr(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "keremony %s: %s\n", c.name, safetext.Sprintf(format, a...))
	fmt.Fprintf(c.stderr, "run 'keremony %s --help' for usage\n", c.name)
	return 2
}

// fail reports a failure (exit 1), or a usage error (exit 2) when err is
// one (errUsage, or a request device calls invalid).
func (c *cmd) fail(err error) int {
	switch {
	case errors.Is(err, errUsage):
		return c.usageErr("%v", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
	case errors.Is(err, device.ErrRequest):
		return c.usageErr("%v", strings.TrimPrefix(err.Error(), device.ErrRequest.Error()+": "))
	}
	safetext.Fprintf(c.stderr, "keremony %s: %v\n", c.name, err)
	switch {
	case errors.Is(err, device.ErrKeyringUnavailable):
		fmt.Fprintln(c.stderr, "keremony: hint: without a working OS keyring, use --keystore=file (a passphrase-protected file)")
	case errors.Is(err, device.ErrNoPassphrase), errors.Is(err, errNoTerminal):
		fmt.Fprintln(c.stderr, "keremony: hint: run in a terminal, or set KEREMONY_PASSPHRASE (less safe)")
	case errors.Is(err, device.ErrStoreBusy), errors.Is(err, device.ErrBusy):
		fmt.Fprintln(c.stderr, "keremony: hint: another keremony command is using this home; wait for it to finish")
	}
	return 1
}

// printf writes a message line; its arguments go through safetext.
func (c *cmd) printf(format string, a ...any) { safetext.Fprintf(c.stdout, format, a...) }

// note writes a message about what happened to standard error, so that
// standard output stays the command's result.
func (c *cmd) note(format string, a ...any) {
	fmt.Fprintf(c.stderr, "keremony %s: %s\n", c.name, safetext.Sprintf(format, a...))
}

// notes writes notices as notes; it reports whether one was a failure.
func (c *cmd) notes(ns []api.Notice) (failed bool) {
	for _, n := range ns {
		c.note("%s", n.Text)
		failed = failed || n.Err != nil
	}
	return failed
}

// lines writes notices as lines of the result's messages (standard output
// unless the result goes there); it reports whether one was a failure.
func (c *cmd) lines(ns []api.Notice) (failed bool) {
	for _, n := range ns {
		c.printf("%s\n", n.Text)
		failed = failed || n.Err != nil
	}
	return failed
}

// open opens the command's home: --home, else KEREMONY_HOME, else the
// default; the keystore --keystore, else KEREMONY_KEYSTORE. What opening
// had to say goes to standard error.
func (c *cmd) open() (*device.Device, error) {
	return c.openWith(false)
}

func (c *cmd) openWith(keysOnly bool) (*device.Device, error) {
	d, err := device.Open(device.Options{
		Home:       firstNonEmpty(*c.home, os.Getenv("KEREMONY_HOME")),
		Keystore:   firstNonEmpty(*c.mode, os.Getenv("KEREMONY_KEYSTORE")),
		Passphrase: terminalPassphrase(c.stdin, c.stderr),
		KDF:        testOnlyKDF,
		Clock:      testOnlyClock,
		KeysOnly:   keysOnly,
	})
	if err != nil {
		return nil, err
	}
	for _, n := range d.TakeNotices() {
		safetext.Fprintf(c.stderr, "keremony: %s\n", n.Text)
	}
	return d, nil
}

// resultOnStdout moves the command's messages to standard error when its
// result goes to standard output (out is "-", or "" for commands whose
// result goes there by default), so that the output is the result alone.
func (c *cmd) resultOnStdout(out string, byDefault bool) {
	if out == "-" || out == "" && byDefault {
		c.stdout = c.stderr
	}
}

// writeOutput writes a result to path ("-" or "" is standard output) and
// says where it went.
func (c *cmd) writeOutput(path string, data []byte, what string) error {
	if path == "" || path == "-" {
		_, err := c.result.Write(data)
		return err
	}
	if err := device.WriteFile(path, data); err != nil {
		return err
	}
	c.note("wrote %s to %s", what, path)
	return nil
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
		safetext.Fprintf(stderr, "keremony %s: unknown subcommand %q\n", name, args[0])
		fmt.Fprint(stderr, usage)
		return "", nil, 2, false
	}
	return args[0], args[1:], 0, true
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// orderedFlag appends NAME=VALUE to a list shared by several flags, so a
// command sees them in command-line order.
type orderedFlag struct {
	name string
	list *[][2]string
}

func (o orderedFlag) String() string { return "" }
func (o orderedFlag) Set(v string) error {
	*o.list = append(*o.list, [2]string{o.name, v})
	return nil
}

// thresholdFlags reads --kt and --nt (nil when not given) with kel's
// threshold grammar.
func thresholdFlags(kt, nt string) (*kel.Threshold, *kel.Threshold, error) {
	var out [2]*kel.Threshold
	for i, f := range []struct{ name, v string }{{"kt", kt}, {"nt", nt}} {
		if f.v == "" {
			continue
		}
		t, err := kel.ParseThresholdText(f.v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: --%s %q: %w", errUsage, f.name, f.v, err)
		}
		out[i] = &t
	}
	return out[0], out[1], nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// errRotations: a prepared rotation could not be committed (said above).
var errRotations = errors.New("committing a prepared rotation failed")
