package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// `keremony verify` is checked against the scenario vectors: every expected
// value (verdicts, reason codes, warnings, SAIDs, prefixes, key states) comes
// from testdata/vectors, never from kel.

const vecDir = "../testdata/vectors"

type cliVector struct {
	Name string `json:"name"`
	Aids []struct {
		Name   string `json:"name"`
		Prefix string `json:"prefix"`
	} `json:"aids"`
	Events []struct {
		Aid string `json:"aid"`
		T   string `json:"t"`
		S   string `json:"s"`
		D   string `json:"d"`
	} `json:"events"`
	Streams []cliStream `json:"streams"`
}

type cliStream struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Expect struct {
		Valid    bool     `json:"valid"`
		Accepted int      `json:"accepted"`
		Warnings []string `json:"warnings"`
	} `json:"expect"`
	Messages []struct {
		Event    int             `json:"event"`
		OK       bool            `json:"ok"`
		Reasons  []string        `json:"reasons"`
		Warnings []string        `json:"warnings"`
		State    json.RawMessage `json:"state"`
	} `json:"messages"`
}

// verifyJSON is the documented `verify --json` contract.
type verifyJSON struct {
	OK     bool `json:"ok"`
	Events []struct {
		File     string   `json:"file"`
		Pre      string   `json:"pre"`
		Sn       uint64   `json:"sn"`
		Ilk      string   `json:"ilk"`
		SAID     string   `json:"said"`
		OK       bool     `json:"ok"`
		Error    string   `json:"error"`
		Errors   []string `json:"errors"`
		Warnings []string `json:"warnings"`
	} `json:"events"`
	StreamErrors []struct {
		File    string `json:"file"`
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"stream_errors"`
	States map[string]json.RawMessage `json:"states"`
}

func loadCLIVectors(t *testing.T) []cliVector {
	t.Helper()
	var index struct {
		Vectors []struct {
			File string `json:"file"`
		} `json:"vectors"`
	}
	readVecJSON(t, filepath.Join(vecDir, "index.json"), &index)
	var out []cliVector
	for _, v := range index.Vectors {
		var cv cliVector
		readVecJSON(t, filepath.Join(vecDir, v.File), &cv)
		applyKeripyVerdicts(t, &cv)
		out = append(out, cv)
	}
	if len(out) < 10 {
		t.Fatalf("only %d vectors", len(out))
	}
	return out
}

// applyKeripyVerdicts replaces a stream's expectations with keripy
// 1.3.6's where they differ (testdata/keripy/vector-verdicts.json):
// keremony follows keripy.
func applyKeripyVerdicts(t *testing.T, v *cliVector) {
	t.Helper()
	var f struct {
		Streams map[string][][]string `json:"streams"`
	}
	readVecJSON(t, "../testdata/keripy/vector-verdicts.json", &f)
	for i := range v.Streams {
		st := &v.Streams[i]
		verdicts, ok := f.Streams[st.File]
		if !ok {
			continue
		}
		if len(verdicts) != len(st.Messages) {
			t.Fatalf("%s: %d keripy verdicts for %d messages", st.File, len(verdicts), len(st.Messages))
		}
		st.Expect.Valid, st.Expect.Accepted, st.Expect.Warnings = true, 0, nil
		for j, reasons := range verdicts {
			m := &st.Messages[j]
			m.OK, m.Reasons, m.Warnings = reasons == nil, reasons, nil
			if reasons == nil {
				st.Expect.Accepted++
			} else {
				st.Expect.Valid = false
			}
		}
	}
}

func readVecJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func (v cliVector) prefixOf(event int) string {
	for _, a := range v.Aids {
		if a.Name == v.Events[event].Aid {
			return a.Prefix
		}
	}
	return ""
}

func (v cliVector) stream(t *testing.T, name string) cliStream {
	t.Helper()
	for _, s := range v.Streams {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s has no stream %s", v.Name, name)
	return cliStream{}
}

func findVector(t *testing.T, name string) cliVector {
	t.Helper()
	for _, v := range loadCLIVectors(t) {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vector %s", name)
	return cliVector{}
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runVerify(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func runJSON(t *testing.T, stdin string, args ...string) (int, verifyJSON) {
	t.Helper()
	code, stdout, stderr := runCLI(t, stdin, append([]string{"--json"}, args...)...)
	dec := json.NewDecoder(strings.NewReader(stdout))
	var out verifyJSON
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("verify --json %v: output is not json (%v):\n%s\nstderr: %s", args, err, stdout, stderr)
	}
	if dec.More() {
		t.Fatalf("verify --json %v: more than one json value", args)
	}
	return code, out
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// wantStates is the key state after the last accepted message of each
// identifier, from the vector.
func wantStates(v cliVector, streams ...cliStream) map[string]json.RawMessage {
	want := map[string]json.RawMessage{}
	for _, st := range streams {
		for _, m := range st.Messages {
			if m.OK && len(m.State) > 0 && string(m.State) != "null" {
				want[v.prefixOf(m.Event)] = m.State
			}
		}
	}
	return want
}

func checkStates(t *testing.T, got, want map[string]json.RawMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("states for %d identifiers, want %d", len(got), len(want))
	}
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("no state for %s", p)
			continue
		}
		if !sameJSON(t, g, w) {
			t.Errorf("state of %s:\n got %s\nwant %s", p, g, w)
		}
	}
}

// TestVerifyVectorStreamsText runs every vector stream through the text
// output: exit code, the per-event lines and the summary.
func TestVerifyVectorStreamsText(t *testing.T) {
	for _, v := range loadCLIVectors(t) {
		for _, st := range v.Streams {
			t.Run(v.Name+"/"+st.Name, func(t *testing.T) {
				code, stdout, stderr := runCLI(t, "", filepath.Join(vecDir, st.File))
				lines := strings.Split(stdout, "\n")
				if len(lines) < len(st.Messages) {
					t.Fatalf("%d lines for %d messages:\n%s", len(lines), len(st.Messages), stdout)
				}
				for i, m := range st.Messages {
					e := v.Events[m.Event]
					sn, _ := strconv.ParseUint(e.S, 16, 64)
					head := v.prefixOf(m.Event) + " sn " + strconv.FormatUint(sn, 10) + " " + e.T + " " + e.D + " "
					if !strings.HasPrefix(lines[i], head) {
						t.Errorf("line %d: %q, want it to start with %q", i, lines[i], head)
					}
					if got := strings.Contains(lines[i], " INVALID "); got == m.OK {
						t.Errorf("line %d: %q, want ok %v", i, lines[i], m.OK)
					}
					for _, r := range append(slices.Clone(m.Reasons), m.Warnings...) {
						if !strings.Contains(lines[i], r) {
							t.Errorf("line %d does not name %s: %q", i, r, lines[i])
						}
					}
				}
				wantCode, summary := 0, "all "+strconv.Itoa(len(st.Messages))+" events valid"
				if !st.Expect.Valid {
					wantCode, summary = 1, "INVALID: not every event is valid"
				}
				if code != wantCode || !strings.Contains(stdout, "\n"+summary+"\n") {
					t.Errorf("exit %d, want %d; summary %q missing:\n%s\nstderr: %s", code, wantCode, summary, stdout, stderr)
				}
			})
		}
	}
}

// TestVerifyRotationOneSignature is the example: the rotation with
// one of two signatures is named with threshold_not_met.
func TestVerifyRotationOneSignature(t *testing.T) {
	v := findVector(t, "e_2of2_rotation_one_signature")
	st := v.stream(t, "kel")
	code, stdout, _ := runCLI(t, "", filepath.Join(vecDir, st.File))
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	rot := v.Events[st.Messages[1].Event]
	var failing string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, rot.D) && strings.Contains(l, "INVALID") {
			failing = l
		}
	}
	if !strings.Contains(failing, "threshold_not_met") || !strings.Contains(failing, " rot ") {
		t.Fatalf("no INVALID line naming threshold_not_met for rot %s:\n%s", rot.D, stdout)
	}
}

// TestVerifyVectorStreamsJSON checks --json against every stream: verdicts,
// reason codes, warnings, event identity and the final key states.
func TestVerifyVectorStreamsJSON(t *testing.T) {
	for _, v := range loadCLIVectors(t) {
		for _, st := range v.Streams {
			t.Run(v.Name+"/"+st.Name, func(t *testing.T) {
				path := filepath.Join(vecDir, st.File)
				code, out := runJSON(t, "", path)
				if out.OK != st.Expect.Valid || (code == 0) != st.Expect.Valid {
					t.Errorf("ok %v exit %d, want valid %v", out.OK, code, st.Expect.Valid)
				}
				if len(out.Events) != len(st.Messages) || len(out.StreamErrors) != 0 {
					t.Fatalf("%d events, stream errors %v; want %d events", len(out.Events), out.StreamErrors, len(st.Messages))
				}
				accepted := 0
				for i, m := range st.Messages {
					got, e := out.Events[i], v.Events[m.Event]
					sn, _ := strconv.ParseUint(e.S, 16, 64)
					if got.File != path || got.Pre != v.prefixOf(m.Event) || got.Sn != sn || got.Ilk != e.T || got.SAID != e.D {
						t.Errorf("event %d: %s %s sn %d %s %s, want %s sn %d %s %s", i, got.File, got.Pre, got.Sn, got.Ilk, got.SAID,
							v.prefixOf(m.Event), sn, e.T, e.D)
					}
					if got.OK != m.OK || (got.Error == "") != m.OK {
						t.Errorf("event %d: ok %v error %q, want ok %v", i, got.OK, got.Error, m.OK)
					}
					if !m.OK && !slices.Contains(got.Errors, got.Error) {
						t.Errorf("event %d: error %s not among errors %v", i, got.Error, got.Errors)
					}
					for _, r := range m.Reasons {
						if !slices.Contains(got.Errors, r) {
							t.Errorf("event %d: reason %s not among %v", i, r, got.Errors)
						}
					}
					for _, w := range m.Warnings {
						if !slices.Contains(got.Warnings, w) {
							t.Errorf("event %d: warning %s not among %v", i, w, got.Warnings)
						}
					}
					if got.OK {
						accepted++
					}
				}
				if accepted != st.Expect.Accepted {
					t.Errorf("%d accepted, want %d", accepted, st.Expect.Accepted)
				}
				checkStates(t, out.States, wantStates(v, st))
			})
		}
	}
}

// TestVerifyJSONContract checks the names and JSON types scripts rely on,
// on a raw decode.
func TestVerifyJSONContract(t *testing.T) {
	st := findVector(t, "e_2of2_rotation_one_signature").stream(t, "kel")
	_, stdout, _ := runCLI(t, "", "--json", filepath.Join(vecDir, st.File))
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["ok"].(bool); !ok {
		t.Errorf("ok is %T", raw["ok"])
	}
	events, ok := raw["events"].([]any)
	if !ok || len(events) != len(st.Messages) {
		t.Fatalf("events is %T of %d", raw["events"], len(events))
	}
	for i, x := range events {
		e := x.(map[string]any)
		for k, want := range map[string]string{"pre": "string", "sn": "float64", "ilk": "string", "said": "string", "ok": "bool"} {
			if got := reflect.TypeOf(e[k]); got == nil || got.String() != want {
				t.Errorf("event %d: %s is %v, want %s", i, k, got, want)
			}
		}
		if _, has := e["error"].(string); has == e["ok"].(bool) {
			t.Errorf("event %d: error present %v with ok %v", i, has, e["ok"])
		}
	}
	states, ok := raw["states"].(map[string]any)
	if !ok || len(states) != 1 {
		t.Fatalf("states is %T of %d", raw["states"], len(states))
	}
	fields := []string{"i", "s", "p", "d", "et", "kt", "k", "nt", "n", "bt", "b", "c", "ee", "di"}
	for aid, x := range states {
		s := x.(map[string]any)
		var keys []string
		for k := range s {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := slices.Sorted(slices.Values(fields))
		if !slices.Equal(keys, want) {
			t.Errorf("state of %s has fields %v, want %v", aid, keys, want)
		}
		if s["i"] != aid {
			t.Errorf("state keyed %s has i %v", aid, s["i"])
		}
		ee, _ := s["ee"].(map[string]any)
		for _, k := range []string{"s", "d", "br", "ba"} {
			if _, ok := ee[k]; !ok {
				t.Errorf("state ee lacks %s", k)
			}
		}
	}
	// With nothing read, events and states are still an array and an object.
	_, stdout, _ = runCLI(t, "garbage", "--json", "-")
	raw = nil
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if ev, ok := raw["events"].([]any); !ok || len(ev) != 0 {
		t.Errorf("events of an unreadable stream: %#v", raw["events"])
	}
	if s, ok := raw["states"].(map[string]any); !ok || len(s) != 0 {
		t.Errorf("states of an unreadable stream: %#v", raw["states"])
	}
}

// TestVerifyDelegatorThenDelegate replays two files through one verifier:
// in either order, the delegate's dip and drt are checked against the
// delegator's anchors; without the delegator they are INVALID
// (delegation_not_anchored) unless --allow-unanchored-delegation is given.
func TestVerifyDelegatorThenDelegate(t *testing.T) {
	v := findVector(t, "j_delegated_dip_drt")
	delegator, delegate, combined := v.stream(t, "delegator_only"), v.stream(t, "delegate_only"), v.stream(t, "combined")
	dPath, gPath := filepath.Join(vecDir, delegator.File), filepath.Join(vecDir, delegate.File)

	for _, order := range [][]string{{dPath, gPath}, {gPath, dPath}} {
		code, out := runJSON(t, "", order...)
		if code != 0 || !out.OK || len(out.Events) != len(delegator.Messages)+len(delegate.Messages) {
			t.Fatalf("%v: exit %d ok %v, %d events: %+v", order, code, out.OK, len(out.Events), out)
		}
		first := len(delegator.Messages)
		if order[0] == gPath {
			first = len(delegate.Messages)
		}
		for i, e := range out.Events {
			wantFile := order[0]
			if i >= first {
				wantFile = order[1]
			}
			if e.File != wantFile || !e.OK || len(e.Warnings) != 0 {
				t.Errorf("%v: event %d (%s %s): file %s ok %v warnings %v; want %s, ok, no warning", order, i, e.Ilk, e.SAID, e.File, e.OK, e.Warnings, wantFile)
			}
		}
		// The same final states as the combined stream.
		checkStates(t, out.States, wantStates(v, combined))
	}

	// The delegate alone: INVALID, or valid with warnings on request.
	code, out := runJSON(t, "", gPath)
	if code != 1 || out.OK {
		t.Fatalf("delegate alone: exit %d ok %v", code, out.OK)
	}
	for i, e := range out.Events {
		if e.OK || e.Error != "delegation_not_anchored" {
			t.Errorf("delegate alone, event %d: ok %v error %q", i, e.OK, e.Error)
		}
	}
	code, out = runJSON(t, "", "--allow-unanchored-delegation", gPath)
	if code != 0 || !out.OK || len(out.Events) != 2 {
		t.Fatalf("delegate alone, allowed: exit %d ok %v %+v", code, out.OK, out.Events)
	}
	for i, e := range out.Events {
		if !e.OK || !slices.Contains(e.Warnings, "delegation_not_anchored") {
			t.Errorf("delegate alone, allowed, event %d: ok %v warnings %v", i, e.OK, e.Warnings)
		}
	}
}

func TestVerifyStdin(t *testing.T) {
	v := findVector(t, "d_2of2_rotation")
	st := v.stream(t, "kel")
	data, err := os.ReadFile(filepath.Join(vecDir, st.File))
	if err != nil {
		t.Fatal(err)
	}
	code, out := runJSON(t, string(data), "-")
	if code != 0 || !out.OK || len(out.Events) != len(st.Messages) {
		t.Fatalf("exit %d ok %v, %d events", code, out.OK, len(out.Events))
	}
	for i, e := range out.Events {
		if e.File != "-" || e.SAID != v.Events[st.Messages[i].Event].D {
			t.Errorf("event %d: file %q said %s", i, e.File, e.SAID)
		}
	}
	checkStates(t, out.States, wantStates(v, st))
}

// TestVerifyTruncated cuts a valid stream inside its last body and inside its
// last signature: the events before the cut are reported valid, the cut as a
// stream_truncated stream error, and the exit code is 1.
func TestVerifyTruncated(t *testing.T) {
	v := findVector(t, "d_2of2_rotation")
	st := v.stream(t, "kel")
	data, err := os.ReadFile(filepath.Join(vecDir, st.File))
	if err != nil {
		t.Fatal(err)
	}
	lastBody := bytes.LastIndex(data, []byte(`{"v":`))
	for _, tc := range []struct {
		name string
		cut  int
		kept int // messages before the cut
	}{
		{"inside the last body", lastBody + 40, len(st.Messages) - 1},
		{"inside the last signature", len(data) - 5, len(st.Messages) - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cut.cesr")
			if err := os.WriteFile(path, data[:tc.cut], 0o600); err != nil {
				t.Fatal(err)
			}
			code, out := runJSON(t, "", path)
			if code != 1 || out.OK {
				t.Errorf("exit %d ok %v, want 1 false", code, out.OK)
			}
			if len(out.StreamErrors) != 1 || out.StreamErrors[0].Error != "stream_truncated" || out.StreamErrors[0].File != path {
				t.Fatalf("stream errors %+v, want one stream_truncated for %s", out.StreamErrors, path)
			}
			if len(out.Events) != tc.kept {
				t.Fatalf("%d events before the cut, want %d", len(out.Events), tc.kept)
			}
			for i, e := range out.Events {
				if !e.OK || e.SAID != v.Events[st.Messages[i].Event].D {
					t.Errorf("event %d: ok %v said %s", i, e.OK, e.SAID)
				}
			}
			code, stdout, _ := runCLI(t, "", path)
			if code != 1 || !strings.Contains(stdout, path+": stream stopped: ") || !strings.Contains(stdout, "INVALID") {
				t.Errorf("text output, exit %d:\n%s", code, stdout)
			}
		})
	}
}

func TestVerifyGarbage(t *testing.T) {
	for _, tc := range []struct {
		name, input, code string
	}{
		{"text", "this is not a key event log\n", "stream_parse_error"},
		{"binary", "\x00\x01\x02\xff", "stream_parse_error"},
		{"foreign version", `{"v":"KERX10JSON000000_","t":"icp","d":""}`, "version_string_invalid"},
		{"not json", `{"v":"KERI10JSON00002c_","t":"icp",,,,,,,,,}`, "json_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runJSON(t, tc.input, "-")
			if code != 1 || out.OK || len(out.Events) != 0 {
				t.Errorf("exit %d ok %v events %d, want 1 false 0", code, out.OK, len(out.Events))
			}
			if len(out.StreamErrors) != 1 || out.StreamErrors[0].Error != tc.code {
				t.Errorf("stream errors %+v, want %s", out.StreamErrors, tc.code)
			}
		})
	}
}

// The text output ends with each identifier's key state: the expected keys,
// next digests and thresholds come from the vector's final state.
func TestVerifyTextKeyState(t *testing.T) {
	v := findVector(t, "f_grow_2of2_to_2of3")
	st := v.stream(t, "kel")
	code, out, _ := runCLI(t, "", filepath.Join(vecDir, st.File))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for prefix, raw := range wantStates(v, st) {
		var s struct {
			K  []string `json:"k"`
			N  []string `json:"n"`
			Kt string   `json:"kt"`
			Nt string   `json:"nt"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		want := []string{"key state " + prefix, fmt.Sprintf("  kt %s over %d keys", s.Kt, len(s.K)), fmt.Sprintf("  nt %s over %d next digests", s.Nt, len(s.N))}
		for i, k := range s.K {
			want = append(want, fmt.Sprintf("    %d %s", i, k))
		}
		for i, n := range s.N {
			want = append(want, fmt.Sprintf("    %d %s", i, n))
		}
		for _, line := range want {
			if !strings.Contains(out, line+"\n") {
				t.Errorf("output lacks %q:\n%s", line, out)
			}
		}
	}
}
