package kel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lukechampine.com/blake3"
)

// Fuzz targets for the two entry points that take untrusted bytes:
// ParseStream (and through it Replay) and ParseEvent. Run them with
//
//	go test -run '^$' -fuzz '^FuzzParseStream$' -fuzztime 1000000x ./kel/
//	go test -run '^$' -fuzz '^FuzzParseEvent$' -fuzztime 1000000x ./kel/
//
// Seeds are every stream and event body of the test vectors plus crafted
// variants; the minimized inputs of past failures and a selection of
// interesting inputs live in testdata/fuzz/<Target>/ and run with go test.
// Random mutations almost never survive a Blake3 SAID or an Ed25519
// signature, so each input is also checked after a repair on the text,
// independent of kel (fzResaid for bodies; fzFixup for streams, which also
// re-links and re-signs with the vectors' seeds): mutated content then
// reaches the event rules, key-state transitions and acceptance.
// FuzzParseThreshold lives in threshold_fuzz_test.go.

// fzRequireSentinel fails unless err wraps one of kel's sentinel errors.
func fzRequireSentinel(t *testing.T, what string, err error) {
	t.Helper()
	found := false
	for _, c := range errorCodes {
		found = found || errors.Is(err, c.err)
	}
	if !found || ErrorCode(err) == "error" {
		t.Fatalf("%s: error wraps no kel sentinel: %v", what, err)
	}
}

// fzCesrFiles lists every .cesr file under the vector folders.
func fzCesrFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"../testdata/vectors", "../testdata/keripy"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".cesr") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.ContainsFunc(files, func(p string) bool { return strings.Contains(p, "group-2of3") }) ||
		!slices.ContainsFunc(files, func(p string) bool { return strings.Contains(p, "keripy_test_weighted_threshold") }) || len(files) < 30 {
		t.Fatalf("vector streams missing: found %d files", len(files))
	}
	return files
}

// fzVectorBodies collects every event body ("raw" string fields) of the JSON
// vector files.
func fzVectorBodies(t testing.TB) [][]byte {
	t.Helper()
	var bodies [][]byte
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			if raw, ok := v["raw"].(string); ok && strings.HasPrefix(raw, "{") {
				bodies = append(bodies, []byte(raw))
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walkVectorJSON(t, walk)
	if len(bodies) < 30 {
		t.Fatalf("only %d event bodies in the vectors", len(bodies))
	}
	return bodies
}

// fzDigest is the qb64 Blake3-256 digest of data, computed here without kel's
// encoder: "E" + base64url(0x00 || digest) minus its first character.
func fzDigest(data []byte) string {
	sum := blake3.Sum256(data)
	return "E" + base64.RawURLEncoding.EncodeToString(append([]byte{0}, sum[:]...))[1:]
}

// fzVerKey is a transferable Ed25519 key's qb64 text, computed without kel.
func fzVerKey(pub ed25519.PublicKey) string {
	return "D" + base64.RawURLEncoding.EncodeToString(append([]byte{0}, pub...))[1:]
}

// fzResaid rewrites what a body's SAID covers, on the text and without the
// parser: the version string's size, d, and i when it equals d (a
// self-addressing inception). Mutated bodies then get past the SAID check and
// exercise everything behind it. It returns nil for text that does not start
// like a KERI 1.0 body.
func fzResaid(raw []byte) []byte {
	const head = `{"v":"KERI10JSON`
	if len(raw) > 0xffffff || !bytes.HasPrefix(raw, []byte(head)) || len(raw) < len(head)+7 {
		return nil
	}
	b := bytes.Clone(raw)
	copy(b[len(head):], fmt.Sprintf("%06x", len(b)))
	d := bytes.Index(b, []byte(`,"d":"`))
	if d < 0 || d+6+44 > len(b) {
		return nil
	}
	d += 6
	i := -1
	if j := bytes.Index(b[d+44:], []byte(`,"i":"`)); j >= 0 {
		j += d + 44 + 6
		if j+44 <= len(b) && bytes.Equal(b[j:j+44], b[d:d+44]) {
			i = j
		}
	}
	copy(b[d:], saidPlaceholder)
	if i >= 0 {
		copy(b[i:], saidPlaceholder)
	}
	said := fzDigest(b)
	copy(b[d:], said)
	if i >= 0 {
		copy(b[i:], said)
	}
	return b
}

// fzSAIDOf recomputes the SAID of a body ParseEvent accepted, without kel:
// d sits right after v and t, and a self-addressing inception's i right after d.
func fzSAIDOf(ev *Event, raw []byte) string {
	b := bytes.Clone(raw)
	d := len(`{"v":"KERI10JSON000000_","t":"`) + len(ev.Ilk()) + len(`","d":"`)
	copy(b[d:], saidPlaceholder)
	if ev.IsInception() && ev.Prefix()[0] == 'E' {
		copy(b[d+44+len(`","i":"`):], saidPlaceholder)
	}
	return fzDigest(b)
}

// fzCraftedBodies are valid bodies for the forms the vectors lack: JSON-number
// thresholds and bt, nested weights, every seal kind, witnesses, traits,
// basic prefixes, big sequence numbers.
func fzCraftedBodies() [][]byte {
	var keys [4]string
	for i := range keys {
		seed := make([]byte, 32)
		seed[0] = byte(i + 1)
		keys[i] = fzVerKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	}
	dig := func(s string) string { return fzDigest([]byte(s)) }
	wit := "B" + keys[3][1:]
	ph := saidPlaceholder
	seals := `[{"d":"` + dig("a") + `"},{"rd":"` + dig("b") + `"},{"i":"` + dig("c") + `","s":"1f","d":"` + dig("d") +
		`"},{"s":"2","d":"` + dig("e") + `"},{"i":"` + keys[0] + `"},{"bi":"` + wit + `","d":"` + dig("f") + `"}]`
	templates := []string{
		`{"v":"KERI10JSON000000_","t":"icp","d":"` + ph + `","i":"` + ph + `","s":"0","kt":2,"k":["` + keys[0] + `","` + keys[1] + `"],"nt":1,"n":["` + dig(keys[2]) + `"],"bt":1,"b":["` + wit + `"],"c":["EO","DND"],"a":[]}`,
		`{"v":"KERI10JSON000000_","t":"icp","d":"` + ph + `","i":"` + ph + `","s":"0","kt":[{"1/2":["1/2","1/2"]},"1/2"],"k":["` + keys[0] + `","` + keys[1] + `","` + keys[2] + `"],"nt":[["1/2","1/2"],["1"]],"n":["` + dig(keys[0]) + `","` + dig(keys[1]) + `","` + dig(keys[2]) + `"],"bt":"0","b":[],"c":[],"a":` + seals + `}`,
		`{"v":"KERI10JSON000000_","t":"icp","d":"` + ph + `","i":"` + keys[0] + `","s":"0","kt":"1","k":["` + keys[0] + `"],"nt":"1","n":["` + dig(keys[1]) + `"],"bt":"0","b":[],"c":[],"a":[]}`,
		`{"v":"KERI10JSON000000_","t":"icp","d":"` + ph + `","i":"` + wit + `","s":"0","kt":"1","k":["` + wit + `"],"nt":"0","n":[],"bt":"0","b":[],"c":[],"a":[]}`,
		`{"v":"KERI10JSON000000_","t":"dip","d":"` + ph + `","i":"` + ph + `","s":"0","kt":"1","k":["` + keys[1] + `"],"nt":"1","n":["` + dig(keys[2]) + `"],"bt":"0","b":[],"c":[],"a":[],"di":"` + dig("delegator") + `"}`,
		`{"v":"KERI10JSON000000_","t":"rot","d":"` + ph + `","i":"` + dig("x") + `","s":"ffffffffffffffff","p":"` + dig("p") + `","kt":"1","k":["` + keys[1] + `"],"nt":"1","n":["` + dig(keys[2]) + `"],"bt":2,"br":["` + wit + `"],"ba":["B` + keys[1][1:] + `","B` + keys[2][1:] + `"],"a":[]}`,
		`{"v":"KERI10JSON000000_","t":"drt","d":"` + ph + `","i":"` + dig("x") + `","s":"1","p":"` + dig("p") + `","kt":"1","k":["` + keys[1] + `"],"nt":"0","n":[],"bt":"0","br":[],"ba":[],"a":[]}`,
		`{"v":"KERI10JSON000000_","t":"ixn","d":"` + ph + `","i":"` + dig("x") + `","s":"a","p":"` + dig("p") + `","a":` + seals + `}`,
	}
	var out [][]byte
	for _, tpl := range templates {
		out = append(out, fzResaid([]byte(tpl)))
	}
	return out
}

func FuzzParseEvent(f *testing.F) {
	for _, b := range fzVectorBodies(f) {
		f.Add(b)
	}
	for _, b := range fzCraftedBodies() {
		f.Add(b)
	}
	for _, p := range fzCesrFiles(f) { // bodies only found in streams (keripy's weighted kel)
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		msgs, _ := ParseStream(b)
		for _, m := range msgs {
			f.Add(m.Event.Raw())
		}
	}
	f.Add([]byte(`{"v":"KERI10JSON000000_","t":"icp"}`))
	f.Add([]byte(`{"v":"KERI10JSON00001a_"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		fzCheckEvent(t, raw)
		if fixed := fzResaid(raw); fixed != nil && !bytes.Equal(fixed, raw) {
			fzCheckEvent(t, fixed)
		}
	})
}

// fzCheckEvent holds FuzzParseEvent's properties for one input.
func fzCheckEvent(t *testing.T, raw []byte) {
	t.Helper()
	in := bytes.Clone(raw)
	ev, err := ParseEvent(raw)
	if !bytes.Equal(raw, in) {
		t.Fatal("ParseEvent modified its input")
	}
	if err != nil {
		if ev != nil {
			t.Fatalf("ParseEvent returned an event with error %v", err)
		}
		fzRequireSentinel(t, "ParseEvent", err)
		return
	}
	if !bytes.Equal(ev.Raw(), raw) || ev.Size() != len(raw) {
		t.Fatalf("Raw() differs from the parsed bytes")
	}
	if want := fzSAIDOf(ev, raw); ev.SAID() != want {
		t.Fatalf("SAID %s, body hashes to %s", ev.SAID(), want)
	}
	if ev.IsInception() && ev.Prefix()[0] == 'E' && ev.Prefix() != ev.SAID() {
		t.Fatalf("self-addressing prefix %s is not the SAID %s", ev.Prefix(), ev.SAID())
	}
	// Parsing the accepted bytes again gives the same event.
	again, err := ParseEvent(ev.Raw())
	if err != nil || again.SAID() != ev.SAID() {
		t.Fatalf("accepted body does not parse again: %v", err)
	}
	// The builders accept every parsed event and, except for the tolerated
	// forms kel warns about and never writes, reproduce its exact bytes.
	out := rebuild(t, ev)
	if !out.Kt().Equal(ev.Kt()) || !out.Nt().Equal(ev.Nt()) || !slices.Equal(out.Keys(), ev.Keys()) ||
		!slices.Equal(out.Next(), ev.Next()) || out.Bt() != ev.Bt() || !slices.Equal(out.Seals(), ev.Seals()) {
		t.Fatalf("rebuilt event has other fields:\n got %s\nfrom %s", out.Raw(), raw)
	}
	fzCheckThresholdWarnings(t, ev, raw)
	tolerated := slices.ContainsFunc(ev.Warnings(), func(w string) bool {
		return strings.HasSuffix(w, "_not_string") || strings.HasSuffix(w, "_noncanonical_weights")
	})
	if !tolerated && (!bytes.Equal(out.Raw(), raw) || out.SAID() != ev.SAID()) {
		t.Fatalf("accepted without a warning, but rebuilds differently (SAID %s vs %s):\n got %s\nfrom %s",
			out.SAID(), ev.SAID(), out.Raw(), raw)
	}
}

// fzCheckThresholdWarnings: an establishment event carries
// threshold_noncanonical_weights (next_threshold_… for nt) exactly when its
// weighted kt (nt) is not written the way kel writes it, and
// threshold_not_string (next_threshold_…) exactly when it is a JSON number.
// The raw field text comes from encoding/json, not from kel's parser.
func fzCheckThresholdWarnings(t *testing.T, ev *Event, raw []byte) {
	t.Helper()
	if !ev.IsEstablishment() {
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("accepted body is not json to encoding/json: %v", err)
	}
	for _, th := range []struct {
		label, warning string
		canonical      string
	}{{"kt", "threshold", ev.Kt().String()}, {"nt", "next_threshold", ev.Nt().String()}} {
		text := string(fields[th.label])
		number := text != "" && text[0] != '"' && text[0] != '['
		noncanonical := text != "" && text[0] == '[' && text != th.canonical
		if number != slices.Contains(ev.Warnings(), th.warning+"_not_string") {
			t.Fatalf("%s %s: warnings %v", th.label, text, ev.Warnings())
		}
		if noncanonical != slices.Contains(ev.Warnings(), th.warning+"_noncanonical_weights") {
			t.Fatalf("%s %s (canonical %s): warnings %v", th.label, text, th.canonical, ev.Warnings())
		}
	}
}

// fzStreamSeeds are the vector streams, crafted attachments and truncated or
// mutated copies.
func fzStreamSeeds(t testing.TB) [][]byte {
	t.Helper()
	var seeds [][]byte
	var kel []byte
	for _, p := range fzCesrFiles(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
		if strings.HasSuffix(p, "d_2of2_rotation.kel.cesr") {
			kel = b
		}
	}
	if kel == nil {
		t.Fatal("d_2of2_rotation.kel.cesr not found")
	}
	msgs, err := ParseStream(kel)
	if err != nil || len(msgs) < 2 {
		t.Fatalf("d_2of2_rotation: %d messages, %v", len(msgs), err)
	}
	body := msgs[0].Event.Raw()
	sigs := string(msgs[0].Bytes()[len(body):])
	sig := msgs[0].Sigs[0].Qb64()
	zeros := func(code string, n int) string { return code + strings.Repeat("A", n-len(code)) }
	for _, att := range []string{
		sigs + "-EAB" + zeros("0A", 24) + "1AAG2020-08-22T17c50c09d988921p00c00", // first seen
		sigs + "-CAB" + zeros("B", 44) + zeros("0B", 88),                         // non-transferable receipt
		sigs + "-DAB" + zeros("E", 44) + zeros("0A", 24) + zeros("E", 44) + sig,  // transferable receipt
		sigs + "-LAB" + "AAAA",     // pathed material
		sigs + "-0VAAAAB" + "-LAA", // big attachment group
		sigs + "-BAB" + sig,        // witness signature without witnesses
		sigs + "-GAB" + zeros("0A", 24) + zeros("E", 44),
		"-VAi" + sigs,                    // group with a wrong size
		"-AAB" + zeros("0A", 156),        // Ed448 indexed signature
		"-AAB2AAAAB" + sig[2:],           // big code, ondex 1 for index 0
		"-AAB2BAAAB" + sig[2:],           // 2B with an ondex
		"-AAB" + sig[:2] + "_" + sig[3:], // non-zero pad bits
		"-AAA",                           // empty group
		"-ZAB" + sig,                     // unknown counter
	} {
		seeds = append(seeds, append(bytes.Clone(body), att...))
	}
	for _, n := range []int{1, len(body) / 2, len(body) - 1, len(body), len(body) + 3, len(kel) - 1} {
		seeds = append(seeds, bytes.Clone(kel[:n]))
	}
	flipped := bytes.Clone(kel)
	flipped[len(body)+10] ^= 1 // inside the first signature
	seeds = append(seeds, flipped)
	seeds = append(seeds, append(bytes.Clone(kel), kel...)) // every event twice
	return seeds
}

// fzSigners maps every public key of the vectors (D and B forms) to its
// private key, from the seeds in the JSON files.
func fzSigners(t testing.TB) map[string]ed25519.PrivateKey {
	t.Helper()
	out := map[string]ed25519.PrivateKey{}
	add := func(seed []byte) {
		priv := ed25519.NewKeyFromSeed(seed)
		pub := fzVerKey(priv.Public().(ed25519.PublicKey))
		out[pub], out["B"+pub[1:]] = priv, priv
	}
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			for k, e := range v {
				s, ok := e.(string)
				switch {
				case ok && strings.Contains(k, "seed") && len(s) == 44 && s[0] == 'A':
					if b, err := base64.RawURLEncoding.DecodeString("A" + s[1:]); err == nil && b[0] == 0 {
						add(b[1:])
					}
				case ok && strings.Contains(k, "seed") && len(s) == 64:
					if b, err := hex.DecodeString(s); err == nil {
						add(b)
					}
				default:
					walk(e)
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walkVectorJSON(t, walk)
	return out
}

// fzFixup repairs what mutations break beyond the framing, so that mutated
// streams still reach the key-state and signature rules: each body gets its
// size and SAID recomputed (fzResaid), later text naming an old SAID (i, p,
// seals, di, -G couples) is rewritten to the new one, and -A signatures are
// re-made over the new body with the key the verifier will use (k of an
// establishment event, else the identifier's latest k) when the vectors hold
// its seed. It works on the text, without kel; it stops fixing at the first
// body that is not a JSON object and copies the rest as is.
func fzFixup(data []byte, signers map[string]ed25519.PrivateKey) []byte {
	type fields struct {
		D, I, T string
		K       []string
	}
	var out []byte
	var renamed [][2]string // old SAID, new SAID, in the order made
	keys := map[string][]string{}
	rename := func(b []byte) []byte {
		for _, r := range renamed {
			b = bytes.ReplaceAll(b, []byte(r[0]), []byte(r[1]))
		}
		return b
	}
	for pos := 0; pos < len(data); {
		if data[pos] != '{' {
			return append(out, data[pos:]...)
		}
		dec := json.NewDecoder(bytes.NewReader(data[pos:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(out, data[pos:]...)
		}
		end := pos + int(dec.InputOffset())
		body := rename(bytes.Clone(data[pos:end]))
		if fixed := fzResaid(body); fixed != nil {
			var before, after fields
			_ = json.Unmarshal(body, &before)
			_ = json.Unmarshal(fixed, &after)
			for _, r := range [][2]string{{before.D, after.D}, {before.I, after.I}} {
				if len(r[0]) == 44 && len(r[1]) == 44 && r[0] != r[1] {
					renamed = append(renamed, r)
				}
			}
			body = fixed
		}
		var f fields
		_ = json.Unmarshal(body, &f)
		if f.T != "ixn" && f.K != nil {
			keys[f.I] = f.K
		}
		out = append(out, body...)
		next := bytes.IndexByte(data[end:], '{')
		if next < 0 {
			next = len(data) - end
		}
		out = append(out, fzResign(rename(bytes.Clone(data[end:end+next])), body, keys[f.I], signers)...)
		pos = end + next
	}
	return out
}

// fzResign re-makes the signatures of the -A groups in att over body; it
// stops at the first counter or code it does not know.
func fzResign(att, body []byte, keys []string, signers map[string]ed25519.PrivateKey) []byte {
	for p := 0; p+4 <= len(att); {
		switch {
		case bytes.HasPrefix(att[p:], []byte("-0V")):
			p += 8
		case bytes.HasPrefix(att[p:], []byte("-V")):
			p += 4
		case bytes.HasPrefix(att[p:], []byte("-A")):
			n := fzB64Int(string(att[p+2 : p+4]))
			p += 4
			for i := 0; i < n; i++ {
				var cs, fs, index int
				switch {
				case p+88 <= len(att) && (att[p] == 'A' || att[p] == 'B'):
					cs, fs, index = 2, 88, fzB64Int(string(att[p+1:p+2]))
				case p+92 <= len(att) && att[p] == '2' && (att[p+1] == 'A' || att[p+1] == 'B'):
					cs, fs, index = 6, 92, fzB64Int(string(att[p+2:p+4]))
				default:
					return att
				}
				if index >= 0 && index < len(keys) {
					if priv, ok := signers[keys[index]]; ok {
						sig := ed25519.Sign(priv, body)
						copy(att[p+cs:p+fs], base64.RawURLEncoding.EncodeToString(append([]byte{0, 0}, sig...))[2:])
					}
				}
				p += fs
			}
		default:
			return att
		}
	}
	return att
}

// fzB64Int reads Base64url digits as a number (-1 if any is not one).
func fzB64Int(s string) int {
	n := 0
	for _, c := range []byte(s) {
		i := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", c)
		if i < 0 {
			return -1
		}
		n = n<<6 | i
	}
	return n
}

func FuzzParseStream(f *testing.F) {
	for _, s := range fzStreamSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	signers := fzSigners(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fzCheckStream(t, data)
		if fixed := fzFixup(data, signers); !bytes.Equal(fixed, data) {
			fzCheckStream(t, fixed)
		}
	})
}

// fzCheckStream holds FuzzParseStream's properties for one input.
func fzCheckStream(t *testing.T, data []byte) {
	t.Helper()
	in := bytes.Clone(data)
	msgs, err := ParseStream(data)
	if !bytes.Equal(data, in) {
		t.Fatal("ParseStream modified its input")
	}
	if err != nil {
		fzRequireSentinel(t, "ParseStream", err)
	} else if len(data) > 0 && len(msgs) == 0 {
		t.Fatal("non-empty stream gave no message and no error")
	}
	var again []byte
	clean := true // every message's attachments were all usable
	for i, m := range msgs {
		fzCheckRoundTrip(t, i, m)
		again = append(again, m.Bytes()...)
		clean = clean && m.attachErr == nil
	}

	rep := Replay(data)
	if len(rep.Results) != len(msgs) {
		t.Fatalf("Replay: %d results for %d messages", len(rep.Results), len(msgs))
	}
	if (rep.Err == nil) != (err == nil) {
		t.Fatalf("Replay error %v, ParseStream error %v", rep.Err, err)
	}
	if rep.Err != nil {
		fzRequireSentinel(t, "Replay", rep.Err)
	}
	anyOK := false
	for i, r := range rep.Results {
		if r.SAID != msgs[i].Event.SAID() || r.Prefix != msgs[i].Event.Prefix() || r.Sn != msgs[i].Event.Sn() {
			t.Fatalf("result %d names %s sn %d %s, message is %s", i, r.Prefix, r.Sn, r.SAID, msgs[i].Event.SAID())
		}
		if r.Err != nil {
			fzRequireSentinel(t, fmt.Sprintf("result %d", i), r.Err)
			var ee *EventError
			if !errors.As(r.Err, &ee) || ee.SAID != r.SAID {
				t.Fatalf("result %d: error does not name its event: %v", i, r.Err)
			}
		}
		anyOK = anyOK || r.OK()
	}
	if _, err := json.Marshal(rep.States); err != nil {
		t.Fatalf("key states do not marshal: %v", err)
	}
	if anyOK {
		fzCheckAccepted(t, data, rep)
	}
	// The re-encoded stream means the same: same verdicts, reasons and
	// warnings, message by message.
	if clean && len(msgs) > 0 {
		rep2 := Replay(again)
		if rep2.Err != nil || len(rep2.Results) != len(rep.Results) {
			t.Fatalf("re-encoded stream: %d results, error %v", len(rep2.Results), rep2.Err)
		}
		for i, r := range rep.Results {
			r2 := rep2.Results[i]
			if r.OK() != r2.OK() || !slices.Equal(ErrorCodes(r.Err), ErrorCodes(r2.Err)) || !slices.Equal(r.Warnings, r2.Warnings) {
				t.Fatalf("message %d: verdict %v %v %v, re-encoded %v %v %v", i,
					r.OK(), ErrorCodes(r.Err), r.Warnings, r2.OK(), ErrorCodes(r2.Err), r2.Warnings)
			}
		}
	}
}

// fzCheckRoundTrip: Message.Bytes() parses back to one message with the
// same event and the same attachments.
func fzCheckRoundTrip(t *testing.T, i int, m Message) {
	t.Helper()
	b := m.Bytes()
	back, err := ParseStream(b)
	if err != nil || len(back) != 1 {
		t.Fatalf("message %d: re-encoding gives %d messages, error %v:\n%s", i, len(back), err, b)
	}
	got := back[0]
	if got.Event.SAID() != m.Event.SAID() || !bytes.Equal(got.Event.Raw(), m.Event.Raw()) {
		t.Fatalf("message %d: re-encoded event %s, was %s", i, got.Event.SAID(), m.Event.SAID())
	}
	if !fzEqualSigers(got.Sigs, m.Sigs) || !fzEqualSigers(got.Wigs, m.Wigs) {
		t.Fatalf("message %d: re-encoded signatures differ", i)
	}
	if len(m.Sources) > 0 && (len(got.Sources) != 1 || got.Sources[0] != m.Sources[len(m.Sources)-1]) {
		t.Fatalf("message %d: re-encoded source %v, was %v", i, got.Sources, m.Sources)
	}
	if got.attachErr != nil {
		t.Fatalf("message %d: re-encoded attachments are refused: %v", i, got.attachErr)
	}
	ev, err := ParseEvent(m.Event.Raw())
	if err != nil || ev.SAID() != m.Event.SAID() {
		t.Fatalf("message %d: body does not parse on its own: %v", i, err)
	}
}

func fzEqualSigers(a, b []Siger) bool {
	return slices.EqualFunc(a, b, func(x, y Siger) bool {
		return x.Code == y.Code && x.Index == y.Index && x.Ondex == y.Ondex && x.HasOndex == y.HasOndex && bytes.Equal(x.Sig, y.Sig)
	})
}

// fzCheckAccepted: every accepted event re-parses byte for byte, and the
// identifiers' exported KELs (superseded events included) replay, in any
// order of identifiers, to the same events and states.
func fzCheckAccepted(t *testing.T, data []byte, rep Report) {
	t.Helper()
	v := NewVerifier()
	res, _ := v.AcceptStream(data)
	res = Settle(res)
	for i := range res {
		if res[i].OK() != rep.Results[i].OK() {
			t.Fatalf("message %d: Replay and AcceptStream disagree", i)
		}
	}
	if !slices.Equal(v.Prefixes(), rep.Prefixes) {
		t.Fatalf("prefixes %v, Replay reported %v", v.Prefixes(), rep.Prefixes)
	}
	var exports [][]byte
	for _, p := range v.Prefixes() {
		for sn, m := range v.Messages(p) {
			ev, err := ParseEvent(m.Event.Raw())
			if err != nil || ev.SAID() != m.Event.SAID() || !bytes.Equal(ev.Raw(), m.Event.Raw()) || ev.Sn() != uint64(sn) {
				t.Fatalf("accepted %s sn %d does not re-parse: %v", p, sn, err)
			}
		}
		exports = append(exports, v.Export(p))
	}
	slices.Reverse(exports) // delegates before their delegators: the order must not matter
	alone := Replay(exports...)
	if !alone.OK() {
		t.Fatalf("exported kels do not replay: %v", alone.Err)
	}
	for _, p := range v.Prefixes() {
		want, _ := json.Marshal(rep.States[p])
		got, _ := json.Marshal(alone.States[p])
		if string(got) != string(want) {
			t.Fatalf("state of %s from its exported kel:\n got %s\nwant %s", p, got, want)
		}
	}
}

// TestFuzzSeedsParse keeps the seed builders honest: the crafted bodies all
// parse (their forms must reach the checks behind the SAID), and the vector
// streams replay.
func TestFuzzSeedsParse(t *testing.T) {
	for i, b := range fzCraftedBodies() {
		if _, err := ParseEvent(b); err != nil {
			t.Errorf("crafted body %d: %v\n%s", i, err, b)
		}
	}
	for _, b := range fzVectorBodies(t) {
		if _, err := ParseEvent(b); err != nil {
			t.Errorf("vector body: %v\n%s", err, b)
		}
	}
	if n := len(fzStreamSeeds(t)); n < 50 {
		t.Errorf("only %d stream seeds", n)
	}
}

// TestResaidIndependent checks the fuzz helper against the vectors: fzResaid
// leaves a correct body unchanged.
func TestResaidIndependent(t *testing.T) {
	for _, b := range fzVectorBodies(t) {
		if got := fzResaid(b); !bytes.Equal(got, b) {
			t.Errorf("fzResaid changed a vector body:\n got %s\nwant %s", got, b)
		}
	}
}

// TestFuzzFixup checks the stream repair helper: it leaves the valid vector
// streams byte for byte as they are (same SAIDs, deterministic Ed25519
// signatures by the right keys), and turns a stream whose inception was
// edited into a valid stream of a new identifier.
func TestFuzzFixup(t *testing.T) {
	signers := fzSigners(t)
	var index struct {
		Vectors []struct {
			Streams []struct {
				File  string `json:"file"`
				Valid bool   `json:"valid"`
			} `json:"streams"`
		} `json:"vectors"`
	}
	readJSON(t, "../testdata/vectors/index.json", &index)
	n := 0
	for _, v := range index.Vectors {
		for _, st := range v.Streams {
			if !st.Valid {
				continue
			}
			b, err := os.ReadFile(filepath.Join("../testdata/vectors", st.File))
			if err != nil {
				t.Fatal(err)
			}
			if got := fzFixup(b, signers); !bytes.Equal(got, b) {
				t.Errorf("%s: fzFixup changed a valid stream", st.File)
			}
			n++
		}
	}
	if n < 15 {
		t.Fatalf("only %d valid streams", n)
	}
	orig, err := os.ReadFile("../testdata/vectors/d_2of2_rotation.kel.cesr")
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(orig, []byte(`"kt":"2"`), []byte(`"kt":"1"`), 1)
	if bytes.Equal(edited, orig) || Replay(edited).Err == nil {
		t.Fatal("the edit should break the stream")
	}
	rep := Replay(fzFixup(edited, signers))
	want := Replay(orig)
	if !rep.OK() || len(rep.Results) != len(want.Results) || rep.Prefixes[0] == want.Prefixes[0] {
		t.Fatalf("repaired stream: ok %v, %d results, prefixes %v (was %v): %v", rep.OK(), len(rep.Results), rep.Prefixes, want.Prefixes, rep.Err)
	}
}

// TestMessageBytesManySignatures: a message may carry more signatures than
// one -A group can count (4095), spread over several groups. Whatever count
// the parser lets through must survive Message.Bytes and Verifier.Export
// (no panic, the same signatures back); a count it refuses must be refused
// with a sentinel framing error. Duplicates of one valid signature are
// accepted (counted once, with a warning), so the message is otherwise valid.
func TestMessageBytesManySignatures(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	key := fzVerKey(priv.Public().(ed25519.PublicKey))
	ev, err := Incept(InceptionOptions{Keys: []string{key}, Kt: IntThreshold(1), Next: []string{fzDigest([]byte(key))}, Nt: IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := NewSiger(ed25519.Sign(priv, ev.Raw()), 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, second := range []int{1, 2, 64} { // 4096, 4097 and 4159 signatures
		total := MaxSigIndex + second
		var sb strings.Builder
		sb.Write(ev.Raw())
		sb.WriteString("-A__") // 4095
		sb.WriteString(strings.Repeat(sg.Qb64(), MaxSigIndex))
		sb.WriteString(Counter{Code: CtrControllerSigs, Count: second}.Qb64())
		sb.WriteString(strings.Repeat(sg.Qb64(), second))
		v := NewVerifier()
		res, err := v.AcceptStream([]byte(sb.String()))
		if err != nil {
			fzRequireSentinel(t, "many signatures", err)
			if len(res) != 0 {
				t.Errorf("%d signatures: refused stream still gave %d results", total, len(res))
			}
			t.Logf("%d signatures: refused: %v", total, err)
			continue
		}
		if len(res) != 1 || !res[0].OK() {
			t.Fatalf("%d signatures: %+v", total, res)
		}
		if m := v.Messages(ev.Prefix()); len(m) != 1 || len(m[0].Sigs) != total {
			t.Fatalf("accepted message does not carry the %d signatures", total)
		}
		var out []byte
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Verifier.Export panics on an accepted message with %d signatures: %v", total, r)
				}
			}()
			out = v.Export(ev.Prefix())
		}()
		back, err := ParseStream(out)
		if err != nil || len(back) != 1 || !fzEqualSigers(back[0].Sigs, v.Messages(ev.Prefix())[0].Sigs) {
			t.Fatalf("%d signatures: exported stream does not parse back to the message: %v", total, err)
		}
	}
}

// walkVectorJSON hands the decoded contents of every JSON file under
// testdata/vectors and testdata/keripy to walk.
func walkVectorJSON(t testing.TB, walk func(any)) {
	t.Helper()
	for _, root := range []string{"../testdata/vectors", "../testdata/keripy"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var x any
			if err := json.Unmarshal(b, &x); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			walk(x)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
