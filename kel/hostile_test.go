package kel

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Strict parsing: every malformed input is refused with its specific
// sentinel, and no input makes kel panic.

// wantCodes checks errors.Is for the sentinel and that ErrorCodes lists code.
func wantCodes(t *testing.T, err, sentinel error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	if code != "" && !slices.Contains(ErrorCodes(err), code) {
		t.Errorf("codes %v of %q lack %s", ErrorCodes(err), err, code)
	}
}

// b64Set replaces the Base64 character at i with f(its value).
func b64Set(s string, i int, f func(int) int) string {
	v := strings.IndexByte(b64Alphabet, s[i])
	if v < 0 {
		panic("not a base64 character")
	}
	return s[:i] + string(b64Alphabet[f(v)&63]) + s[i+1:]
}

// sigText encodes 64 signature bytes after a 2-character (or 6-character)
// indexed code the CESR way, independently of kel.
func sigText(sig []byte) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{0, 0}, sig...))[2:]
}

func TestHostileMatter(t *testing.T) {
	k := newTKey("hostile").Pub
	d := indepDigest([]byte("hostile"))
	// The pad bits of a one-character code are the top two bits of the first
	// data character: a canonical D key or E digest has it below 16 ('A'-'P').
	if strings.IndexByte(b64Alphabet, k[1]) >= 16 || strings.IndexByte(b64Alphabet, d[1]) >= 16 {
		t.Fatalf("unexpected fixtures %s %s", k, d)
	}
	tests := []struct {
		name  string
		in    string
		codes []string
		want  error
		code  string
	}{
		{"pad bits set in a D key", b64Set(k, 1, func(v int) int { return v | 0x20 }), nil, ErrPrimitive, "attachment_parse_error"},
		{"lowest pad bit set in a D key", b64Set(k, 1, func(v int) int { return v | 0x10 }), nil, ErrPrimitive, "attachment_parse_error"},
		{"pad bits set in an E digest", b64Set(d, 1, func(v int) int { return v | 0x30 }), nil, ErrPrimitive, "attachment_parse_error"},
		{"plus sign", k[:20] + "+" + k[21:], nil, ErrPrimitive, "attachment_parse_error"},
		{"slash", k[:20] + "/" + k[21:], nil, ErrPrimitive, "attachment_parse_error"},
		{"equals padding", k[:43] + "=", nil, ErrPrimitive, "attachment_parse_error"},
		{"space", k[:10] + " " + k[11:], nil, ErrPrimitive, "attachment_parse_error"},
		{"truncated", k[:43], nil, ErrTruncated, "stream_truncated"},
		{"empty", "", nil, ErrTruncated, "stream_truncated"},
		{"unknown one-char code", "Z" + k[1:], nil, ErrUnknownCode, "attachment_parse_error"},
		{"unknown four-char code", "1AAZ" + k[4:], nil, ErrUnknownCode, "attachment_parse_error"},
		{"not a code selector", "#" + k[1:], nil, ErrUnknownCode, "attachment_parse_error"},
		{"trailing character", k + "A", nil, ErrPrimitive, "attachment_parse_error"},
		{"trailing primitive", k + d, nil, ErrPrimitive, "attachment_parse_error"},
		{"key where a digest is required", k, []string{CodeBlake3_256}, ErrUnknownCode, "attachment_parse_error"},
		{"non-transferable key where D is required", "B" + k[1:], []string{CodeEd25519}, ErrUnknownCode, "attachment_parse_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMatter(tc.in, tc.codes...)
			wantCodes(t, err, tc.want, tc.code)
		})
	}
	// The unmodified fixtures decode and re-encode.
	for _, s := range []string{k, d} {
		m, err := DecodeMatter(s)
		if err != nil || m.Qb64() != s {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestHostileSiger(t *testing.T) {
	key := newTKey("siger")
	ev := mustIncept(t, InceptionOptions{Keys: pubsOf(key), Kt: IntThreshold(1), Next: digsOf(key), Nt: IntThreshold(1)})
	good := signA(t, key, ev, 0, 0).Qb64()
	body := sigText(good2raw(t, good))
	// Two code characters leave four pad bits: the top four bits of the
	// first data character, which is therefore below 4 ('A'-'D').
	if strings.IndexByte(b64Alphabet, good[2]) >= 4 {
		t.Fatalf("fixture signature starts with %c", good[2])
	}
	tests := []struct {
		name string
		in   string
		want error
		n    int // characters consumed even on error (framed but refused)
	}{
		{"secp256k1 C code", "CA" + body, ErrSignatureCode, 88},
		{"secp256r1 E code", "EA" + body, ErrSignatureCode, 88},
		{"big secp256k1 2C code", "2CAAAA" + body, ErrSignatureCode, 92},
		{"2B with a non-zero ondex", "2BAAAB" + body, ErrPrimitive, 0},
		{"pad bits set", b64Set(good, 2, func(v int) int { return v | 0x20 }), ErrPrimitive, 0},
		{"lowest pad bit set", b64Set(good, 2, func(v int) int { return v | 0x04 }), ErrPrimitive, 0},
		{"truncated", good[:87], ErrTruncated, 0},
		{"only a code", "2A", ErrTruncated, 0},
		{"unknown code", "ZA" + body, ErrUnknownCode, 0},
		{"unknown big code", "2ZAAAA" + body, ErrUnknownCode, 0},
		{"counter instead of a signature", "-AAB" + good[4:], ErrUnknownCode, 0},
		{"bad index character", "A+" + body, ErrPrimitive, 0},
		{"bad alphabet in the signature", good[:40] + "=" + good[41:], ErrPrimitive, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := ParseSiger(tc.in)
			wantCodes(t, err, tc.want, "")
			if n != tc.n {
				t.Errorf("consumed %d, want %d", n, tc.n)
			}
		})
	}
	sg, n, err := ParseSiger(good)
	if err != nil || n != 88 || sg.Qb64() != good {
		t.Errorf("good signature: %v", err)
	}
}

func good2raw(t *testing.T, qb64 string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString("AA" + qb64[2:])
	if err != nil || len(b) != 66 || b[0] != 0 || b[1] != 0 {
		t.Fatalf("decoding %s: %v", qb64, err)
	}
	return b[2:]
}

func TestHostileCounters(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"-ZAB", ErrUnsupportedCounter},
		{"-FAB", ErrUnsupportedCounter},     // CESR 1.0 trans indexed sig groups: not read by kel
		{"-_AAABAA", ErrUnsupportedCounter}, // CESR 2.0 genus counter
		{"--AAABAA", ErrUnsupportedCounter}, // keripy 1.x genus counter
		{"-0AAAAAB", ErrUnsupportedCounter},
		{"-A", ErrTruncated},
		{"-0VAA", ErrTruncated},
		{"-A+B", ErrPrimitive},
		{"AAAB", ErrStream},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, _, err := ParseCounter(tc.in)
			wantCodes(t, err, tc.want, "")
		})
	}
}

// hostileGroup is a 2-of-2 inception with its signers.
func hostileGroup(t *testing.T) (*Event, []tKey) {
	t.Helper()
	ks := []tKey{newTKey("h0"), newTKey("h1")}
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: digsOf(ks...), Nt: IntThreshold(2)})
	return icp, ks
}

func TestHostileStreams(t *testing.T) {
	icp, ks := hostileGroup(t)
	body := string(icp.Raw())
	s0, s1 := signB(t, ks[0], icp, 0).Qb64(), signB(t, ks[1], icp, 1).Qb64()
	good := body + "-AAC" + s0 + s1
	// A second identifier after the first shows whether the stream stayed in step.
	other := newTKey("h2")
	icp2 := mustIncept(t, InceptionOptions{Keys: pubsOf(other), Kt: IntThreshold(1), Next: digsOf(other), Nt: IntThreshold(1)})
	next := string(NewMessage(icp2, []Siger{signA(t, other, icp2, 0, 0)}).Bytes())
	raw := good2raw(t, s0)

	tests := []struct {
		name      string
		stream    string
		streamErr error    // framing error stopping the read
		results   int      // messages read
		reject    []reason // verdict on the first message
		nextOK    bool     // the following identifier is still read and accepted
	}{
		{"valid", good + next, nil, 2, nil, true},
		{"index out of range", body + "-AAD" + s0 + s1 + signB(t, ks[0], icp, 2).Qb64() + next, nil, 2, []reason{rsnIndexRange}, true},
		{"secp256k1 indexed code", body + "-AAC" + s0 + "CB" + sigText(raw) + next, nil, 2, []reason{rsnSigCode}, true},
		{"Ed448 indexed code", body + "-AAC" + s0 + "0BBA" + base64.RawURLEncoding.EncodeToString(make([]byte, 114)) + next, nil, 2, []reason{rsnSigCode}, true},
		{"2B with a non-zero ondex", body + "-AAC" + s0 + "2BABAB" + sigText(raw) + next, ErrPrimitive, 0, nil, false},
		{"unknown counter", body + "-ZAB" + s0 + next, ErrUnsupportedCounter, 0, nil, false},
		{"genus counter", body + "-_AAABAA" + "-AAC" + s0 + s1, ErrUnsupportedCounter, 0, nil, false},
		{"-V count overruns the stream", body + "-VAZ" + "-AAC" + s0 + s1, ErrTruncated, 0, nil, false},
		{"-0V count overruns the stream", body + "-0VAAABZ" + "-AAC" + s0 + s1, ErrTruncated, 0, nil, false},
		{"-V count cuts a signature", body + "-VAj" + "-AAC" + s0 + s1 + next, ErrTruncated, 0, nil, false},
		{"-A count overruns the stream", body + "-AAD" + s0 + s1, ErrTruncated, 0, nil, false},
		{"-A count overruns into the next body", body + "-AAD" + s0 + s1 + next, ErrUnknownCode, 0, nil, false},
		{"attachment is not a counter", body + "AAAA" + s0, ErrStream, 0, nil, false},
		{"junk before the body", "x" + good, ErrStream, 0, nil, false},
		{"body cut short", good[:100], ErrTruncated, 0, nil, false},
		// A complete stream whose version announces less than a version
		// string is not truncated: the version string is wrong.
		{"version announces 1 byte", strings.Replace(good, body[6:23], "KERI10JSON000001_", 1) + next, ErrVersion, 0, nil, false},
		{"version announces 0 bytes", strings.Replace(good, body[6:23], "KERI10JSON000000_", 1), ErrVersion, 0, nil, false},
		{"no signatures", body + next, nil, 2, []reason{rsnMissingSigs}, true},
		{"empty -A group", body + "-AAA" + next, nil, 2, []reason{rsnMissingSigs}, true},
		{"-V wrapped", body + "-VAt" + "-AAC" + s0 + s1 + next, nil, 2, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Replay([]byte(tc.stream))
			if tc.streamErr != nil {
				wantCodes(t, rep.Err, tc.streamErr, "")
			} else if rep.Err != nil {
				t.Fatalf("stream error %v", rep.Err)
			}
			if len(rep.Results) != tc.results {
				t.Fatalf("%d results, want %d", len(rep.Results), tc.results)
			}
			if tc.results == 0 {
				return
			}
			if tc.reject == nil {
				if !rep.Results[0].OK() {
					t.Errorf("rejected: %v", rep.Results[0].Err)
				}
			} else {
				wantRejected(t, rep.Results[0], tc.reject...)
			}
			if tc.nextOK && (len(rep.Results) < 2 || !rep.Results[1].OK()) {
				t.Errorf("the following message was not accepted: %+v", rep.Results)
			}
		})
	}
}

// hostileBodies are the valid events the event cases are cut from.
type hostileBodies struct {
	keys          []tKey
	icp, rot, ixn *Event
	icpW          *Event // weighted kt
}

func newHostileBodies(t *testing.T) hostileBodies {
	t.Helper()
	ks := []tKey{newTKey("e0"), newTKey("e1"), newTKey("e2"), newTKey("e3"), newTKey("e4"), newTKey("e5")}
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(ks[:3]...), Kt: IntThreshold(2), Next: digsOf(ks[3:]...), Nt: IntThreshold(2)})
	rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: pubsOf(ks[3:]...), Kt: IntThreshold(2), Next: digsOf(ks[:3]...), Nt: IntThreshold(2)})
	ixn := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 2, Prior: rot.SAID()})
	icpW := mustIncept(t, InceptionOptions{Keys: pubsOf(ks[:2]...), Kt: mustWeighted(t, []string{"1/2", "1/2"}), Next: digsOf(ks[2:4]...), Nt: IntThreshold(1)})
	if icp.Size() != 0x1e7 {
		t.Fatalf("3-key icp of %d bytes", icp.Size())
	}
	return hostileBodies{keys: ks, icp: icp, rot: rot, ixn: ixn, icpW: icpW}
}

// edit replaces old by new (exactly once) in the event's template and
// computes a correct SAID and size for the result.
func editBody(t *testing.T, ev *Event, pairs ...string) string {
	t.Helper()
	tpl := templateOf(ev)
	for i := 0; i < len(pairs); i += 2 {
		if strings.Count(tpl, pairs[i]) != 1 {
			t.Fatalf("%q occurs %d times in %s", pairs[i], strings.Count(tpl, pairs[i]), tpl)
		}
		tpl = strings.Replace(tpl, pairs[i], pairs[i+1], 1)
	}
	return indepSAIDify(tpl)
}

func TestHostileEvents(t *testing.T) {
	h := newHostileBodies(t)
	icpRaw, rotRaw := string(h.icp.Raw()), string(h.rot.Raw())
	k0, k1, k2 := h.keys[0].Pub, h.keys[1].Pub, h.keys[2].Pub
	otherDigest := indepDigest([]byte("not the said"))
	// kt and k swapped (both fields, in the other order).
	ktk := `"kt":"2","k":["` + k0 + `","` + k1 + `","` + k2 + `"]`
	kkt := `"k":["` + k0 + `","` + k1 + `","` + k2 + `"],"kt":"2"`
	lastChar := func(s string) string { // a different, still canonical final character
		if s[len(s)-1] == 'A' {
			return s[:len(s)-1] + "B"
		}
		return s[:len(s)-1] + "A"
	}
	nonTransTpl := `{"v":"` + versionPH + `","t":"icp","d":"` + saidPH + `","i":"B` + k0[1:] + `","s":"0","kt":"1","k":["B` + k0[1:] +
		`"],"nt":"1","n":["` + h.keys[1].Dig + `"],"bt":"0","b":[],"c":[],"a":[]}`
	wit := "B" + h.keys[4].Pub[1:]
	seal := func(s string) string { return editBody(t, h.ixn, `"a":[]`, `"a":[`+s+`]`) }

	tests := []struct {
		name string
		body string
		want error
		code string
	}{
		// Version string.
		{"uppercase hex size", strings.Replace(icpRaw, "KERI10JSON0001e7_", "KERI10JSON0001E7_", 1), ErrVersion, "version_string_invalid"},
		{"size one short", strings.Replace(icpRaw, "KERI10JSON0001e7_", "KERI10JSON0001e6_", 1), ErrVersion, "version_string_invalid"},
		{"size one over", strings.Replace(icpRaw, "KERI10JSON0001e7_", "KERI10JSON0001e8_", 1), ErrVersion, "version_string_invalid"},
		{"trailing byte", icpRaw + " ", ErrVersion, "version_string_invalid"},
		{"CBOR kind", strings.Replace(icpRaw, "KERI10JSON", "KERI10CBOR", 1), ErrVersion, "version_string_invalid"},
		{"KERI 1.1", strings.Replace(icpRaw, "KERI10JSON", "KERI11JSON", 1), ErrVersion, "version_string_invalid"},
		{"KERI 2.0 version string", strings.Replace(icpRaw, `"v":"KERI10JSON0001e7_"`, `"v":"KERICAAJSONAAKp."`, 1), ErrVersion, "version_string_invalid"},
		{"version longer than 17", editBody(t, h.ixn, `"v":"`+versionPH+`"`, `"v":"`+versionPH+`x"`), ErrVersion, "version_string_invalid"},
		// Canonical serialization.
		{"space after a comma", editBody(t, h.icp, `,"t":"icp"`, `, "t":"icp"`), ErrNonCanonical, "noncanonical_json"},
		{"space after a colon", editBody(t, h.ixn, `"s":"2"`, `"s": "2"`), ErrNonCanonical, "noncanonical_json"},
		{"pretty-printed after v", indepSAIDify(strings.ReplaceAll(templateOf(h.ixn), `,"`, ",\n  \"")), ErrNonCanonical, "noncanonical_json"},
		{"newline before the closing brace", editBody(t, h.ixn, `"a":[]}`, "\"a\":[]\n}"), ErrNonCanonical, "noncanonical_json"},
		{"fully pretty-printed (v no longer opens the body)", indepSAIDify("{\n  " + strings.ReplaceAll(templateOf(h.ixn)[1:], `,"`, ",\n  \"")), ErrVersion, "version_string_invalid"},
		{`unicode escaped as \u00e9`, editBody(t, h.icp, `"c":[]`, `"c":["\u00e9"]`), ErrNonCanonical, "noncanonical_json"},
		{`escaped slash in a weight`, editBody(t, h.icpW, `"kt":["1/2",`, `"kt":["1\/2",`), ErrNonCanonical, "noncanonical_json"},
		{`escaped ASCII letter`, editBody(t, h.ixn, `"t":"ixn"`, `"t":"ix\u006e"`), ErrNonCanonical, "noncanonical_json"},
		{`uppercase hex escape of a control character`, editBody(t, h.icp, `"c":[]`, `"c":["\u001F"]`), ErrNonCanonical, "noncanonical_json"},
		// JSON.
		{"duplicate member", editBody(t, h.ixn, `"a":[]}`, `"a":[],"a":[]}`), ErrJSON, "json_invalid"},
		{"number with a fraction", editBody(t, h.icp, `"bt":"0"`, `"bt":0.5`), ErrJSON, "json_invalid"},
		{"number with an exponent", editBody(t, h.icp, `"kt":"2"`, `"kt":2e0`), ErrJSON, "json_invalid"},
		{"number with a leading zero", editBody(t, h.icp, `"bt":"0"`, `"bt":00`), ErrJSON, "json_invalid"},
		{"deeply nested", editBody(t, h.ixn, `"a":[]`, `"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)), ErrJSON, "json_invalid"},
		{"invalid UTF-8", editBody(t, h.icp, `"c":[]`, "\"c\":[\"\xff\"]"), ErrJSON, "json_invalid"},
		{"overlong UTF-8", editBody(t, h.icp, `"c":[]`, "\"c\":[\"\xc0\xaf\"]"), ErrJSON, "json_invalid"},
		{"raw control character", editBody(t, h.icp, `"c":[]`, "\"c\":[\"\x01\"]"), ErrJSON, "json_invalid"},
		{"lone surrogate", editBody(t, h.icp, `"c":[]`, `"c":["\ud800"]`), ErrJSON, "json_invalid"},
		{"unterminated", indepSAIDify(templateOf(h.ixn)[:len(templateOf(h.ixn))-1]), ErrJSON, "json_invalid"},
		// Field lists.
		{"kt and k swapped", editBody(t, h.icp, ktk, kkt), ErrFieldOrder, "field_order"},
		{"extra field", editBody(t, h.ixn, `"a":[]}`, `"a":[],"x":"y"}`), ErrFieldOrder, "field_order"},
		{"rot with a KERI 2.0 c field", editBody(t, h.rot, `"ba":[],`, `"ba":[],"c":[],`), ErrFieldOrder, "field_order"},
		{"missing field", editBody(t, h.icp, `"c":[],`, ``), ErrFieldOrder, "field_order"},
		{"unknown ilk", editBody(t, h.ixn, `"t":"ixn"`, `"t":"vrc"`), ErrIlk, "ilk_invalid"},
		// Field values.
		{"sn 01", editBody(t, h.rot, `"s":"1"`, `"s":"01"`), ErrField, "field_invalid"},
		{"sn 02", editBody(t, h.ixn, `"s":"2"`, `"s":"02"`), ErrField, "field_invalid"},
		{"sn uppercase hex", editBody(t, h.ixn, `"s":"2"`, `"s":"A"`), ErrField, "field_invalid"},
		{"sn as a number", editBody(t, h.ixn, `"s":"2"`, `"s":2`), ErrField, "field_invalid"},
		{"rot at sn 0", editBody(t, h.rot, `"s":"1"`, `"s":"0"`), ErrField, "field_invalid"},
		{"icp at sn 1", editBody(t, h.icp, `"s":"0"`, `"s":"1"`), ErrField, "field_invalid"},
		{"key that is not qb64", editBody(t, h.icp, k1, "D"+strings.Repeat("!", 43)), ErrField, "field_invalid"},
		{"negative bt", editBody(t, h.icp, `"bt":"0"`, `"bt":-1`), ErrField, "field_invalid"},
		{"bt as a boolean", editBody(t, h.icp, `"bt":"0"`, `"bt":true`), ErrField, "field_invalid"},
		{"unknown trait", editBody(t, h.icp, `"c":[]`, `"c":["XYZ"]`), ErrConfig, "config_invalid"},
		{"raw non-ASCII is canonical (then an unknown trait)", editBody(t, h.icp, `"c":[]`, `"c":["é"]`), ErrConfig, "config_invalid"},
		{"SAID mismatch", strings.Replace(rotRaw, h.rot.SAID(), lastChar(h.rot.SAID()), 1), ErrSAIDMismatch, "said_mismatch"},
		{"prior changed after the SAID", strings.Replace(rotRaw, h.icp.SAID(), otherDigest, 1), ErrSAIDMismatch, "said_mismatch"},
		{"self-addressing prefix is not the SAID", editBody(t, h.icp, `"i":"`+saidPH+`"`, `"i":"`+otherDigest+`"`), ErrPrefixMismatch, "prefix_mismatch"},
		{"d and i both changed", strings.ReplaceAll(icpRaw, h.icp.SAID(), lastChar(h.icp.SAID())), ErrSAIDMismatch, "said_mismatch"},
		{"non-transferable prefix with next keys", indepSAIDify(nonTransTpl), ErrNotTransferable, "not_transferable"},
		// Keys and thresholds.
		{"duplicate key", editBody(t, h.icp, `"`+k1+`"`, `"`+k0+`"`), ErrDuplicateKey, "key_invalid"},
		{"kt above the key count", editBody(t, h.icp, `"kt":"2"`, `"kt":"4"`), ErrThreshold, "threshold_invalid"},
		{"nt above the digest count", editBody(t, h.icp, `"nt":"2"`, `"nt":"4"`), ErrThreshold, "threshold_invalid"},
		{"kt 0", editBody(t, h.icp, `"kt":"2"`, `"kt":"0"`), ErrThreshold, "threshold_invalid"},
		{"nt 0 with next digests", editBody(t, h.icp, `"nt":"2"`, `"nt":"0"`), ErrThreshold, "threshold_invalid"},
		{"kt with a leading zero", editBody(t, h.icp, `"kt":"2"`, `"kt":"02"`), ErrThreshold, "threshold_invalid"},
		{"kt uppercase hex", editBody(t, h.icp, `"kt":"2"`, `"kt":"B"`), ErrThreshold, "threshold_invalid"},
		{"kt as a decimal weight", editBody(t, h.icpW, `"kt":["1/2","1/2"]`, `"kt":["0.5","0.5"]`), ErrThreshold, "threshold_invalid"},
		{"weighted kt with too few weights", editBody(t, h.icpW, `"kt":["1/2","1/2"]`, `"kt":["1"]`), ErrThreshold, "threshold_invalid"},
		{"weighted kt below 1", editBody(t, h.icpW, `"kt":["1/2","1/2"]`, `"kt":["1/3","1/3"]`), ErrThreshold, "threshold_invalid"},
		{"empty key list", editBody(t, h.icp, ktk, `"kt":"0","k":[]`), ErrField, "field_invalid"},
		{"duplicate witness", editBody(t, h.icp, `"bt":"0","b":[]`, `"bt":"1","b":["`+wit+`","`+wit+`"]`), ErrDuplicateWitness, "witness_config_invalid"},
		{"bt above the witness count", editBody(t, h.icp, `"bt":"0","b":[]`, `"bt":"2","b":["`+wit+`"]`), ErrWitnessConfig, "witness_config_invalid"},
		// Seals.
		{"seal with an unknown field set", seal(`{"x":"` + otherDigest + `"}`), ErrSeal, "seal_list_invalid"},
		{"event seal in the order s i d", seal(`{"s":"0","i":"` + h.icp.Prefix() + `","d":"` + h.icp.SAID() + `"}`), ErrSeal, "seal_list_invalid"},
		{"event seal with sn 00", seal(`{"i":"` + h.icp.Prefix() + `","s":"00","d":"` + h.icp.SAID() + `"}`), ErrSeal, "seal_list_invalid"},
		{"event seal with a bad digest", seal(`{"i":"` + h.icp.Prefix() + `","s":"0","d":"Exyz"}`), ErrSeal, "seal_list_invalid"},
		{"digest seal with an extra field", seal(`{"d":"` + otherDigest + `","x":"y"}`), ErrSeal, "seal_list_invalid"},
		{"seal that is a string (keripy accepts any item)", seal(`"hello"`), ErrSeal, "seal_list_invalid"},
		{"seal value that is a number", seal(`{"d":1}`), ErrSeal, "seal_list_invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tc.body))
			if ev != nil {
				t.Errorf("an event came back with the error")
			}
			wantCodes(t, err, tc.want, tc.code)
			// Inside a stream the body stops the stream.
			msgs, serr := ParseStream([]byte(tc.body + "-AAA"))
			if serr == nil || len(msgs) != 0 {
				t.Errorf("stream read %d messages, error %v", len(msgs), serr)
			}
		})
	}
	// Every base body is valid, so each case fails for its one defect.
	for _, ev := range []*Event{h.icp, h.rot, h.ixn, h.icpW} {
		if _, err := ParseEvent(ev.Raw()); err != nil {
			t.Errorf("base %s: %v", ev.Ilk(), err)
		}
		if got := indepSAIDify(templateOf(ev)); got != string(ev.Raw()) {
			t.Errorf("independent SAID of %s differs", ev.Ilk())
		}
	}
	if _, err := ParseEvent([]byte(indepSAIDify(nonTransTpl[:strings.Index(nonTransTpl, `"nt"`)] + `"nt":"0","n":[],"bt":"0","b":[],"c":[],"a":[]}`))); err != nil {
		t.Errorf("non-transferable base: %v", err)
	}
}

// keripy-tolerated spellings that keremony reads with a warning (vectors
// README §1.5) and never writes.
func TestHostileTolerated(t *testing.T) {
	h := newHostileBodies(t)
	tests := []struct {
		name    string
		body    string
		warning string
	}{
		{"unreduced weight", editBody(t, h.icpW, `"kt":["1/2","1/2"]`, `"kt":["2/4","1/2"]`), "threshold_noncanonical_weights"},
		{"weight 1/1", editBody(t, h.icpW, `"kt":["1/2","1/2"]`, `"kt":["1/1","1/2"]`), "threshold_noncanonical_weights"},
		{"single clause as a list of lists", editBody(t, h.icpW, `"kt":["1/2","1/2"]`, `"kt":[["1/2","1/2"]]`), "threshold_noncanonical_weights"},
		{"integer kt as a number", editBody(t, h.icp, `"kt":"2"`, `"kt":2`), "threshold_not_string"},
		{"integer nt as a number", editBody(t, h.icp, `"nt":"2"`, `"nt":2`), "next_threshold_not_string"},
		{"bt as a number", editBody(t, h.icp, `"bt":"0"`, `"bt":0`), "bt_not_string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tc.body))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !slices.Contains(ev.Warnings(), tc.warning) {
				t.Errorf("warnings %v lack %s", ev.Warnings(), tc.warning)
			}
			// The builders write the canonical form instead.
			if got := rebuild(t, ev); string(got.Raw()) == tc.body || len(got.Warnings()) != 0 {
				t.Errorf("rebuilt as %s (warnings %v)", got.Raw(), got.Warnings())
			}
		})
	}
}

func TestHostileBuilders(t *testing.T) {
	ks := []tKey{newTKey("b0"), newTKey("b1"), newTKey("b2")}
	dig := digsOf(ks...)
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2)})
	badSeal := Seal{Kind: SealEvent, I: "not a prefix", S: 0, D: icp.SAID()}
	tests := []struct {
		name  string
		build func() (*Event, error)
		want  []error
	}{
		{"duplicate keys", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks[0], ks[1], ks[0]), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2)})
		}, []error{ErrInvalidOptions, ErrDuplicateKey}},
		{"duplicate keys in a rotation", func() (*Event, error) {
			return Rotate(RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: pubsOf(ks[1], ks[1]), Kt: IntThreshold(1), Next: dig, Nt: IntThreshold(1)})
		}, []error{ErrInvalidOptions, ErrDuplicateKey}},
		{"kt above the key count", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(4), Next: dig, Nt: IntThreshold(2)})
		}, []error{ErrInvalidOptions, ErrThreshold}},
		{"zero kt", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Next: dig, Nt: IntThreshold(2)})
		}, []error{ErrInvalidOptions, ErrThreshold}},
		{"nt 0 with next digests", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(0)})
		}, []error{ErrInvalidOptions, ErrThreshold}},
		{"weighted kt with the wrong weight count", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Kt: mustWeighted(t, []string{"1/2", "1/2"}), Next: dig, Nt: IntThreshold(2)})
		}, []error{ErrInvalidOptions, ErrThreshold}},
		{"empty key list", func() (*Event, error) {
			return Incept(InceptionOptions{Kt: IntThreshold(1), Next: dig, Nt: IntThreshold(1)})
		}, []error{ErrInvalidOptions}},
		{"key that is a digest", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: []string{dig[0]}, Kt: IntThreshold(1), Next: dig, Nt: IntThreshold(1)})
		}, []error{ErrInvalidOptions, ErrField}},
		{"basic prefix with two keys", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks[:2]...), Kt: IntThreshold(1), Next: dig, Nt: IntThreshold(1), BasicPrefix: true})
		}, []error{ErrInvalidOptions}},
		{"basic prefix for a dip", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks[0]), Kt: IntThreshold(1), Next: dig, Nt: IntThreshold(1), BasicPrefix: true, Delegator: icp.Prefix()})
		}, []error{ErrInvalidOptions}},
		{"delegator that is not a prefix", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks[0]), Kt: IntThreshold(1), Next: dig, Nt: IntThreshold(1), Delegator: "nobody"})
		}, []error{ErrInvalidOptions, ErrField}},
		{"unknown trait", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2), Config: []string{"XX"}})
		}, []error{ErrInvalidOptions, ErrConfig}},
		{"witness with a transferable code", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2), Witnesses: pubsOf(ks[0]), Bt: 1})
		}, []error{ErrInvalidOptions, ErrWitnessConfig}},
		{"bt without witnesses", func() (*Event, error) {
			return Incept(InceptionOptions{Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2), Bt: 1})
		}, []error{ErrInvalidOptions, ErrWitnessConfig}},
		{"malformed seal", func() (*Event, error) {
			return Interact(InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Seals: []Seal{badSeal}})
		}, []error{ErrInvalidOptions, ErrSeal}},
		{"seal of no kind", func() (*Event, error) {
			return Interact(InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Seals: []Seal{{Kind: "bogus", D: icp.SAID()}}})
		}, []error{ErrInvalidOptions, ErrSeal}},
		{"rotation without a prior", func() (*Event, error) {
			return Rotate(RotationOptions{Prefix: icp.Prefix(), Sn: 1, Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2)})
		}, []error{ErrInvalidOptions}},
		{"rotation at sn 0", func() (*Event, error) {
			return Rotate(RotationOptions{Prefix: icp.Prefix(), Sn: 0, Prior: icp.SAID(), Keys: pubsOf(ks...), Kt: IntThreshold(2), Next: dig, Nt: IntThreshold(2)})
		}, []error{ErrInvalidOptions, ErrField}},
		{"interaction for a non-prefix", func() (*Event, error) {
			return Interact(InteractionOptions{Prefix: "x", Sn: 1, Prior: icp.SAID()})
		}, []error{ErrInvalidOptions, ErrField}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := tc.build()
			if ev != nil {
				t.Errorf("an event was built: %s", ev.Raw())
			}
			wantErr(t, err, tc.want...)
		})
	}
}

// keripy leniencies keremony refuses (keri-1.0.md §10, §17.12).
func TestHostileLeniencies(t *testing.T) {
	icp, ks := hostileGroup(t)
	a0, b0, b1 := signA(t, ks[0], icp, 0, 0), signB(t, ks[0], icp, 0), signB(t, ks[1], icp, 1)
	if string(a0.Sig) != string(b0.Sig) || a0.Qb64() == b0.Qb64() {
		t.Fatalf("A and B forms of one signature")
	}
	tests := []struct {
		name     string
		sigs     []Siger
		reasons  []reason
		warnings []string
	}{
		{"one key twice under A and B", []Siger{a0, b0}, []reason{rsnThreshold}, []string{"signature_duplicate_index"}},
		{"one key three times", []Siger{a0, b0, b0}, []reason{rsnThreshold}, []string{"signature_duplicate_index"}},
		{"out-of-range index with enough good signatures", []Siger{a0, b1, signB(t, ks[1], icp, 2)}, []reason{rsnIndexRange}, nil},
		{"index far out of range", []Siger{a0, b1, signB(t, ks[1], icp, MaxSigIndex)}, []reason{rsnIndexRange}, nil},
		{"bad signature with enough good ones", []Siger{a0, b1, signB(t, ks[0], icp, 1)}, []reason{rsnBadSig}, nil},
		{"signature over other bytes", []Siger{a0, b1, {Code: CodeSigCurrent, Index: 1, Sig: signB(t, ks[1], mustIncept(t, InceptionOptions{Keys: pubsOf(ks[1]), Kt: IntThreshold(1), Next: digsOf(ks[1]), Nt: IntThreshold(1)}), 0).Sig}}, []reason{rsnBadSig}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Through the wire, as a peer would send it.
			rep := Replay(NewMessage(icp, tc.sigs).Bytes())
			if rep.Err != nil || len(rep.Results) != 1 {
				t.Fatalf("report %+v", rep)
			}
			r := rep.Results[0]
			wantRejected(t, r, tc.reasons...)
			for _, w := range tc.warnings {
				if !slices.Contains(r.Warnings, w) {
					t.Errorf("warning %s not among %v", w, r.Warnings)
				}
			}
			if len(rep.States) != 0 {
				t.Errorf("a rejected inception left state")
			}
		})
	}
	// The duplicate is counted once: with the other key it is enough.
	rep := Replay(NewMessage(icp, []Siger{a0, b0, b1}).Bytes())
	if !rep.OK() || !slices.Contains(rep.Results[0].Warnings, "signature_duplicate_index") {
		t.Errorf("a0 b0 b1: %+v", rep.Results)
	}
}

// A delegator's anchor must count wherever the delegator put it.
func TestHostileDelegationAnchors(t *testing.T) {
	a, d, x := newTMember("del-a", 2), newTMember("del-d", 2), newTMember("del-x", 2)
	one := IntThreshold(1)
	signed := func(ev *Event, k tKey) Message { return NewMessage(ev, []Siger{signA(t, k, ev, 0, 0)}) }
	dIcp := mustIncept(t, InceptionOptions{Keys: pubsOf(d.keys[0]), Kt: one, Next: digsOf(d.keys[1]), Nt: one})
	xIcp := mustIncept(t, InceptionOptions{Keys: pubsOf(x.keys[0]), Kt: one, Next: digsOf(x.keys[1]), Nt: one})
	dip := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one, Delegator: dIcp.Prefix()})
	seal := EventSeal(dip.Prefix(), 0, dip.SAID())
	dIxn := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 1, Prior: dIcp.SAID(), Seals: []Seal{seal}})
	dIxn2 := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 2, Prior: dIxn.SAID(), Seals: []Seal{seal}})
	xIxn := mustInteract(t, InteractionOptions{Prefix: xIcp.Prefix(), Sn: 1, Prior: xIcp.SAID(), Seals: []Seal{seal}})
	mDip := signed(dip, a.keys[0])
	withSrc := func(sn uint64, said string) Message {
		return NewMessage(dip, mDip.Sigs, SourceSeal{Sn: sn, SAID: said})
	}
	mD, mX := signed(dIcp, d.keys[0]), signed(xIcp, x.keys[0])

	tests := []struct {
		name string
		msgs []Message
	}{
		// Seals are public data: a third party may copy the delegator's seal
		// into its own KEL, even before the delegator anchors it.
		{"third party anchors the same seal first, couple attached", []Message{mD, mX, signed(xIxn, x.keys[0]), signed(dIxn, d.keys[0]), withSrc(1, dIxn.SAID())}},
		{"third party anchors the same seal first, no couple", []Message{mD, mX, signed(xIxn, x.keys[0]), signed(dIxn, d.keys[0]), mDip}},
		// The delegator anchored the dip twice; the couple names the second.
		{"couple names the delegator's second anchoring event", []Message{mD, signed(dIxn, d.keys[0]), signed(dIxn2, d.keys[0]), withSrc(2, dIxn2.SAID())}},
		// Control: the third party anchoring after the delegator changes nothing.
		{"third party anchors after the delegator", []Message{mD, mX, signed(dIxn, d.keys[0]), signed(xIxn, x.keys[0]), withSrc(1, dIxn.SAID())}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Replay(streamOf(tc.msgs...))
			if rep.Err != nil || len(rep.Results) != len(tc.msgs) {
				t.Fatalf("report %+v", rep)
			}
			for i, r := range rep.Results {
				if !r.OK() {
					t.Errorf("message %d (%s of %s) rejected: %v", i, r.Ilk, r.Prefix, r.Err)
				}
			}
			if st, ok := rep.States[dip.Prefix()]; !ok || st.Delegator != dIcp.Prefix() {
				t.Errorf("delegate state %+v", st)
			}
			// Every anchoring event is indexed, the delegator's among them.
			v := NewVerifier()
			for _, m := range tc.msgs {
				v.Accept(m)
			}
			refs := v.AnchorsOf(dip.Prefix(), 0, dip.SAID())
			if !slices.Contains(refs, AnchorRef{Prefix: dIcp.Prefix(), Sn: 1, SAID: dIxn.SAID()}) {
				t.Errorf("anchors %+v lack the delegator's", refs)
			}
		})
	}
}

// The same event again is a duplicate (warning duplicate_event), but the
// copy is checked like any message: keremony reports signatures that do not
// verify instead of dropping them (vectors README §1.5), so a copy carrying
// a bad, out-of-range or no signature is refused and changes nothing.
func TestHostileDuplicates(t *testing.T) {
	icp, ks := hostileGroup(t)
	good := []Siger{signB(t, ks[0], icp, 0), signB(t, ks[1], icp, 1)}
	tests := []struct {
		name    string
		sigs    []Siger
		reasons []reason
	}{
		{"same signatures", good, nil},
		{"one of the signatures", good[1:], nil},
		{"a bad signature", []Siger{good[0], signB(t, ks[0], icp, 1)}, []reason{rsnBadSig}},
		{"an out-of-range index", []Siger{good[0], good[1], signB(t, ks[1], icp, 2)}, []reason{rsnIndexRange}},
		{"no signatures", nil, []reason{rsnMissingSigs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier()
			mustAccept(t, v, NewMessage(icp, good))
			r := v.Accept(NewMessage(icp, tc.sigs))
			if tc.reasons == nil {
				if !r.OK() || !slices.Contains(r.Warnings, "duplicate_event") {
					t.Errorf("duplicate: %v %v", r.Err, r.Warnings)
				}
			} else {
				wantRejected(t, r, tc.reasons...)
			}
			if ms := v.Messages(icp.Prefix()); len(ms) != 1 || len(ms[0].Sigs) != 2 {
				t.Errorf("the kept message changed: %+v", ms)
			}
		})
	}
}

// validStreams lists every stream the vector files call valid, plus the
// keripy KELs.
func validStreams(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, v := range loadVectors(t) {
		for _, st := range v.Streams {
			if st.Expect.Valid {
				out[st.File] = []byte(st.Stream)
			}
		}
	}
	kp := loadKeripy(t).Vectors
	out["keripy V2"] = kpStream(kp.V2.Events)
	out["keripy V4"] = kpStream(kp.V4.Events)
	out["keripy V5"] = kpStream(kp.V5.Events)
	for _, f := range []string{"keripy/keripy_test_weighted_threshold.kel.cesr", "vectors/group-2of3/group-kel.plain.cesr",
		"vectors/group-2of3/group-kel.clone-from-m1.cesr", "vectors/group-2of3/member-m2-kel.clone-from-m1.cesr"} {
		b, err := os.ReadFile(filepath.Join("../testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func acceptedCount(rep Report) int {
	n := 0
	for _, r := range rep.Results {
		if r.OK() {
			n++
		}
	}
	return n
}

// streamNames lists the keys of validStreams in order.
func streamNames(m map[string][]byte) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// bodyStarts lists the offsets of the event bodies of a stream (attachments
// are Base64 text and never hold a '{').
func bodyStarts(s []byte) []int {
	var out []int
	for i, c := range s {
		if c == '{' && strings.HasPrefix(string(s[i:]), `{"v":"`) {
			out = append(out, i)
		}
	}
	return out
}

// cutParse parses the cut s[:n] from the start of the message the cut lands
// in: messages are framed one after the other, so what ParseStream makes of
// the earlier ones does not depend on the cut. It returns the number of
// whole messages before, and the parse of the rest.
func cutParse(s []byte, starts []int, n int) (int, []Message, error) {
	k := 0
	for k+1 < len(starts) && starts[k+1] <= n {
		k++
	}
	msgs, err := ParseStream(s[starts[k]:n])
	return k, msgs, err
}

// Truncating a valid stream anywhere never panics and never passes for the
// whole: Replay reports a stream error or accepts fewer messages, except for
// a cut that drops only a trailing -G source couple, whose event stands
// without it (with a warning). Every cut is parsed; Replay runs on every cut
// of a few streams and, for the others, on every cut whose parse differs
// from the previous one (the verdicts depend on nothing else), which keeps
// the test within a few seconds.
func TestHostileTruncations(t *testing.T) {
	streams := validStreams(t)
	if len(streams) < 15 {
		t.Fatalf("only %d streams", len(streams))
	}
	everyCut := map[string]bool{
		"b_2of2_inception.pipelined.cesr":                     true, // -V group
		"j_delegated_dip_drt.combined.cesr":                   true, // -G couples
		"keripy V5":                                           true, // 2A signatures
		"vectors/group-2of3/member-m2-kel.clone-from-m1.cesr": true, // -V with -E
	}
	for _, name := range streamNames(streams) {
		s := streams[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := Replay(s)
			if !full.OK() {
				t.Fatalf("full stream not valid: %v", full.Err)
			}
			want := acceptedCount(full)
			starts := bodyStarts(s)
			if len(starts) != len(full.Results) || starts[0] != 0 {
				t.Fatalf("%d bodies found for %d messages", len(starts), len(full.Results))
			}
			prev, replays := "", 0
			for n := 0; n < len(s); n++ {
				k, msgs, perr := cutParse(s, starts, n)
				key := fmt.Sprint(k, ErrorCodes(perr))
				for _, m := range msgs {
					key += fmt.Sprintf(";%s/%d/%d/%d", m.Event.SAID(), len(m.Sigs), len(m.Wigs), len(m.Sources))
				}
				if key == prev && !everyCut[name] {
					continue
				}
				prev = key
				replays++
				rep := Replay(s[:n])
				if (rep.Err == nil) != (perr == nil) || len(rep.Results) != k+len(msgs) {
					t.Fatalf("cut at %d: Replay and ParseStream disagree: %v / %v", n, rep.Err, perr)
				}
				got := acceptedCount(rep)
				switch {
				case got > want:
					t.Fatalf("cut at %d accepts %d of %d", n, got, want)
				case rep.Err != nil, got < want:
				default:
					last := rep.Results[len(rep.Results)-1]
					if !strings.HasPrefix(string(s[n:]), "-GAB") || !last.OK() ||
						!slices.Contains(last.Warnings, "delegation_source_seal_not_attached") {
						t.Errorf("cut at %d (…%q|%.8q) passes as the whole stream", n, lastBytes(s[:n], 8), s[n:])
					}
				}
			}
			if replays < len(full.Results) {
				t.Errorf("only %d replays", replays)
			}
		})
	}
}

// A cut-off stream is reported as truncated (stream_truncated), whatever
// the cut lands on.
func TestHostileTruncationsReportedAsTruncated(t *testing.T) {
	streams := validStreams(t)
	type miss struct {
		name, at, err string
	}
	kinds := map[string]miss{} // by reason codes and the last character before the cut
	for _, name := range streamNames(streams) {
		s := streams[name]
		starts := bodyStarts(s)
		for n := 1; n < len(s); n++ {
			_, _, err := cutParse(s, starts, n)
			if err == nil || errors.Is(err, ErrTruncated) {
				continue
			}
			k := fmt.Sprint(ErrorCodes(err), " at ", lastBytes(s[:n], 1))
			if _, seen := kinds[k]; !seen {
				kinds[k] = miss{name, fmt.Sprintf("%d (…%q|%.8q)", n, lastBytes(s[:n], 8), s[n:]), err.Error()}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		m := kinds[k]
		t.Errorf("%s: cut at %s reported as %q, not as truncated", m.name, m.at, m.err)
	}
}

func lastBytes(b []byte, n int) string {
	if len(b) < n {
		return string(b)
	}
	return string(b[len(b)-n:])
}

// Random byte changes (fixed seed): no panic, and a changed event body never
// passes.
func TestHostileByteFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 11))
	streams := validStreams(t)
	for _, name := range streamNames(streams) {
		s := streams[name]
		msgs, err := ParseStream(s)
		if err != nil {
			t.Fatal(err)
		}
		// Byte ranges of the bodies.
		var bodies [][2]int
		pos := 0
		for _, m := range msgs {
			start := strings.Index(string(s[pos:]), string(m.Event.Raw())) + pos
			bodies = append(bodies, [2]int{start, start + m.Event.Size()})
			pos = start + m.Event.Size()
		}
		for i := 0; i < 60; i++ {
			b := slices.Clone(s)
			off := rng.IntN(len(b))
			b[off] ^= byte(1 + rng.IntN(255))
			rep := Replay(b)
			inBody := slices.ContainsFunc(bodies, func(r [2]int) bool { return off >= r[0] && off < r[1] })
			if inBody && rep.OK() {
				t.Errorf("%s: byte %d of a body changed to %q and the stream still passes", name, off, b[off])
			}
		}
	}
}

// Nested -0V groups are parsed with recursion: the stack must not grow with
// the nesting. (8 MB of nested -0V counters after one body exceed Go's 1 GB
// stack limit, a fatal error that no recover() can catch.)
func TestHostileNestedGroupsStack(t *testing.T) {
	key := newTKey("nest")
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(key), Kt: IntThreshold(1), Next: digsOf(key), Nt: IntThreshold(1)})
	const depth = 50000 // 400 KB of counters
	var sb strings.Builder
	sb.Write(icp.Raw())
	for i := 1; i <= depth; i++ {
		sb.WriteString("-0V" + intToB64(2*(depth-i), 5))
	}
	stream := []byte(sb.String())

	var before, after runtime.MemStats
	done := make(chan error)
	runtime.GC()
	runtime.ReadMemStats(&before)
	go func() {
		_, err := ParseStream(stream)
		runtime.ReadMemStats(&after) // while this goroutine's stack is still grown
		done <- err
	}()
	err := <-done
	grown := int64(after.StackInuse) - int64(before.StackInuse)
	t.Logf("%d nested groups: error %v, stack grew by %d KiB", depth, err, grown>>10)
	if grown > 8<<20 {
		t.Errorf("parsing %d bytes of nested -0V groups grew the stack by %d MiB: recursion depth follows the input", len(stream), grown>>20)
	}
}

// An event owns its bytes: overwriting the buffer it was parsed from (as a
// memory-mapped store does when it grows) changes nothing.
func TestParseEventCopiesInput(t *testing.T) {
	m := newTMember("owner", 2)
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(m.keys[0]), Kt: IntThreshold(1), Next: digsOf(m.keys[1]), Nt: IntThreshold(1)})
	buf := icp.Raw()
	ev, err := ParseEvent(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := string(buf)
	for i := range buf {
		buf[i] = 'x'
	}
	if string(ev.Raw()) != want {
		t.Fatalf("event bytes changed with the caller's buffer")
	}
}
