package cli

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
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
	// Supersedes lists the events a recovery rotation superseded;
	// SupersededBy names the recovery rotation that superseded this one.
	Supersedes   []verifyRef `json:"supersedes,omitempty"`
	SupersededBy *verifyRef  `json:"superseded_by,omitempty"`
}

type verifyRef struct {
	Sn   uint64 `json:"sn"`
	Ilk  string `json:"ilk"`
	SAID string `json:"said"`
}

type verifyStreamError struct {
	File    string `json:"file"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

type verifyOutput struct {
	OK             bool                    `json:"ok"`
	Events         []verifyEvent           `json:"events"`
	StreamErrors   []verifyStreamError     `json:"stream_errors,omitempty"`
	StreamWarnings []verifyStreamError     `json:"stream_warnings,omitempty"`
	States         map[string]kel.KeyState `json:"states"`
}

// Codes of verify's own stream errors and warnings.
const (
	codeNoEvents      = "no_events"
	codeTrailingSpace = "trailing_whitespace"
)

const verifyUsage = `usage: keremony verify [--json] [--ignore-witnesses] [--allow-unanchored-delegation] FILE... (- for stdin)
Replays CESR streams through one verifier and checks every signature. Files may come
in any order: a delegated event waits for its delegator's anchor in any of them.
An event with fewer valid witness signatures (receipts) than its toad (bt) is not fully
witnessed: an error (not_fully_witnessed), unless --ignore-witnesses.
  --json                          write one JSON object instead of text
  --ignore-witnesses              accept events with fewer witness receipts than their
                                  toad, with the warning not_fully_witnessed
  --allow-unanchored-delegation   accept a delegated event whose delegator's anchor is
                                  missing, with the warning delegation_not_anchored
                                  (without it such an event is INVALID)
`

// runVerify replays CESR key event logs: exit 0 when every event is valid,
// 1 when any is not, 2 on usage or I/O errors.
func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write one JSON object instead of text")
	ignoreWitnesses := fs.Bool("ignore-witnesses", false, "accept events with fewer witness receipts than their toad")
	unanchored := fs.Bool("allow-unanchored-delegation", false, "accept unanchored delegated events with a warning")
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	v := kel.NewVerifier()
	out := verifyOutput{OK: true, Events: []verifyEvent{}, States: map[string]kel.KeyState{}}
	var results []kel.Result
	var runs []fileRun
	for _, name := range fs.Args() {
		data, err := readInput(name, stdin)
		if err != nil {
			safetext.Fprintf(stderr, "keremony verify: %v\n", err)
			return 2
		}
		data, trailing := transport.TrailingSpace(data)
		if len(data) == 0 {
			out.OK = false
			out.StreamErrors = append(out.StreamErrors, verifyStreamError{File: name, Error: codeNoEvents, Message: "no events"})
			continue
		}
		rs, err := v.AcceptStream(data)
		if results == nil {
			results = rs // one file (the usual case): no copy
		} else {
			results = append(results, rs...)
		}
		runs = append(runs, fileRun{name, len(results)})
		if err != nil {
			out.OK = false
			out.StreamErrors = append(out.StreamErrors, verifyStreamError{File: name, Error: kel.ErrorCode(err), Message: err.Error()})
		} else if trailing > 0 {
			out.StreamWarnings = append(out.StreamWarnings, verifyStreamError{File: name, Error: codeTrailingSpace, Message: transport.TrailingWarning(trailing)})
		}
	}
	n := len(results)
	if *unanchored {
		// Decided last, as if anchored: each with delegation_not_anchored.
		results = append(results, kel.Result{Released: v.AcceptUnanchored()})
	}
	results = kel.Settle(results)[:n]
	superseded := map[string]kel.EventRef{}
	for _, p := range v.Prefixes() {
		out.States[p], _ = v.State(p)
		for _, s := range v.Superseded(p) {
			superseded[p+"/"+s.Message.Event.SAID()] = s.By
		}
	}
	// The text goes out event by event; only --json gathers the events.
	w := bufio.NewWriterSize(stdout, 64<<10)
	defer w.Flush()
	var sum verifySummary
	if *asJSON {
		out.Events = make([]verifyEvent, 0, len(results))
	}
	run := 0
	for i, r := range results {
		for i >= runs[run].end {
			run++
		}
		e := verifyEvent{File: runs[run].name, Pre: r.Prefix, Sn: r.Sn, Ilk: r.Ilk, SAID: r.SAID, OK: r.OK(), Warnings: r.Warnings}
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
		for _, s := range r.Supersedes {
			e.Supersedes = append(e.Supersedes, verifyRef{Sn: s.Sn, Ilk: s.Ilk, SAID: s.SAID})
		}
		if by, ok := superseded[r.Prefix+"/"+r.SAID]; ok && r.OK() {
			e.SupersededBy = &verifyRef{Sn: by.Sn, Ilk: by.Ilk, SAID: by.SAID}
		}
		if *asJSON {
			out.Events = append(out.Events, e)
		} else {
			sum.add(e)
			writeVerifyEvent(w, e)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			safetext.Fprintf(stderr, "keremony verify: %v\n", err)
			return 2
		}
	} else {
		writeVerifyText(w, out, sum, v.Prefixes())
	}
	if !out.OK {
		return 1
	}
	return 0
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	return device.ReadBounded(name, stdin, maxVerifyInput, nil)
}

// fileRun names the input file of results[...end].
type fileRun struct {
	name string
	end  int
}

// verifySummary counts what the text's last line says about the events.
type verifySummary struct {
	events, superseded, unanchored int
}

func (s *verifySummary) add(e verifyEvent) {
	s.events++
	if slices.Contains(e.Warnings, "delegation_not_anchored") {
		s.unanchored++
	}
	if e.SupersededBy != nil {
		s.superseded++
	}
}

// writeVerifyEvent writes one event's line of the text.
func writeVerifyEvent(w io.Writer, e verifyEvent) {
	verdict := "ok"
	if !e.OK {
		verdict = "INVALID " + strings.Join(e.Errors, ",") + ": " + e.Message
	}
	if e.SupersededBy != nil {
		verdict += fmt.Sprintf(", SUPERSEDED by %s sn %d %s", e.SupersededBy.Ilk, e.SupersededBy.Sn, e.SupersededBy.SAID)
	}
	if len(e.Supersedes) > 0 {
		var refs []string
		for _, s := range e.Supersedes {
			refs = append(refs, fmt.Sprintf("%s sn %d %s", s.Ilk, s.Sn, s.SAID))
		}
		verdict += " (recovery: supersedes " + strings.Join(refs, ", ") + ")"
	}
	if len(e.Warnings) > 0 {
		verdict += " (warnings: " + strings.Join(e.Warnings, ", ") + ")"
	}
	safetext.Fprintf(w, "%s sn %d %s %s %s\n", e.Pre, e.Sn, e.Ilk, e.SAID, verdict)
}

// writeVerifyText writes what follows the events' lines: stream warnings
// and errors, the key states and the verdict.
func writeVerifyText(w io.Writer, out verifyOutput, sum verifySummary, prefixes []string) {
	for _, s := range out.StreamWarnings {
		safetext.Fprintf(w, "%s: warning: %s\n", s.File, s.Message)
	}
	for _, s := range out.StreamErrors {
		if s.Error == codeNoEvents {
			safetext.Fprintf(w, "%s: no events\n", s.File)
			continue
		}
		safetext.Fprintf(w, "%s: stream stopped: %s\n", s.File, s.Message)
	}
	for _, p := range prefixes {
		s := out.States[p]
		safetext.Fprintf(w, "\nkey state %s\n", p)
		safetext.Fprintf(w, "  last event sn %d %s %s\n", s.Sn, s.LastIlk, s.Last)
		safetext.Fprintf(w, "  kt %s over %d keys\n", s.Kt.Text(), len(s.Keys))
		for i, k := range s.Keys {
			safetext.Fprintf(w, "    %d %s\n", i, k)
		}
		safetext.Fprintf(w, "  nt %s over %d next digests\n", s.Nt.Text(), len(s.Next))
		for i, n := range s.Next {
			safetext.Fprintf(w, "    %d %s\n", i, n)
		}
		if s.Delegator != "" {
			safetext.Fprintf(w, "  delegated by %s\n", s.Delegator)
		}
	}
	var notes []string
	if sum.superseded > 0 {
		notes = append(notes, fmt.Sprintf("%d superseded by a recovery rotation", sum.superseded))
	}
	if sum.unanchored > 0 {
		notes = append(notes, fmt.Sprintf("%d delegated with NO delegator's anchor: accepted only because of --allow-unanchored-delegation", sum.unanchored))
	}
	switch {
	case sum.events == 0 && !slices.ContainsFunc(out.StreamErrors, func(e verifyStreamError) bool { return e.Error != codeNoEvents }):
		safetext.Fprintf(w, "\nINVALID: no events\n")
	case !out.OK:
		safetext.Fprintf(w, "\nINVALID: not every event is valid\n")
	case len(notes) > 0:
		safetext.Fprintf(w, "\nall %d events valid (%s)\n", sum.events, strings.Join(notes, "; "))
	default:
		safetext.Fprintf(w, "\nall %d events valid\n", sum.events)
	}
}
