package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/kel"
)

// maxVerifyInput caps one input file of `keremony verify`.
const maxVerifyInput = 64 << 20

// verifyEvent is one entry of `verify --json`'s events array; the field
// names are a contract scripts rely on.
type verifyEvent struct {
	File     string   `json:"file"`
	Pre      string   `json:"pre"`
	Sn       uint64   `json:"sn"`
	Ilk      string   `json:"ilk"`
	SAID     string   `json:"said"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Errors   []string `json:"errors,omitempty"`
	Message  string   `json:"message,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

type verifyStreamError struct {
	File    string `json:"file"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

type verifyOutput struct {
	OK           bool                    `json:"ok"`
	Events       []verifyEvent           `json:"events"`
	StreamErrors []verifyStreamError     `json:"stream_errors,omitempty"`
	States       map[string]kel.KeyState `json:"states"`
}

// runVerify replays CESR key event logs: exit 0 when every event is valid,
// 1 when any is not, 2 on usage or I/O errors.
func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write one JSON object instead of text")
	ignoreWitnesses := fs.Bool("ignore-witnesses", false, "accept events with fewer witness receipts than their toad")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: keremony verify [--json] [--ignore-witnesses] FILE... (- for stdin)")
		fmt.Fprintln(stderr, "Replays CESR streams in order (delegators before delegates) and checks every signature.")
		fmt.Fprintln(stderr, "An event with fewer valid witness signatures (receipts) than its toad (bt) is not fully")
		fmt.Fprintln(stderr, "witnessed: an error (not_fully_witnessed), unless --ignore-witnesses.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	v := kel.NewVerifier()
	out := verifyOutput{OK: true, Events: []verifyEvent{}, States: map[string]kel.KeyState{}}
	for _, name := range fs.Args() {
		data, err := readInput(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "keremony verify: %v\n", err)
			return 2
		}
		results, err := v.AcceptStream(data)
		for _, r := range results {
			e := verifyEvent{File: name, Pre: r.Prefix, Sn: r.Sn, Ilk: r.Ilk, SAID: r.SAID, OK: r.OK(), Warnings: r.Warnings}
			rerr := r.Err
			if werr := r.WitnessErr(); werr != nil {
				if *ignoreWitnesses {
					e.Warnings = append(e.Warnings, "not_fully_witnessed")
				} else {
					rerr, e.OK = werr, false
				}
			}
			if rerr != nil {
				out.OK = false
				e.Error, e.Errors, e.Message = kel.ErrorCode(rerr), kel.ErrorCodes(rerr), rerr.Error()
			}
			out.Events = append(out.Events, e)
		}
		if err != nil {
			out.OK = false
			out.StreamErrors = append(out.StreamErrors, verifyStreamError{File: name, Error: kel.ErrorCode(err), Message: err.Error()})
		}
	}
	for _, p := range v.Prefixes() {
		out.States[p], _ = v.State(p)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "keremony verify: %v\n", err)
			return 2
		}
	} else {
		writeVerifyText(stdout, out, v.Prefixes())
	}
	if !out.OK {
		return 1
	}
	return 0
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	return device.ReadBounded(name, stdin, maxVerifyInput, nil)
}

func writeVerifyText(w io.Writer, out verifyOutput, prefixes []string) {
	for _, e := range out.Events {
		verdict := "ok"
		if !e.OK {
			verdict = "INVALID " + strings.Join(e.Errors, ",") + ": " + e.Message
		}
		if len(e.Warnings) > 0 {
			verdict += " (warnings: " + strings.Join(e.Warnings, ", ") + ")"
		}
		fmt.Fprintf(w, "%s sn %d %s %s %s\n", e.Pre, e.Sn, e.Ilk, e.SAID, verdict)
	}
	for _, s := range out.StreamErrors {
		fmt.Fprintf(w, "%s: stream stopped: %s\n", s.File, s.Message)
	}
	for _, p := range prefixes {
		s := out.States[p]
		fmt.Fprintf(w, "\nkey state %s\n", p)
		fmt.Fprintf(w, "  last event sn %d %s %s\n", s.Sn, s.LastIlk, s.Last)
		fmt.Fprintf(w, "  kt %s over %d keys\n", s.Kt.Text(), len(s.Keys))
		for i, k := range s.Keys {
			fmt.Fprintf(w, "    %d %s\n", i, k)
		}
		fmt.Fprintf(w, "  nt %s over %d next digests\n", s.Nt.Text(), len(s.Next))
		for i, n := range s.Next {
			fmt.Fprintf(w, "    %d %s\n", i, n)
		}
		if s.Delegator != "" {
			fmt.Fprintf(w, "  delegated by %s\n", s.Delegator)
		}
	}
	if out.OK {
		fmt.Fprintf(w, "\nall %d events valid\n", len(out.Events))
	} else {
		fmt.Fprintf(w, "\nINVALID: not every event is valid\n")
	}
}
