package kel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
)

// Known answers produced by keripy 1.3.6 (testdata/vectors/keripy-test-vectors.json,
// testdata/vectors/group-2of3/, testdata/keripy/). Every expected value comes
// from those files or from an independent computation (blake3, argon2,
// ed25519, encoding/json), never from kel itself.

type kpSigner struct {
	SeedQb64   string `json:"seed_qb64"`
	SeedRawHex string `json:"seed_raw_hex"`
	Pub        string `json:"pub"`
}

type kpSig struct {
	Qb64  string `json:"qb64"`
	Code  string `json:"code"`
	Index int    `json:"index"`
	Ondex *int   `json:"ondex"`
}

type kpEvent struct {
	Name       string  `json:"name"`
	Raw        string  `json:"raw"`
	Msg        string  `json:"msg"`
	Said       string  `json:"said"`
	Sigs       []kpSig `json:"sigs"`
	SigBySeed  *kpSig  `json:"sig_by_seed_index0"`
	SigBySeed1 *kpSig  `json:"sig_by_seed1_index0"`
}

type kpFile struct {
	Vectors struct {
		V1 struct {
			Signers map[string]kpSigner `json:"signers"`
			Events  []kpEvent           `json:"events"`
		} `json:"V1_test_keyeventfuncs"`
		V2 struct {
			SaltRawHex string     `json:"salt_raw_hex"`
			SaltQb64   string     `json:"salt_qb64"`
			Signers    []kpSigner `json:"signers"`
			Events     []kpEvent  `json:"events"`
		} `json:"V2_test_multisig_digprefix"`
		V3 struct {
			ManagerSaltRaw string     `json:"manager_salt_raw"`
			Stem           string     `json:"stem"`
			TempStretch    bool       `json:"temp_stretch"`
			Events         []kpEvent  `json:"events"`
			Keys           []kpSigner `json:"keys"`
		} `json:"V3_test_weighted"`
		V4 struct {
			BobSalt     string     `json:"bob_manager_salt_raw"`
			BobStem     string     `json:"bob_stem"`
			DelSalt     string     `json:"del_manager_salt_raw"`
			DelStem     string     `json:"del_stem"`
			TempStretch bool       `json:"temp_stretch"`
			Events      []kpEvent  `json:"events"`
			BobKeys     []kpSigner `json:"bob_keys"`
			DelKeys     []kpSigner `json:"del_keys"`
		} `json:"V4_test_delegation"`
		V5 struct {
			SaltRaw  string     `json:"salt_raw"`
			SaltQb64 string     `json:"salt_qb64"`
			Signers  []kpSigner `json:"signers"`
			Events   []kpEvent  `json:"events"`
		} `json:"V5_test_partial_rotation"`
	} `json:"vectors"`
}

var (
	kpOnce sync.Once
	kpData kpFile
	kpErr  error
)

func loadKeripy(t *testing.T) *kpFile {
	t.Helper()
	kpOnce.Do(func() {
		b, err := os.ReadFile("../testdata/vectors/keripy-test-vectors.json")
		if err == nil {
			err = json.Unmarshal(b, &kpData)
		}
		kpErr = err
	})
	if kpErr != nil {
		t.Fatal(kpErr)
	}
	return &kpData
}

// kpBody is an event body decoded with encoding/json, independently of kel.
type kpBody struct {
	V  string          `json:"v"`
	T  string          `json:"t"`
	D  string          `json:"d"`
	I  string          `json:"i"`
	S  string          `json:"s"`
	P  string          `json:"p"`
	Kt json.RawMessage `json:"kt"`
	K  []string        `json:"k"`
	Nt json.RawMessage `json:"nt"`
	N  []string        `json:"n"`
	Di string          `json:"di"`
}

func decodeBody(t *testing.T, raw string) kpBody {
	t.Helper()
	var b kpBody
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		t.Fatalf("encoding/json cannot read %q: %v", raw, err)
	}
	return b
}

// bodyOf splits a keripy msg into its body (length from the version string,
// read independently) and attachments.
func bodyOf(t *testing.T, msg string) (string, string) {
	t.Helper()
	if !strings.HasPrefix(msg, `{"v":"KERI10JSON`) {
		t.Fatalf("message does not start with a KERI 1.0 version: %.40q", msg)
	}
	var size int
	if _, err := fmt.Sscanf(msg[16:22], "%06x", &size); err != nil {
		t.Fatal(err)
	}
	return msg[:size], msg[size:]
}

// checkIndepSAID re-derives the body from its own template with blake3
// directly: proves d (and a self-addressing i) and the size in v.
func checkIndepSAID(t *testing.T, raw, said string) {
	t.Helper()
	tpl := strings.ReplaceAll(raw, said, saidPH)
	tpl = strings.Replace(tpl, raw[6:23], versionPH, 1)
	if got := indepSAIDify(tpl); got != raw {
		t.Errorf("independent SAID recomputation differs:\n got %s\nwant %s", got, raw)
	}
}

func seedFromHex(t *testing.T, s kpSigner) []byte {
	t.Helper()
	seed, err := hex.DecodeString(s.SeedRawHex)
	if err != nil || len(seed) != 32 {
		t.Fatalf("seed %q: %v", s.SeedRawHex, err)
	}
	if got := EncodeSeed(seed); got != s.SeedQb64 {
		t.Errorf("seed qb64 %s, want %s", got, s.SeedQb64)
	}
	if got := indepQb64('A', seed); got != s.SeedQb64 {
		t.Errorf("independent seed qb64 %s, want %s", got, s.SeedQb64)
	}
	return seed
}

// kpSignerIndex maps each listed public key to its seed.
func kpSignerIndex(t *testing.T, lists ...[]kpSigner) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, l := range lists {
		for _, s := range l {
			seed := seedFromHex(t, s)
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			if got := indepQb64(s.Pub[0], pub); got != s.Pub {
				t.Errorf("seed %s gives %s, want %s", s.SeedQb64, got, s.Pub)
			}
			out[s.Pub] = seed
		}
	}
	return out
}

func TestKeripyV1KeyEventFuncs(t *testing.T) {
	v1 := loadKeripy(t).Vectors.V1
	seeds := map[string][]byte{}
	for name, s := range v1.Signers {
		seed := seedFromHex(t, s)
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if got := indepQb64(s.Pub[0], pub); got != s.Pub {
			t.Errorf("signer %s: %s, want %s", name, got, s.Pub)
		}
		if s.Pub[0] == 'D' && EncodeVerKey(pub) != s.Pub {
			t.Errorf("EncodeVerKey(%s) = %s", name, EncodeVerKey(pub))
		}
		seeds[name] = seed
	}
	if len(v1.Events) != 8 {
		t.Fatalf("V1 has %d events, want 8", len(v1.Events))
	}
	// keripy's own KERI 1.0 known answers for next digests (keri-1.0.md §7, §20).
	if got := NextDigest(v1.Signers["seed1"].Pub); got != "EIf-ENw7PrM52w4H-S7NGU2qVIfraXVIlV9hEAaMHg7W" || got != indepNextDigest(v1.Signers["seed1"].Pub) {
		t.Errorf("NextDigest(seed1) = %s", got)
	}

	tests := []struct {
		idx      int
		signer   string // seed used for the listed signature
		sig      func(kpEvent) *kpSig
		intive   bool
		warnings []string
	}{
		{0, "seed", func(e kpEvent) *kpSig { return e.SigBySeed }, false, nil},
		{1, "seed", func(e kpEvent) *kpSig { return e.SigBySeed }, false, nil},
		{2, "seed", func(e kpEvent) *kpSig { return e.SigBySeed }, false, nil},
		{3, "seed1", func(e kpEvent) *kpSig { return e.SigBySeed1 }, false, nil},
		{4, "", nil, true, []string{"threshold_not_string", "next_threshold_not_string", "bt_not_string"}},
		{5, "seed1", func(e kpEvent) *kpSig { return e.SigBySeed1 }, false, nil},
		{6, "", nil, false, nil},
		{7, "", nil, false, nil},
	}
	parsed := make([]*Event, len(v1.Events))
	for _, tc := range tests {
		e := v1.Events[tc.idx]
		t.Run(fmt.Sprintf("%d %s", tc.idx, e.Name), func(t *testing.T) {
			ev, err := ParseEvent([]byte(e.Raw))
			if err != nil {
				t.Fatalf("keripy event refused: %v", err)
			}
			parsed[tc.idx] = ev
			if ev.SAID() != e.Said {
				t.Errorf("SAID %s, want %s", ev.SAID(), e.Said)
			}
			checkIndepSAID(t, e.Raw, e.Said)
			for _, w := range tc.warnings {
				if !slices.Contains(ev.Warnings(), w) {
					t.Errorf("warning %s not among %v", w, ev.Warnings())
				}
			}
			if len(tc.warnings) == 0 && len(ev.Warnings()) > 0 {
				t.Errorf("unexpected warnings %v", ev.Warnings())
			}
			got := rebuild(t, ev)
			if !tc.intive {
				if string(got.Raw()) != e.Raw {
					t.Errorf("rebuilt:\n got %s\nwant %s", got.Raw(), e.Raw)
				}
			} else {
				// kel never writes JSON-number thresholds: the rebuilt body
				// differs only in their encoding. Normalise the original
				// independently and re-SAID it with blake3.
				norm := e.Raw
				for _, r := range [][2]string{{`"kt":1,`, `"kt":"1",`}, {`"nt":1,`, `"nt":"1",`}, {`"bt":0,`, `"bt":"0",`}} {
					if !strings.Contains(norm, r[0]) {
						t.Fatalf("intive body lacks %s", r[0])
					}
					norm = strings.Replace(norm, r[0], r[1], 1)
				}
				tpl := strings.ReplaceAll(norm, e.Said, saidPH)
				tpl = strings.Replace(tpl, norm[6:23], versionPH, 1)
				if want := indepSAIDify(tpl); string(got.Raw()) != want {
					t.Errorf("rebuilt intive rot:\n got %s\nwant %s", got.Raw(), want)
				}
				// keripy's own string-threshold form of the same rot (event 3).
				if string(got.Raw()) != v1.Events[3].Raw {
					t.Errorf("rebuilt intive rot is not keripy's string form (event 3)")
				}
				if !got.Kt().Equal(ev.Kt()) || !got.Nt().Equal(ev.Nt()) || got.Bt() != ev.Bt() {
					t.Errorf("thresholds changed in the rebuild")
				}
			}
			if tc.sig != nil {
				want := tc.sig(e)
				sg, err := NewSiger(ed25519.Sign(ed25519.NewKeyFromSeed(seeds[tc.signer]), []byte(e.Raw)), 0, 0, false)
				if err != nil {
					t.Fatal(err)
				}
				if sg.Code != want.Code || sg.Qb64() != want.Qb64 || want.Index != 0 {
					t.Errorf("signature %s %s, want %s %s", sg.Code, sg.Qb64(), want.Code, want.Qb64)
				}
				back, n, err := ParseSiger(want.Qb64)
				if err != nil || n != len(want.Qb64) || back.Code != CodeSigBoth || back.Index != 0 || !back.HasOndex || back.Ondex != 0 {
					t.Errorf("ParseSiger(%s) = %+v, %d, %v", want.Qb64, back, n, err)
				}
			}
		})
	}
	if slices.Contains(parsed, nil) {
		t.Fatal("some V1 events did not parse")
	}

	sigOf := func(signer string, ev *Event) Siger {
		sg, err := NewSiger(ed25519.Sign(ed25519.NewKeyFromSeed(seeds[signer]), ev.Raw()), 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		return sg
	}
	listed := func(s *kpSig) Siger {
		sg, _, err := ParseSiger(s.Qb64)
		if err != nil {
			t.Fatal(err)
		}
		return sg
	}

	t.Run("replay non-transferable icp, then an ixn", func(t *testing.T) {
		v := NewVerifier()
		mustAccept(t, v, NewMessage(parsed[0], []Siger{listed(v1.Events[0].SigBySeed)}))
		st, _ := v.State(parsed[0].Prefix())
		if st.Transferable() || len(st.Next) != 0 || st.Nt.String() != `"0"` {
			t.Errorf("non-transferable state %+v", st)
		}
		ixn := mustInteract(t, InteractionOptions{Prefix: parsed[0].Prefix(), Sn: 1, Prior: parsed[0].SAID()})
		wantRejected(t, v.Accept(NewMessage(ixn, []Siger{sigOf("seed", ixn)})), rsnNotTransfer)
	})
	t.Run("replay self-addressing icp", func(t *testing.T) {
		rep := Replay(NewMessage(parsed[1], []Siger{listed(v1.Events[1].SigBySeed)}).Bytes())
		if !rep.OK() || len(rep.Results) != 1 {
			t.Fatalf("report %+v", rep)
		}
		if st := rep.States[v1.Events[1].Said]; st.Keys[0] != v1.Signers["seed"].Pub {
			t.Errorf("state %+v", st)
		}
	})
	t.Run("replay basic prefix icp + rot", func(t *testing.T) {
		stream := streamOf(
			NewMessage(parsed[2], []Siger{listed(v1.Events[2].SigBySeed)}),
			NewMessage(parsed[3], []Siger{listed(v1.Events[3].SigBySeed1)}),
		)
		rep := Replay(stream)
		if !rep.OK() || len(rep.Results) != 2 {
			t.Fatalf("report %+v", rep)
		}
		st := rep.States[v1.Signers["seed"].Pub]
		if !slices.Equal(st.Keys, []string{v1.Signers["seed1"].Pub}) ||
			!slices.Equal(st.Next, []string{indepNextDigest(v1.Signers["seed2"].Pub)}) || st.Sn != 1 || st.Last != v1.Events[3].Said {
			t.Errorf("state %+v", st)
		}
	})
	t.Run("replay basic prefix icp + intive rot + ixn", func(t *testing.T) {
		stream := streamOf(
			NewMessage(parsed[2], []Siger{listed(v1.Events[2].SigBySeed)}),
			NewMessage(parsed[4], []Siger{sigOf("seed1", parsed[4])}),
			NewMessage(parsed[5], []Siger{listed(v1.Events[5].SigBySeed1)}),
		)
		rep := Replay(stream)
		if !rep.OK() || len(rep.Results) != 3 {
			t.Fatalf("report %+v", rep)
		}
		for _, w := range tests[4].warnings {
			if !slices.Contains(rep.Results[1].Warnings, w) {
				t.Errorf("intive rot: warning %s not among %v", w, rep.Results[1].Warnings)
			}
		}
		st := rep.States[v1.Signers["seed"].Pub]
		if st.Sn != 2 || st.Last != v1.Events[5].Said || st.EstSAID != v1.Events[4].Said || st.Kt.String() != `"1"` {
			t.Errorf("state %+v", st)
		}
	})
	t.Run("replay dip without its delegator", func(t *testing.T) {
		// Held: the delegator's KEL is not there, as keripy escrows it.
		v := NewVerifier()
		r := v.Accept(NewMessage(parsed[6], []Siger{sigOf("seed1", parsed[6])}))
		if !r.Held {
			t.Errorf("dip not held: %+v", r)
		}
		wantRejected(t, r, rsnDelMissing)
		if _, known := v.State(parsed[6].Prefix()); known {
			t.Error("a held dip has key state")
		}
		// Looked past on request: accepted with a warning.
		rel := v.AcceptUnanchored()
		if len(rel) != 1 || !rel[0].Result.OK() || !slices.Contains(rel[0].Result.Warnings, "delegation_not_anchored") {
			t.Fatalf("AcceptUnanchored %+v", rel)
		}
		if st, _ := v.State(parsed[6].Prefix()); st.Delegator != "EAdHxtdjCQUM-TVO8CgJAKb8ykXsFe4u9epTUQFCL7Yd" {
			t.Errorf("delegator %q", st.Delegator)
		}
		// The drt of the test sits at sn 4 after a placeholder p.
		wantRejected(t, v.Accept(NewMessage(parsed[7], []Siger{sigOf("seed2", parsed[7])})), rsnOutOfOrder)
	})
}

// saltyPaths lists a keripy key manager's derivation paths for successive
// key sets: stem + hex(ridx) + hex(kidx), kidx counting on across sets.
func saltyPaths(stem string, sizes []int) []string {
	var out []string
	kidx := 0
	for ridx, n := range sizes {
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("%s%x%x", stem, ridx, kidx+i))
		}
		kidx += n
	}
	return out
}

// keySetSizes gives the key-set sizes a keripy manager created for a KEL:
// the inception's current keys, then every establishment event's next keys.
func keySetSizes(t *testing.T, msgs []string) []int {
	t.Helper()
	var sizes []int
	for i, m := range msgs {
		raw, _ := bodyOf(t, m)
		b := decodeBody(t, raw)
		if b.T == IlkIxn {
			continue
		}
		if i == 0 || b.T == IlkIcp || b.T == IlkDip {
			sizes = append(sizes, len(b.K))
		}
		sizes = append(sizes, len(b.N))
	}
	return sizes
}

func TestKeripySaltyKeys(t *testing.T) {
	kp := loadKeripy(t)
	v := kp.Vectors
	hexPaths := func(prefix string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("%s%x", prefix, i))
		}
		return out
	}
	v2salt, err := hex.DecodeString(v.V2.SaltRawHex)
	if err != nil {
		t.Fatal(err)
	}
	bobIcp := decodeBody(t, firstOf(bodyOf(t, v.V4.Events[0].Msg)))
	delDip := decodeBody(t, firstOf(bodyOf(t, v.V4.Events[2].Msg)))
	var bobMsgs, delMsgs []string
	for _, e := range v.V4.Events {
		b := decodeBody(t, firstOf(bodyOf(t, e.Msg)))
		switch b.I {
		case bobIcp.I:
			bobMsgs = append(bobMsgs, e.Msg)
		case delDip.I:
			delMsgs = append(delMsgs, e.Msg)
		}
	}

	type tc struct {
		name     string
		salt     []byte
		saltQb64 string
		paths    []string
		time     uint32
		memKiB   uint32
		want     []kpSigner
	}
	tests := []tc{
		{"V2 Salter.signers low tier", v2salt, v.V2.SaltQb64, hexPaths("", len(v.V2.Signers)), 2, 64 * 1024, v.V2.Signers},
		{"V3 manager stem wes", []byte(v.V3.ManagerSaltRaw), "", saltyPaths(v.V3.Stem, keySetSizes(t, kpMsgs(v.V3.Events))), 1, 8, v.V3.Keys},
		{"V4 bob", []byte(v.V4.BobSalt), "", saltyPaths(v.V4.BobStem, keySetSizes(t, bobMsgs)), 1, 8, v.V4.BobKeys},
		{"V4 del", []byte(v.V4.DelSalt), "", saltyPaths(v.V4.DelStem, keySetSizes(t, delMsgs)), 1, 8, v.V4.DelKeys},
		{"V5 signers rot", []byte(v.V5.SaltRaw), v.V5.SaltQb64, hexPaths("rot", len(v.V5.Signers)), 1, 8, v.V5.Signers},
	}
	g := loadGroup(t)
	for _, name := range []string{"m1", "m2", "m3"} {
		m := g.Members[name]
		want := []kpSigner{}
		for _, k := range m.KeysAtInception {
			want = append(want, kpSigner{SeedQb64: k.Seed, SeedRawHex: k.SeedRawHex, Pub: k.Pub})
		}
		want = append(want, kpSigner{SeedQb64: m.KeysAfterRotation[1].Seed, SeedRawHex: m.KeysAfterRotation[1].SeedRawHex, Pub: m.KeysAfterRotation[1].Pub})
		tests = append(tests, tc{"group member " + name, []byte(m.SaltRaw), m.SaltQb64, saltyPaths(name, []int{1, 1, 1}), 1, 8, want})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if len(tc.salt) != 16 {
				t.Fatalf("salt of %d bytes", len(tc.salt))
			}
			if tc.saltQb64 != "" {
				m, err := DecodeMatter(tc.saltQb64, CodeSalt128)
				if err != nil || !bytes.Equal(m.Raw, tc.salt) {
					t.Errorf("salt %s decodes to %x, %v", tc.saltQb64, m.Raw, err)
				}
			}
			if len(tc.paths) != len(tc.want) {
				t.Fatalf("%d paths %v for %d keys", len(tc.paths), tc.paths, len(tc.want))
			}
			for i, p := range tc.paths {
				seed := argon2.IDKey([]byte(p), tc.salt, tc.time, tc.memKiB, 1, 32)
				if got := hex.EncodeToString(seed); got != tc.want[i].SeedRawHex {
					t.Errorf("path %q: seed %s, want %s", p, got, tc.want[i].SeedRawHex)
				}
				pub := EncodeVerKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
				if pub != tc.want[i].Pub {
					t.Errorf("path %q: pub %s, want %s", p, pub, tc.want[i].Pub)
				}
			}
		})
	}
}

func firstOf[T any](v T, _ ...any) T { return v }

// kpChain checks every message of a keripy KEL (parse, SAID, rebuild,
// signatures from seeds, re-emission) and returns the parsed messages.
func kpChain(t *testing.T, events []kpEvent, seeds map[string][]byte) []Message {
	t.Helper()
	var out []Message
	estKeys := map[string][]string{}
	for i, e := range events {
		body, att := bodyOf(t, e.Msg)
		msgs, err := ParseStream([]byte(e.Msg))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("event %d %s: %d messages, %v", i, e.Name, len(msgs), err)
		}
		m := msgs[0]
		ev := m.Event
		if string(ev.Raw()) != body || ev.SAID() != e.Said {
			t.Errorf("event %d: SAID %s, want %s", i, ev.SAID(), e.Said)
		}
		checkIndepSAID(t, body, e.Said)
		if got := rebuild(t, ev); string(got.Raw()) != body {
			t.Errorf("event %d rebuilt:\n got %s\nwant %s", i, got.Raw(), body)
		}
		if got := string(m.Bytes()); got != e.Msg {
			t.Errorf("event %d re-emitted:\n got %s\nwant %s", i, got, e.Msg)
		}
		if e.Sigs != nil {
			if len(e.Sigs) != len(m.Sigs) {
				t.Fatalf("event %d: %d signatures parsed, %d listed", i, len(m.Sigs), len(e.Sigs))
			}
			for j, s := range e.Sigs {
				sg := m.Sigs[j]
				wantOndex := -1
				if s.Ondex != nil {
					wantOndex = *s.Ondex
				}
				gotOndex := -1
				if sg.HasOndex {
					gotOndex = sg.Ondex
				}
				if sg.Qb64() != s.Qb64 || sg.Code != s.Code || sg.Index != s.Index || gotOndex != wantOndex {
					t.Errorf("event %d sig %d: %s %d/%d %s, want %s %d/%d %s", i, j, sg.Code, sg.Index, gotOndex, sg.Qb64(), s.Code, s.Index, wantOndex, s.Qb64)
				}
			}
		}
		if len(m.Sigs) == 0 || !strings.HasPrefix(att, "-A") {
			t.Errorf("event %d: no -A group", i)
		}
		keys := ev.Keys()
		if ev.Ilk() == IlkIxn {
			keys = estKeys[ev.Prefix()]
		} else {
			estKeys[ev.Prefix()] = keys
		}
		for j, sg := range m.Sigs {
			seed, ok := seeds[keys[sg.Index]]
			if !ok {
				t.Fatalf("event %d sig %d: no seed for %s", i, j, keys[sg.Index])
			}
			re, err := NewSiger(ed25519.Sign(ed25519.NewKeyFromSeed(seed), []byte(body)), sg.Index, sg.Ondex, !sg.HasOndex)
			if err != nil {
				t.Fatal(err)
			}
			if re.Qb64() != sg.Qb64() {
				t.Errorf("event %d sig %d re-signed: %s, want %s", i, j, re.Qb64(), sg.Qb64())
			}
		}
		out = append(out, m)
	}
	return out
}

// kpFinalState compares a replayed state with the last establishment event
// of the prefix, decoded with encoding/json.
func kpFinalState(t *testing.T, st KeyState, msgs []string, lastSAID string) {
	t.Helper()
	var est kpBody
	sn := -1
	for _, m := range msgs {
		raw, _ := bodyOf(t, m)
		b := decodeBody(t, raw)
		if b.I != st.Prefix {
			continue
		}
		sn++
		if b.T != IlkIxn {
			est = b
		}
	}
	if st.Sn != uint64(sn) || st.Last != lastSAID {
		t.Errorf("state at sn %d %s, want %d %s", st.Sn, st.Last, sn, lastSAID)
	}
	if !slices.Equal(st.Keys, est.K) || !slices.Equal(st.Next, est.N) {
		t.Errorf("state keys %v next %v, want %v %v", st.Keys, st.Next, est.K, est.N)
	}
	if st.Kt.String() != string(est.Kt) || st.Nt.String() != string(est.Nt) {
		t.Errorf("state kt %s nt %s, want %s %s", st.Kt, st.Nt, est.Kt, est.Nt)
	}
	if st.EstSAID != est.D {
		t.Errorf("state est %s, want %s", st.EstSAID, est.D)
	}
}

func kpMsgs(evs []kpEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Msg)
	}
	return out
}

func kpStream(evs []kpEvent) []byte {
	var out []byte
	for _, e := range evs {
		out = append(out, e.Msg...)
	}
	return out
}

func replayAllOK(t *testing.T, stream []byte, n int) Report {
	t.Helper()
	rep := Replay(stream)
	if rep.Err != nil {
		t.Fatalf("stream error: %v", rep.Err)
	}
	if len(rep.Results) != n {
		t.Fatalf("%d results, want %d", len(rep.Results), n)
	}
	for i, r := range rep.Results {
		if !r.OK() {
			t.Errorf("message %d (%s sn %d) rejected: %v", i, r.Ilk, r.Sn, r.Err)
		}
	}
	return rep
}

func TestKeripyV2MultisigAbandon(t *testing.T) {
	v2 := loadKeripy(t).Vectors.V2
	seeds := kpSignerIndex(t, v2.Signers)
	msgs := kpChain(t, v2.Events, seeds)
	if len(msgs) != 5 {
		t.Fatalf("%d events", len(msgs))
	}
	rep := replayAllOK(t, kpStream(v2.Events), 5)
	pre := msgs[0].Event.Prefix()
	st := rep.States[pre]
	kpFinalState(t, st, kpMsgs(v2.Events), v2.Events[4].Said)
	if st.Transferable() || len(st.Next) != 0 || st.Nt.String() != `"0"` {
		t.Errorf("abandoned state %+v", st)
	}

	// A further ixn, validly signed by the keys in force, must be refused.
	v := NewVerifier()
	for _, m := range msgs {
		mustAccept(t, v, m)
	}
	ixn := mustInteract(t, InteractionOptions{Prefix: pre, Sn: 5, Prior: v2.Events[4].Said})
	var sigs []Siger
	for i, k := range msgs[4].Event.Keys() {
		sg, err := NewSiger(ed25519.Sign(ed25519.NewKeyFromSeed(seeds[k]), ixn.Raw()), i, i, false)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sg)
	}
	wantRejected(t, v.Accept(NewMessage(ixn, sigs)), rsnNotTransfer)
	// and so must a rotation.
	rot := mustRotate(t, RotationOptions{Prefix: pre, Sn: 5, Prior: v2.Events[4].Said,
		Keys: msgs[4].Event.Keys(), Kt: IntThreshold(2), Next: nil, Nt: IntThreshold(0)})
	wantRejected(t, v.Accept(NewMessage(rot, sigs[:0])), rsnNotTransfer)
	if st, _ := v.State(pre); st.Sn != 4 {
		t.Errorf("state moved to sn %d", st.Sn)
	}
}

func TestKeripyV3Weighted(t *testing.T) {
	v3 := loadKeripy(t).Vectors.V3
	seeds := kpSignerIndex(t, v3.Keys)
	msgs := kpChain(t, v3.Events, seeds)
	rep := replayAllOK(t, kpStream(v3.Events), len(v3.Events))
	st := rep.States[msgs[0].Event.Prefix()]
	kpFinalState(t, st, kpMsgs(v3.Events), v3.Events[len(v3.Events)-1].Said)
	if want := `[["1/2","1/2","1/2"],["1","1"]]`; st.Kt.String() != want || st.Nt.String() != want {
		t.Errorf("final kt %s nt %s", st.Kt, st.Nt)
	}
	// The literal keripy fixture is the same five messages.
	fixture, err := os.ReadFile("../testdata/keripy/keripy_test_weighted_threshold.kel.cesr")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fixture, kpStream(v3.Events)) {
		t.Errorf("keripy fixture differs from the V3 messages")
	}
}

func TestKeripyWeightedThresholdFixture(t *testing.T) {
	fixture, err := os.ReadFile("../testdata/keripy/keripy_test_weighted_threshold.kel.cesr")
	if err != nil {
		t.Fatal(err)
	}
	rep := replayAllOK(t, fixture, 5)
	wantIlks := []string{IlkIcp, IlkIxn, IlkRot, IlkRot, IlkRot}
	for i, r := range rep.Results {
		if r.Ilk != wantIlks[i] || r.Sn != uint64(i) {
			t.Errorf("message %d: %s sn %d", i, r.Ilk, r.Sn)
		}
	}
	if len(rep.Prefixes) != 1 {
		t.Fatalf("prefixes %v", rep.Prefixes)
	}
	st := rep.States[rep.Prefixes[0]]
	if want := `[["1/2","1/2","1/2"],["1","1"]]`; st.Kt.String() != want || !st.Kt.IsWeighted() || len(st.Keys) != 5 {
		t.Errorf("final kt %s with %d keys", st.Kt, len(st.Keys))
	}
	// The final kt is met by 2 of the first three plus one of the last two
	// (keri-1.0.md §10), and not without the second clause.
	if s := st.Kt.Satisfy([]int{0, 1, 3}); !s.Met || len(s.Clauses) != 2 {
		t.Errorf("{0,1,3}: %+v", s)
	}
	if s := st.Kt.Satisfy([]int{0, 1, 2}); s.Met {
		t.Errorf("{0,1,2} met")
	}
}

func TestKeripyV4Delegation(t *testing.T) {
	v4 := loadKeripy(t).Vectors.V4
	seeds := kpSignerIndex(t, v4.BobKeys, v4.DelKeys)
	msgs := kpChain(t, v4.Events, seeds)
	if len(msgs) != 5 {
		t.Fatalf("%d events", len(msgs))
	}
	bob, del := msgs[0].Event.Prefix(), msgs[2].Event.Prefix()
	if msgs[2].Event.Ilk() != IlkDip || msgs[4].Event.Ilk() != IlkDrt || msgs[2].Event.Delegator() != bob {
		t.Fatalf("unexpected V4 layout")
	}
	// -GAB couples: the delegator's anchoring ixn by sn and SAID.
	for _, c := range []struct{ msg, anchor int }{{2, 1}, {4, 3}} {
		src := msgs[c.msg].Sources
		want := SourceSeal{Sn: msgs[c.anchor].Event.Sn(), SAID: msgs[c.anchor].Event.SAID()}
		if len(src) != 1 || src[0] != want {
			t.Errorf("message %d sources %v, want %v", c.msg, src, want)
		}
	}
	rep := replayAllOK(t, kpStream(v4.Events), 5)
	for i, r := range rep.Results {
		if len(r.Warnings) != 0 {
			t.Errorf("message %d warnings %v", i, r.Warnings)
		}
	}
	kpFinalState(t, rep.States[bob], kpMsgs(v4.Events), v4.Events[3].Said)
	kpFinalState(t, rep.States[del], kpMsgs(v4.Events), v4.Events[4].Said)
	if rep.States[del].Delegator != bob {
		t.Errorf("delegator %q", rep.States[del].Delegator)
	}

	v := NewVerifier()
	for _, m := range msgs {
		mustAccept(t, v, m)
	}
	for _, c := range []struct {
		sn     uint64
		said   string
		anchor int
	}{{0, v4.Events[2].Said, 1}, {1, v4.Events[4].Said, 3}} {
		a, ok := v.AnchorOf(del, c.sn, c.said)
		want := AnchorRef{Prefix: bob, Sn: msgs[c.anchor].Event.Sn(), SAID: v4.Events[c.anchor].Said}
		if !ok || a != want {
			t.Errorf("AnchorOf(del, %d) = %+v %v, want %+v", c.sn, a, ok, want)
		}
	}

	// Without the delegator's KEL the delegated events wait (keripy: the
	// partial-delegation and out-of-order escrows), and are accepted once
	// it arrives, after them.
	only := streamOf(msgs[2], msgs[4])
	rep = Replay(only)
	if len(rep.Results) != 2 || rep.OK() {
		t.Fatalf("delegate-only results %+v", rep.Results)
	}
	for _, r := range rep.Results {
		wantRejected(t, r, rsnDelMissing)
		if !r.Held {
			t.Errorf("%s not held", r.Ilk)
		}
	}
	rep = replayAllOK(t, append(only, streamOf(msgs[0], msgs[1], msgs[3])...), 5)
	kpFinalState(t, rep.States[del], kpMsgs(v4.Events), v4.Events[4].Said)
	// With the delegator's KEL but not the drt's anchor: refused.
	rep = Replay(streamOf(msgs[0], msgs[1], msgs[2], msgs[4]))
	if len(rep.Results) != 4 || !rep.Results[2].OK() {
		t.Fatalf("results %+v", rep.Results)
	}
	wantRejected(t, rep.Results[3], rsnDelMissing)
}

func TestKeripyV5PartialRotation(t *testing.T) {
	v5 := loadKeripy(t).Vectors.V5
	seeds := kpSignerIndex(t, v5.Signers)
	msgs := kpChain(t, v5.Events, seeds)
	if len(msgs) != 2 {
		t.Fatalf("%d events", len(msgs))
	}
	icp, rot := msgs[0].Event, msgs[1].Event
	wantIO := [][2]int{{0, 1}, {1, 3}, {2, 4}}
	for i, sg := range msgs[1].Sigs {
		if sg.Code != CodeSigBigBoth || !sg.HasOndex || sg.Index != wantIO[i][0] || sg.Ondex != wantIO[i][1] {
			t.Errorf("sig %d: %s %d/%d", i, sg.Code, sg.Index, sg.Ondex)
		}
		// Independently: the key at index fulfils the prior digest at ondex.
		if indepNextDigest(rot.Keys()[sg.Index]) != icp.Next()[sg.Ondex] {
			t.Errorf("sig %d: key %d does not fulfil prior n[%d]", i, sg.Index, sg.Ondex)
		}
	}
	v := NewVerifier()
	mustAccept(t, v, msgs[0])
	p, err := v.Progress(msgs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !p.Met || !p.Rotated || !slices.Equal(p.Exposed, []int{1, 3, 4}) || !slices.Equal(p.Signed, []int{0, 1, 2}) || !p.PriorNt.Met {
		t.Errorf("progress %+v", p)
	}
	for i, s := range p.Sigs {
		if s.Err != nil || !s.Exposes {
			t.Errorf("sig %d status %+v", i, s)
		}
	}
	mustAccept(t, v, msgs[1])
	rep := replayAllOK(t, kpStream(v5.Events), 2)
	kpFinalState(t, rep.States[icp.Prefix()], kpMsgs(v5.Events), v5.Events[1].Said)
}

func TestKeripyGroupingPartialRotation(t *testing.T) {
	var fx struct {
		Raw         string `json:"raw"`
		Attachments []struct {
			Index      int    `json:"index"`
			Ondex      int    `json:"ondex"`
			Attachment string `json:"attachment"`
		} `json:"attachments"`
	}
	readJSON(t, "../testdata/keripy/keripy_test_grouping_partial_rotation.json", &fx)
	ev, err := ParseEvent([]byte(fx.Raw))
	if err != nil {
		t.Fatalf("keripy rotation refused: %v", err)
	}
	body := decodeBody(t, fx.Raw)
	if ev.SAID() != body.D || ev.Ilk() != IlkRot || ev.Sn() != 3 || ev.Kt().String() != string(body.Kt) {
		t.Errorf("parsed %s %s sn %d kt %s", ev.Ilk(), ev.SAID(), ev.Sn(), ev.Kt())
	}
	checkIndepSAID(t, fx.Raw, body.D)
	if got := rebuild(t, ev); string(got.Raw()) != fx.Raw {
		t.Errorf("rebuilt:\n got %s\nwant %s", got.Raw(), fx.Raw)
	}
	want := [][2]int{{1, 4}, {2, 5}}
	if len(fx.Attachments) != len(want) {
		t.Fatalf("%d attachments", len(fx.Attachments))
	}
	for i, a := range fx.Attachments {
		if a.Index != want[i][0] || a.Ondex != want[i][1] {
			t.Errorf("attachment %d documents %d/%d", i, a.Index, a.Ondex)
		}
		ctr, n, err := ParseCounter(a.Attachment)
		if err != nil || ctr != (Counter{Code: CtrControllerSigs, Count: 1}) || n != 4 {
			t.Fatalf("counter %+v %d %v", ctr, n, err)
		}
		qb64 := a.Attachment[n:]
		if !strings.HasPrefix(qb64, "2A") {
			t.Errorf("attachment %d is not 2A: %.6s", i, qb64)
		}
		sg, k, err := ParseSiger(qb64)
		if err != nil || k != len(qb64) || k != 92 {
			t.Fatalf("ParseSiger: %d %v", k, err)
		}
		if sg.Code != CodeSigBigBoth || sg.Index != a.Index || !sg.HasOndex || sg.Ondex != a.Ondex {
			t.Errorf("attachment %d: %s %d/%d", i, sg.Code, sg.Index, sg.Ondex)
		}
		if sg.Qb64() != qb64 {
			t.Errorf("re-encoded %s, want %s", sg.Qb64(), qb64)
		}
		re, err := NewSiger(sg.Sig, a.Index, a.Ondex, false)
		if err != nil || re.Qb64() != qb64 {
			t.Errorf("NewSiger chooses %s: %v", re.Qb64(), err)
		}
		// The signature verifies under k[index] (the key is in the event).
		pub, err := DecodeVerKey(ev.Keys()[a.Index])
		if err != nil || !ed25519.Verify(pub, []byte(fx.Raw), sg.Sig) {
			t.Errorf("attachment %d does not verify under k[%d]", i, a.Index)
		}
		msgs, err := ParseStream([]byte(fx.Raw + a.Attachment))
		if err != nil || len(msgs) != 1 || len(msgs[0].Sigs) != 1 {
			t.Fatalf("stream: %v", err)
		}
		if got := string(msgs[0].Bytes()); got != fx.Raw+a.Attachment {
			t.Errorf("message re-emitted as %s", got[len(fx.Raw):])
		}
	}
	// The prior events are not part of the fixture: without them the
	// rotation is for an unknown identifier.
	msgs, _ := ParseStream([]byte(fx.Raw + fx.Attachments[0].Attachment))
	wantRejected(t, NewVerifier().Accept(msgs[0]), rsnUnknownPrefix)
}

// group-2of3

type grpKey struct {
	Role       string `json:"role"`
	Pub        string `json:"pub"`
	Seed       string `json:"seed"`
	SeedRawHex string `json:"seed_raw_hex"`
	NextDigest string `json:"next_digest"`
}

type grpFile struct {
	Group struct {
		Prefix string   `json:"prefix"`
		Smids  []string `json:"smids"`
		Isith  string   `json:"isith"`
		Nsith  string   `json:"nsith"`
		Toad   int      `json:"toad"`
		Wits   []string `json:"wits"`
	} `json:"group"`
	Members map[string]struct {
		Prefix            string   `json:"prefix"`
		SaltRaw           string   `json:"habery_salt_raw"`
		SaltQb64          string   `json:"habery_salt_qb64"`
		KeysAtInception   []grpKey `json:"keys_at_inception"`
		KeysAfterRotation []grpKey `json:"keys_after_member_rotation"`
	} `json:"members"`
	Events []struct {
		Sn       int      `json:"sn"`
		Ilk      string   `json:"ilk"`
		Said     string   `json:"said"`
		Raw      string   `json:"raw"`
		SignedBy []string `json:"signed_by"`
		Sigs     []kpSig  `json:"sigs"`
	} `json:"events"`
	FinalState struct {
		Sn    int      `json:"sn"`
		Keys  []string `json:"keys"`
		Ndigs []string `json:"ndigs"`
		Kt    string   `json:"kt"`
		Nt    string   `json:"nt"`
	} `json:"final_state"`
	AnchorSeal     map[string]string `json:"anchor_seal"`
	AnchorPreimage string            `json:"anchor_preimage_utf8"`
}

func loadGroup(t *testing.T) *grpFile {
	t.Helper()
	var g grpFile
	readJSON(t, "../testdata/vectors/group-2of3/group-2of3.json", &g)
	return &g
}

func TestKeripyGroup2of3(t *testing.T) {
	g := loadGroup(t)
	names := []string{"m1", "m2", "m3"}
	seedOf := func(k grpKey) ed25519.PrivateKey {
		seed, err := hex.DecodeString(k.SeedRawHex)
		if err != nil || indepQb64('A', seed) != k.Seed {
			t.Fatalf("seed %s", k.Seed)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		if indepVerKey(priv.Public().(ed25519.PublicKey)) != k.Pub {
			t.Fatalf("seed %s does not give %s", k.Seed, k.Pub)
		}
		if k.NextDigest != "" && indepNextDigest(k.Pub) != k.NextDigest {
			t.Fatalf("next digest of %s: %s, want %s", k.Pub, indepNextDigest(k.Pub), k.NextDigest)
		}
		return priv
	}
	var icpKeys, icpNext, rotKeys, rotNext []string
	var icpPriv, rotPriv []ed25519.PrivateKey
	for _, n := range names {
		m := g.Members[n]
		if m.KeysAtInception[0].Role != "current" || m.KeysAtInception[1].Role != "next" ||
			m.KeysAfterRotation[0].Role != "current" || m.KeysAfterRotation[1].Role != "next" {
			t.Fatalf("member %s key roles", n)
		}
		icpKeys = append(icpKeys, m.KeysAtInception[0].Pub)
		icpPriv = append(icpPriv, seedOf(m.KeysAtInception[0]))
		seedOf(m.KeysAtInception[1])
		icpNext = append(icpNext, indepNextDigest(m.KeysAtInception[1].Pub))
		rotKeys = append(rotKeys, m.KeysAfterRotation[0].Pub)
		rotPriv = append(rotPriv, seedOf(m.KeysAfterRotation[0]))
		seedOf(m.KeysAfterRotation[1])
		rotNext = append(rotNext, indepNextDigest(m.KeysAfterRotation[1].Pub))
	}
	kt, err := ParseThreshold(`"` + g.Group.Isith + `"`)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := ParseThreshold(`"` + g.Group.Nsith + `"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Events) != 3 || g.Group.Toad != 0 || len(g.Group.Wits) != 0 {
		t.Fatalf("unexpected group layout")
	}

	// The anchor seal is the Blake3-256 digest of the preimage.
	seal := DigestSeal([]byte(g.AnchorPreimage))
	if seal.D != g.AnchorSeal["d"] || indepDigest([]byte(g.AnchorPreimage)) != g.AnchorSeal["d"] || len(g.AnchorSeal) != 1 {
		t.Errorf("anchor seal %s, want %v", seal.D, g.AnchorSeal)
	}

	icp := mustIncept(t, InceptionOptions{Keys: icpKeys, Kt: kt, Next: icpNext, Nt: nt})
	rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: rotKeys, Kt: kt, Next: rotNext, Nt: nt})
	ixn := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 2, Prior: rot.SAID(), Seals: []Seal{seal}})
	built := []*Event{icp, rot, ixn}
	signers := map[string]int{"m1": 0, "m2": 1, "m3": 2}
	var msgs []Message
	for i, e := range g.Events {
		ev := built[i]
		if string(ev.Raw()) != e.Raw || ev.SAID() != e.Said || ev.Ilk() != e.Ilk || ev.Sn() != uint64(e.Sn) {
			t.Errorf("event %d built:\n got %s\nwant %s", i, ev.Raw(), e.Raw)
		}
		checkIndepSAID(t, e.Raw, e.Said)
		privs := icpPriv
		if ev.Ilk() != IlkIcp {
			privs = rotPriv
		}
		var sigs []Siger
		for j, by := range e.SignedBy {
			idx := signers[by]
			// keripy members sign icp/ixn current-only (B), rot with A
			// (each new key sits at its prior digest's position).
			sg, err := NewSiger(ed25519.Sign(privs[idx], ev.Raw()), idx, idx, ev.Ilk() != IlkRot)
			if err != nil {
				t.Fatal(err)
			}
			want := e.Sigs[j]
			if sg.Code != want.Code || sg.Index != want.Index || sg.Qb64() != want.Qb64 {
				t.Errorf("event %d sig by %s: %s, want %s", i, by, sg.Qb64(), want.Qb64)
			}
			if (want.Ondex == nil) != (ev.Ilk() != IlkRot) {
				t.Errorf("event %d sig by %s: ondex %v", i, by, want.Ondex)
			}
			sigs = append(sigs, sg)
		}
		msgs = append(msgs, NewMessage(ev, sigs))
	}
	if g.Events[0].Said != g.Group.Prefix || icp.Prefix() != g.Group.Prefix {
		t.Errorf("group prefix %s", icp.Prefix())
	}

	plain, err := os.ReadFile("../testdata/vectors/group-2of3/group-kel.plain.cesr")
	if err != nil {
		t.Fatal(err)
	}
	if got := streamOf(msgs...); !bytes.Equal(got, plain) {
		t.Errorf("keremony's emission differs from group-kel.plain.cesr:\n got %s\nwant %s", got, plain)
	}
	clone, err := os.ReadFile("../testdata/vectors/group-2of3/group-kel.clone-from-m1.cesr")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(clone, []byte("-V")) || !bytes.Contains(clone, []byte("-EAB")) {
		t.Fatalf("clone is not in the -V/-E form")
	}
	for _, c := range []struct {
		name   string
		stream []byte
	}{{"plain", plain}, {"clone", clone}} {
		t.Run(c.name, func(t *testing.T) {
			rep := replayAllOK(t, c.stream, 3)
			st := rep.States[g.Group.Prefix]
			fs := g.FinalState
			if st.Sn != uint64(fs.Sn) || !slices.Equal(st.Keys, fs.Keys) || !slices.Equal(st.Next, fs.Ndigs) ||
				st.Kt.String() != `"`+fs.Kt+`"` || st.Nt.String() != `"`+fs.Nt+`"` || st.Last != g.Events[2].Said {
				t.Errorf("final state %+v, want %+v", st, fs)
			}
			// Parsing the clone yields the same messages keremony emits.
			ms, err := ParseStream(c.stream)
			if err != nil || len(ms) != 3 {
				t.Fatalf("%d messages, %v", len(ms), err)
			}
			if !bytes.Equal(streamOf(ms...), plain) {
				t.Errorf("re-emitted %s stream differs from the plain form", c.name)
			}
		})
	}

	for _, n := range names {
		t.Run("member "+n, func(t *testing.T) {
			m := g.Members[n]
			b, err := os.ReadFile(fmt.Sprintf("../testdata/vectors/group-2of3/member-%s-kel.clone-from-m1.cesr", n))
			if err != nil {
				t.Fatal(err)
			}
			rep := replayAllOK(t, b, 2)
			st, ok := rep.States[m.Prefix]
			if !ok || len(rep.Prefixes) != 1 {
				t.Fatalf("prefixes %v, want %s", rep.Prefixes, m.Prefix)
			}
			if st.Sn != 1 || !slices.Equal(st.Keys, []string{m.KeysAfterRotation[0].Pub}) ||
				!slices.Equal(st.Next, []string{m.KeysAfterRotation[1].NextDigest}) || st.Kt.String() != `"1"` {
				t.Errorf("member state %+v", st)
			}
			// The member's inception committed to the key it rotated to.
			ms, _ := ParseStream(b)
			if got := ms[0].Event.Next(); !slices.Equal(got, []string{m.KeysAtInception[1].NextDigest}) {
				t.Errorf("member icp n %v", got)
			}
		})
	}
}
