package kel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// The scenario vectors (testdata/vectors, generated with signify-ts and
// checked against keripy) are the ground truth here: keys come from salts,
// bodies are rebuilt through the builders, signatures are re-made, and every
// stream's verdicts are compared message by message.

type vecFile struct {
	Name         string `json:"name"`
	Participants []struct {
		Name string `json:"name"`
		Salt string `json:"salt"`
		Keys []struct {
			ID         string `json:"id"`
			Path       string `json:"path"`
			Seed       string `json:"seed"`
			Pub        string `json:"pub"`
			NextDigest string `json:"next_digest"`
		} `json:"keys"`
	} `json:"participants"`
	Events []struct {
		ID         int    `json:"id"`
		T          string `json:"t"`
		S          string `json:"s"`
		D          string `json:"d"`
		Size       int    `json:"size"`
		Raw        string `json:"raw"`
		Signatures []struct {
			By    string `json:"by"`
			Pub   string `json:"pub"`
			Index int    `json:"index"`
			Ondex *int   `json:"ondex"`
			Code  string `json:"code"`
			Qb64  string `json:"qb64"`
		} `json:"signatures"`
		ControllerAttachment string          `json:"controller_attachment"`
		KeyState             json.RawMessage `json:"key_state"`
	} `json:"events"`
	Streams []struct {
		Name   string `json:"name"`
		File   string `json:"file"`
		Stream string `json:"stream"`
		Expect struct {
			Valid    bool `json:"valid"`
			Accepted int  `json:"accepted"`
			Failures []struct {
				Message int      `json:"message"`
				Reasons []string `json:"reasons"`
			} `json:"failures"`
			Warnings []string `json:"warnings"`
		} `json:"expect"`
		Messages []struct {
			Event    int             `json:"event"`
			OK       bool            `json:"ok"`
			Reasons  []string        `json:"reasons"`
			Warnings []string        `json:"warnings"`
			State    json.RawMessage `json:"state"`
		} `json:"messages"`
	} `json:"streams"`
}

func loadVectors(t *testing.T) []vecFile {
	t.Helper()
	var index struct {
		Vectors []struct {
			File string `json:"file"`
		} `json:"vectors"`
	}
	readJSON(t, "../testdata/vectors/index.json", &index)
	if len(index.Vectors) == 0 {
		t.Fatal("index.json lists no vectors")
	}
	var out []vecFile
	for _, v := range index.Vectors {
		var f vecFile
		readJSON(t, filepath.Join("../testdata/vectors", v.File), &f)
		applyKeripyVerdicts(t, &f)
		out = append(out, f)
	}
	return out
}

// keripyVerdicts reads keripy 1.3.6's verdicts where they differ from a
// scenario vector's expectation (testdata/keripy/vector-verdicts.json):
// keremony follows keripy. Per stream file, the reason codes of each
// message keripy does not accept (nil: accepted).
func keripyVerdicts(t *testing.T) map[string][][]string {
	t.Helper()
	var f struct {
		Streams map[string][][]string `json:"streams"`
	}
	readJSON(t, "../testdata/keripy/vector-verdicts.json", &f)
	if len(f.Streams) == 0 {
		t.Fatal("vector-verdicts.json lists no stream")
	}
	return f.Streams
}

// applyKeripyVerdicts replaces a stream's expectations with keripy's.
func applyKeripyVerdicts(t *testing.T, f *vecFile) {
	t.Helper()
	for i := range f.Streams {
		st := &f.Streams[i]
		verdicts, ok := keripyVerdicts(t)[st.File]
		if !ok {
			continue
		}
		if len(verdicts) != len(st.Messages) {
			t.Fatalf("%s: %d keripy verdicts for %d messages", st.File, len(verdicts), len(st.Messages))
		}
		st.Expect.Valid, st.Expect.Accepted, st.Expect.Warnings = true, 0, nil
		st.Expect.Failures = st.Expect.Failures[:0]
		for j, reasons := range verdicts {
			m := &st.Messages[j]
			m.OK, m.Reasons, m.Warnings = reasons == nil, reasons, nil
			if reasons == nil {
				st.Expect.Accepted++
				continue
			}
			st.Expect.Valid = false
			st.Expect.Failures = append(st.Expect.Failures, struct {
				Message int      `json:"message"`
				Reasons []string `json:"reasons"`
			}{j, reasons})
		}
	}
}

func TestKeripyVerdictsNameStreams(t *testing.T) {
	files := map[string]bool{}
	for _, v := range loadVectors(t) {
		for _, st := range v.Streams {
			files[st.File] = true
		}
	}
	for f := range keripyVerdicts(t) {
		if !files[f] {
			t.Errorf("keripyVerdicts names %s, which no vector holds", f)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// saltySeed derives a key the way keripy's and signify-ts's Salter does.
func saltySeed(salt []byte, path string) []byte {
	return argon2.IDKey([]byte(path), salt, 1, 8, 1, 32)
}

func TestVectorKeysFromSalts(t *testing.T) {
	for _, v := range loadVectors(t) {
		for _, p := range v.Participants {
			salt, err := DecodeMatter(p.Salt, CodeSalt128)
			if err != nil {
				t.Fatalf("%s %s salt: %v", v.Name, p.Name, err)
			}
			want := []byte(p.Name + strings.Repeat(".", 16-len(p.Name)))
			if !bytes.Equal(salt.Raw, want) || salt.Qb64() != p.Salt {
				t.Errorf("%s %s: salt %q does not round-trip", v.Name, p.Name, salt.Raw)
			}
			for _, k := range p.Keys {
				seed := saltySeed(salt.Raw, k.Path)
				if got := EncodeSeed(seed); got != k.Seed {
					t.Errorf("%s %s: seed %s, want %s", v.Name, k.ID, got, k.Seed)
				}
				pub := EncodeVerKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
				if pub != k.Pub {
					t.Errorf("%s %s: pub %s, want %s", v.Name, k.ID, pub, k.Pub)
				}
				if got := NextDigest(pub); got != k.NextDigest {
					t.Errorf("%s %s: next digest %s, want %s", v.Name, k.ID, got, k.NextDigest)
				}
			}
		}
	}
}

// rebuild makes an event from the fields of a parsed one through the public
// builders, so the serializer is checked against bytes it did not read.
func rebuild(t *testing.T, ev *Event) *Event {
	t.Helper()
	var out *Event
	var err error
	switch ev.Ilk() {
	case IlkIcp, IlkDip:
		out, err = Incept(InceptionOptions{
			Keys: ev.Keys(), Kt: ev.Kt(), Next: ev.Next(), Nt: ev.Nt(),
			Witnesses: ev.Witnesses(), Bt: ev.Bt(), Config: ev.Config(), Seals: ev.Seals(),
			Delegator: ev.Delegator(), BasicPrefix: ev.Prefix()[0] != 'E',
		})
	case IlkRot, IlkDrt:
		out, err = Rotate(RotationOptions{
			Prefix: ev.Prefix(), Sn: ev.Sn(), Prior: ev.Prior(),
			Keys: ev.Keys(), Kt: ev.Kt(), Next: ev.Next(), Nt: ev.Nt(),
			Bt: ev.Bt(), Cuts: ev.Cuts(), Adds: ev.Adds(), Seals: ev.Seals(),
			Delegated: ev.Ilk() == IlkDrt,
		})
	case IlkIxn:
		out, err = Interact(InteractionOptions{Prefix: ev.Prefix(), Sn: ev.Sn(), Prior: ev.Prior(), Seals: ev.Seals()})
	}
	if err != nil {
		t.Fatalf("rebuilding %s %s: %v", ev.Ilk(), ev.SAID(), err)
	}
	return out
}

func TestVectorEventsRebuildAndResign(t *testing.T) {
	for _, v := range loadVectors(t) {
		seeds := map[string][]byte{}
		for _, p := range v.Participants {
			for _, k := range p.Keys {
				m, err := DecodeMatter(k.Seed, CodeEd25519Seed)
				if err != nil {
					t.Fatal(err)
				}
				seeds[k.ID] = m.Raw
			}
		}
		for _, e := range v.Events {
			ev, err := ParseEvent([]byte(e.Raw))
			if err != nil {
				t.Fatalf("%s event %d: %v", v.Name, e.ID, err)
			}
			if ev.SAID() != e.D || ev.Size() != e.Size || ev.Ilk() != e.T || formatHex(ev.Sn()) != e.S {
				t.Errorf("%s event %d: parsed said/size/ilk/sn %s/%d/%s/%d", v.Name, e.ID, ev.SAID(), ev.Size(), ev.Ilk(), ev.Sn())
			}
			if got := rebuild(t, ev); string(got.Raw()) != e.Raw {
				t.Errorf("%s event %d rebuilt:\n got %s\nwant %s", v.Name, e.ID, got.Raw(), e.Raw)
			}
			var sigs []Siger
			for _, s := range e.Signatures {
				sig := ed25519.Sign(ed25519.NewKeyFromSeed(seeds[s.By]), []byte(e.Raw))
				ondex, currentOnly := 0, s.Ondex == nil
				if !currentOnly {
					ondex = *s.Ondex
				}
				sg, err := NewSiger(sig, s.Index, ondex, currentOnly)
				if err != nil {
					t.Fatal(err)
				}
				if sg.Code != s.Code || sg.Qb64() != s.Qb64 {
					t.Errorf("%s event %d sig by %s: %s %s, want %s %s", v.Name, e.ID, s.By, sg.Code, sg.Qb64(), s.Code, s.Qb64)
				}
				back, n, err := ParseSiger(s.Qb64)
				if err != nil || n != len(s.Qb64) || back.Index != s.Index || back.Code != s.Code {
					t.Errorf("%s event %d: parsing %s: %+v %v", v.Name, e.ID, s.Qb64, back, err)
				}
				sigs = append(sigs, sg)
			}
			msg := NewMessage(ev, sigs)
			if got := string(msg.Bytes()[ev.Size():]); got != e.ControllerAttachment {
				t.Errorf("%s event %d attachment:\n got %s\nwant %s", v.Name, e.ID, got, e.ControllerAttachment)
			}
		}
	}
}

func TestVectorStreams(t *testing.T) {
	for _, v := range loadVectors(t) {
		for _, st := range v.Streams {
			t.Run(v.Name+"/"+st.Name, func(t *testing.T) {
				file, err := os.ReadFile(filepath.Join("../testdata/vectors", st.File))
				if err != nil {
					t.Fatal(err)
				}
				if string(file) != st.Stream {
					t.Fatalf("%s differs from the stream in the json", st.File)
				}
				rep := Replay(file)
				if rep.Err != nil {
					t.Fatalf("stream error: %v", rep.Err)
				}
				if len(rep.Results) != len(st.Messages) {
					t.Fatalf("%d results for %d messages", len(rep.Results), len(st.Messages))
				}
				accepted := 0
				var warnings []string
				for i, want := range st.Messages {
					got := rep.Results[i]
					if got.OK() != want.OK {
						t.Errorf("message %d: ok %v, want %v (%v)", i, got.OK(), want.OK, got.Err)
					}
					if got.OK() {
						accepted++
					}
					codes := ErrorCodes(got.Err)
					for _, r := range want.Reasons {
						if !slices.Contains(codes, r) {
							t.Errorf("message %d: reason %s not among %v", i, r, codes)
						}
					}
					for _, w := range want.Warnings {
						if !slices.Contains(got.Warnings, w) {
							t.Errorf("message %d: warning %s not among %v", i, w, got.Warnings)
						}
					}
					warnings = append(warnings, got.Warnings...)
					if len(want.State) > 0 && string(want.State) != "null" && got.OK() {
						checkStateAfter(t, file, i, want.State)
					}
				}
				if accepted != st.Expect.Accepted || rep.OK() != st.Expect.Valid {
					t.Errorf("accepted %d valid %v, want %d %v", accepted, rep.OK(), st.Expect.Accepted, st.Expect.Valid)
				}
				for _, w := range st.Expect.Warnings {
					if !slices.Contains(warnings, w) {
						t.Errorf("stream warning %s not reported (got %v)", w, warnings)
					}
				}
				for _, f := range st.Expect.Failures {
					if rep.Results[f.Message].OK() {
						t.Errorf("message %d should fail with %v", f.Message, f.Reasons)
					}
				}
			})
		}
	}
}

// checkStateAfter replays the stream up to message i and compares the key
// state of that message's identifier with the expected keripy record.
func checkStateAfter(t *testing.T, stream []byte, i int, want json.RawMessage) {
	t.Helper()
	msgs, err := ParseStream(stream)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier()
	for _, m := range msgs[:i+1] {
		v.Accept(m)
	}
	s, ok := v.State(msgs[i].Event.Prefix())
	if !ok {
		t.Fatalf("no state after message %d", i)
	}
	got, _ := json.Marshal(s)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(w)
	if string(gj) != string(wj) {
		t.Errorf("state after message %d:\n got %s\nwant %s", i, gj, wj)
	}
}
