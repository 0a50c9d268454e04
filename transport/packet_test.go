package transport

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// testKeys returns a deterministic key, its qb64 and a signer.
func testKeys(seedByte byte) (string, func([]byte) ([]byte, error)) {
	pub, sign := testCardKeys(seedByte)
	return kel.EncodeVerKey(pub), sign
}

// testStream is a signed 1-of-1 inception as CESR, and the event.
func testStream(t testing.TB) ([]byte, *kel.Event) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	key := kel.EncodeVerKey(priv.Public().(ed25519.PublicKey))
	nextKey, _ := testKeys(8)
	ev, err := kel.Incept(kel.InceptionOptions{Keys: []string{key}, Kt: kel.IntThreshold(1),
		Next: []string{kel.NextDigest(nextKey)}, Nt: kel.IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := kel.NewSiger(ed25519.Sign(priv, ev.Raw()), 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return kel.NewMessage(ev, []kel.Siger{sig}).Bytes(), ev
}

func testContribution(t testing.TB) Contribution {
	t.Helper()
	_, ev := testStream(t)
	signer, sign := testKeys(1)
	revealed, _ := testKeys(2)
	fresh, _ := testKeys(3)
	c, err := NewContribution(Contribution{Group: ev.Prefix(), Contribution: ceremony.Contribution{Label: "alice", Role: ceremony.RoleRotate, Key: revealed,
		Next: kel.NextDigest(fresh), Signer: signer}}, sign)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testSignatures(t testing.TB) Signatures {
	t.Helper()
	stream, ev := testStream(t)
	msgs, err := kel.ParseStream(stream)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSignatures(Signatures{Ceremony: "c0123456789abcdef01234567", AID: ev.Prefix(), Sn: 0, SAID: ev.SAID(),
		Signer: "alice", Sigs: []string{msgs[0].Sigs[0].Qb64()}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testAbort(t testing.TB) Abort {
	t.Helper()
	_, ev := testStream(t)
	key, sign := testKeys(1)
	a, err := NewAbort(Abort{Ceremony: "c0123456789abcdef01234567", AID: ev.Prefix(), Sn: 0, SAID: ev.SAID(),
		Reason: "bob's device was lost", By: "alice", Key: key}, sign)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// testCeremonyProposal is alice's signed proposal of a 1-of-1 inception
// of her card.
func testCeremonyProposal(t testing.TB) ceremony.Proposal {
	t.Helper()
	card := testCard(t)
	one := kel.IntThreshold(1)
	cp, err := ceremony.ProposeInception(ceremony.InceptionParams{Members: []ceremony.Card{card.Card}, Kt: one, Nt: one})
	if err != nil {
		t.Fatal(err)
	}
	cp.ID = "c1"
	_, sign := testCardKeys(1)
	if err := cp.Sign(ceremony.Proposer{Group: "team", Label: "alice", Key: card.Key}, sign); err != nil {
		t.Fatal(err)
	}
	return cp
}

func testProposal(t testing.TB) Proposal {
	t.Helper()
	stream, _ := testStream(t)
	p, err := NewProposal(testCeremonyProposal(t), stream)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testPackets has one packet of every kind.
func testPackets(t testing.TB) map[PacketType][]byte {
	stream, _ := testStream(t)
	return map[PacketType][]byte{
		PacketCard:         testCard(t).Marshal(),
		PacketContribution: testContribution(t).Marshal(),
		PacketProposal:     testProposal(t).Marshal(),
		PacketSignatures:   testSignatures(t).Marshal(),
		PacketAbort:        testAbort(t).Marshal(),
		PacketCESR:         stream,
	}
}

func TestPacketRoundTrip(t *testing.T) {
	for typ, b := range testPackets(t) {
		got, err := Sniff(b)
		if err != nil || got != typ {
			t.Errorf("Sniff(%s) = %q, %v", typ, got, err)
		}
		p, err := ParsePacket(b)
		if err != nil {
			t.Fatalf("ParsePacket(%s): %v\n%s", typ, err, b)
		}
		if p.PacketType() != typ || !bytes.Equal(p.Marshal(), b) {
			t.Errorf("%s: round trip gives %q\nwant %q", typ, p.Marshal(), b)
		}
		if _, err := ParsePacketAs(b, typ); err != nil {
			t.Errorf("ParsePacketAs(%s): %v", typ, err)
		}
	}
	c := testContribution(t)
	want := `{"type":"keremony/rotation-contribution","v":1,"group":"` + c.Group + `","label":"alice","role":"rotate","key":"` + c.Key +
		`","next":"` + c.Next + `","signer":"` + c.Signer + `","sig":"` + c.Sig + "\"}\n"
	if string(c.Marshal()) != want {
		t.Errorf("contribution:\n%s\nwant\n%s", c.Marshal(), want)
	}
	s := testSignatures(t)
	want = `{"type":"keremony/signatures","v":1,"ceremony":"c0123456789abcdef01234567","aid":"` + s.AID + `","sn":0,"said":"` + s.SAID +
		`","signer":"alice","sigs":["` + s.Sigs[0] + "\"]}\n"
	if string(s.Marshal()) != want {
		t.Errorf("signatures:\n%s\nwant\n%s", s.Marshal(), want)
	}
	p := testProposal(t)
	if !strings.HasPrefix(string(p.Marshal()), `{"type":"keremony/proposal","v":1,"proposal":{"format":"keremony-proposal/1"`) ||
		!strings.Contains(string(p.Marshal()), `"proposer":{"group":"team","label":"alice","key":"`+testCard(t).Key+`","sig":"0B`) ||
		p.Group != "team" || p.From != "alice" {
		t.Errorf("proposal: %s", p.Marshal())
	}
	// A proposal without a KEL leaves the field out.
	bare, err := NewProposal(testCeremonyProposal(t), nil)
	if err != nil || strings.Contains(string(bare.Marshal()), `"kel"`) {
		t.Errorf("bare proposal %s %v", bare.Marshal(), err)
	}
	// An unsigned proposal is no packet.
	unsigned := testCeremonyProposal(t)
	unsigned.Proposer = nil
	if _, err := NewProposal(unsigned, nil); !errors.Is(err, ErrBadPacketSignature) || !errors.Is(err, ceremony.ErrUnsigned) {
		t.Errorf("unsigned proposal: %v", err)
	}
}

func TestPacketFrameTypes(t *testing.T) {
	want := map[PacketType]FrameType{PacketProposal: TypeEvents, PacketSignatures: TypeSignature, PacketCESR: TypeKEL,
		PacketCard: TypeCard, PacketContribution: TypeFile, PacketAbort: TypeFile}
	for typ, ft := range want {
		if got := typ.FrameType(); got != ft {
			t.Errorf("%s.FrameType() = %s, want %s", typ, got, ft)
		}
	}
	// A packet is the same bytes after a trip through KC1 frames.
	for typ, b := range testPackets(t) {
		seq, err := EncodeFrames(typ.FrameType(), b, 100)
		if err != nil {
			t.Fatal(err)
		}
		r := NewReceiver()
		for i := 0; !r.Progress().Done; i++ {
			if _, err := r.Add(seq.Frame(i)); err != nil {
				t.Fatal(err)
			}
		}
		ft, msg, _ := r.Message()
		if ft != typ.FrameType() || !bytes.Equal(msg, b) {
			t.Errorf("%s through frames: type %s, equal %v", typ, ft, bytes.Equal(msg, b))
		}
		if got, err := Sniff(msg); err != nil || got != typ {
			t.Errorf("Sniff after frames: %s %v", got, err)
		}
	}
}

// hostile is one hostile input and the error it must give.
type hostile struct {
	name string
	in   string
	want error
}

func runHostile(t *testing.T, parse func([]byte) error, cases []hostile) {
	t.Helper()
	for _, c := range cases {
		err := parse([]byte(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

func TestSniffHostile(t *testing.T) {
	runHostile(t, func(b []byte) error { _, err := Sniff(b); return err }, []hostile{
		{"empty", "", ErrUnknownPacket},
		{"white space", " \n\t", ErrUnknownPacket},
		{"garbage", "\x00\x01garbage", ErrUnknownPacket},
		{"list", `["keremony/signatures"]`, ErrUnknownPacket},
		{"no type", `{"v":1}`, ErrUnknownPacket},
		{"type not a string", `{"type":1}`, ErrUnknownPacket},
		{"unknown type", `{"type":"keremony/unknown","v":1}`, ErrUnknownPacket},
		{"cesr by name", `{"type":"cesr"}`, ErrUnknownPacket},
		{"broken json", `{"type":"keremony/abort",`, ErrUnknownPacket},
		{"cbor event", `{"v":"KERI10CBOR000000_"}`, ErrUnknownPacket},
		{"bom", "\xef\xbb\xbf{\"type\":\"keremony/abort\"}", ErrUnknownPacket},
		{"huge", strings.Repeat(" ", MaxPacketSize+1), ErrPacketTooLarge},
		{"big card", `{"type":"keremony/member-card","pad":"` + strings.Repeat(" ", MaxCardSize) + `"}`, ErrPacketTooLarge},
		{"big envelope", `{"type":"keremony/signatures","x":"` + strings.Repeat("a", MaxSignaturesSize) + `"}`, ErrPacketTooLarge},
	})
	if typ, err := Sniff([]byte("\n  " + string(testAbort(t).Marshal()))); err != nil || typ != PacketAbort {
		t.Errorf("leading white space: %s %v", typ, err)
	}
}

// mutate replaces the first occurrence of old in the packet.
func mutate(t *testing.T, b []byte, old, new string) string {
	t.Helper()
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%q not in %s", old, b)
	}
	return strings.Replace(string(b), old, new, 1)
}

// commonHostile applies to every JSON packet kind.
func commonHostile(t *testing.T, b []byte, typ PacketType) []hostile {
	other := `"type":"keremony/abort"`
	if typ == PacketAbort {
		other = `"type":"keremony/signatures"`
	}
	stream, _ := testStream(t)
	return []hostile{
		{"garbage", "garbage", ErrMalformedPacket},
		{"empty", "", ErrMalformedPacket},
		{"oversized", string(b[:len(b)-2]) + `,"pad":"` + strings.Repeat("x", typ.MaxSize()) + `"}`, ErrPacketTooLarge},
		{"version 2", mutate(t, b, `"v":1`, `"v":2`), ErrUnsupportedPacketVersion},
		{"version 2 with a new field", mutate(t, b, `"v":1`, `"v":2,"new":true`), ErrUnsupportedPacketVersion},
		{"version as string", mutate(t, b, `"v":1`, `"v":"1"`), ErrMalformedPacket},
		{"version 01", mutate(t, b, `"v":1`, `"v":01`), ErrMalformedPacket},
		{"version -1", mutate(t, b, `"v":1`, `"v":-1`), ErrMalformedPacket},
		{"no version", mutate(t, b, `"v":1,`, ``), ErrMalformedPacket},
		{"unknown field", mutate(t, b, `"v":1`, `"v":1,"extra":"x"`), ErrMalformedPacket},
		{"field in other case", mutate(t, b, `"v":1`, `"v":1,"Type":"x"`), ErrMalformedPacket},
		{"repeated field", mutate(t, b, `"v":1`, `"v":1,"v":1`), ErrMalformedPacket},
		{"trailing data", string(b) + "{}", ErrMalformedPacket},
		{"truncated", string(b[:len(b)/2]), ErrMalformedPacket},
		{"another kind", mutate(t, b, `"type":"`+string(typ)+`"`, other), ErrWrongPacketType},
		{"unknown kind", mutate(t, b, `"type":"`+string(typ)+`"`, `"type":"keremony/x"`), ErrUnknownPacket},
		{"a cesr stream", string(stream), ErrWrongPacketType},
	}
}

func TestParseContributionHostile(t *testing.T) {
	c := testContribution(t)
	b := c.Marshal()
	other, sign := testKeys(9)
	forged, _ := NewContribution(Contribution{Group: c.Group, Contribution: ceremony.Contribution{Label: "alice", Role: ceremony.RoleRotate, Key: c.Key, Next: c.Next, Signer: other}}, sign)
	cases := append(commonHostile(t, b, PacketContribution),
		hostile{"changed next digest", mutate(t, b, c.Next, kel.NextDigest(c.Key)), ErrBadPacketSignature},
		hostile{"changed label", mutate(t, b, `"label":"alice"`, `"label":"mallory"`), ErrBadPacketSignature},
		hostile{"signature of another signer", mutate(t, b, c.Sig, forged.Sig), ErrBadPacketSignature},
		hostile{"unknown role", mutate(t, b, `"role":"rotate"`, `"role":"boss"`), ErrMalformedPacket},
		hostile{"role not a string", mutate(t, b, `"role":"rotate"`, `"role":1`), ErrMalformedPacket},
		hostile{"empty prior", mutate(t, b, `"role"`, `"prior":"","role"`), ErrMalformedPacket},
		hostile{"key is a digest", mutate(t, b, c.Key, c.Next), ErrMalformedPacket},
		hostile{"group not a prefix", mutate(t, b, c.Group, "team"), ErrMalformedPacket},
		hostile{"label with newline", mutate(t, b, `"label":"alice"`, `"label":"al\nice"`), ErrMalformedPacket},
		hostile{"label with ESC", mutate(t, b, `"label":"alice"`, `"label":"\u001b]0;x\u0007alice"`), ErrMalformedPacket},
		hostile{"label with a bidi override", mutate(t, b, `"label":"alice"`, `"label":"ali\u202ece"`), ErrMalformedPacket},
		hostile{"label with a zero-width space", mutate(t, b, `"label":"alice"`, `"label":"al\u200bice"`), ErrMalformedPacket},
		hostile{"long label", mutate(t, b, `"label":"alice"`, `"label":"`+strings.Repeat("a", 65)+`"`), ErrMalformedPacket},
		hostile{"no signer", mutate(t, b, `"signer":"`+c.Signer+`",`, ``), ErrMalformedPacket},
		hostile{"bad sig encoding", mutate(t, b, c.Sig, "0B"+c.Sig[3:]), ErrMalformedPacket},
	)
	runHostile(t, func(b []byte) error { _, err := ParseContribution(b); return err }, cases)
	runHostile(t, func(b []byte) error { _, err := ParsePacketAs(b, PacketContribution); return err }, cases[4:])
}

func TestParseSignaturesHostile(t *testing.T) {
	s := testSignatures(t)
	b := s.Marshal()
	sig := s.Sigs[0]
	cases := append(commonHostile(t, b, PacketSignatures),
		hostile{"no signatures", mutate(t, b, `["`+sig+`"]`, `[]`), ErrMalformedPacket},
		hostile{"null signatures", mutate(t, b, `["`+sig+`"]`, `null`), ErrMalformedPacket},
		hostile{"signatures not strings", mutate(t, b, `["`+sig+`"]`, `[1]`), ErrMalformedPacket},
		hostile{"same index twice", mutate(t, b, `"`+sig+`"`, `"`+sig+`","`+sig+`"`), ErrMalformedPacket},
		hostile{"signature with tail", mutate(t, b, sig, sig+"AAAA"), ErrMalformedPacket},
		hostile{"truncated signature", mutate(t, b, sig, sig[:80]), ErrMalformedPacket},
		hostile{"non-indexed signature", mutate(t, b, sig, "0B"+sig[2:]), ErrMalformedPacket},
		hostile{"negative sn", mutate(t, b, `"sn":0`, `"sn":-1`), ErrMalformedPacket},
		hostile{"fractional sn", mutate(t, b, `"sn":0`, `"sn":0.5`), ErrMalformedPacket},
		hostile{"hex sn", mutate(t, b, `"sn":0`, `"sn":"0"`), ErrMalformedPacket},
		hostile{"huge sn", mutate(t, b, `"sn":0`, `"sn":18446744073709551616`), ErrMalformedPacket},
		hostile{"bad ceremony id", mutate(t, b, `"ceremony":"c0123456789abcdef01234567"`, `"ceremony":"../x"`), ErrMalformedPacket},
		hostile{"said not a digest", mutate(t, b, s.SAID, "E"+s.SAID[2:]), ErrMalformedPacket},
		hostile{"no signer", mutate(t, b, `"signer":"alice"`, `"signer":""`), ErrMalformedPacket},
	)
	runHostile(t, func(b []byte) error { _, err := ParseSignatures(b); return err }, cases)
}

func TestParseAbortHostile(t *testing.T) {
	a := testAbort(t)
	b := a.Marshal()
	cases := append(commonHostile(t, b, PacketAbort),
		hostile{"changed reason", mutate(t, b, "lost", "found"), ErrBadPacketSignature},
		hostile{"other ceremony", mutate(t, b, `"c0123456789abcdef01234567"`, `"c0123456789abcdef01234568"`), ErrBadPacketSignature},
		hostile{"reason with newline", mutate(t, b, "lost", `lo\nst`), ErrMalformedPacket},
		hostile{"long reason", mutate(t, b, "lost", strings.Repeat("x", MaxReasonSize)), ErrMalformedPacket},
		hostile{"empty reason", mutate(t, b, `"reason":"bob's device was lost"`, `"reason":""`), ErrMalformedPacket},
		hostile{"no key", mutate(t, b, `"key":"`+a.Key+`",`, ``), ErrMalformedPacket},
	)
	runHostile(t, func(b []byte) error { _, err := ParseAbort(b); return err }, cases)
}

func TestParseProposalHostile(t *testing.T) {
	p := testProposal(t)
	b := p.Marshal()
	cp := testCeremonyProposal(t)
	otherKey, _ := testKeys(9)
	body, _ := cp.Marshal()
	cases := append(commonHostile(t, b, PacketProposal),
		hostile{"body not an object", mutate(t, b, `"proposal":{`, `"proposal":[{`)[:len(b)-3] + `}]}`, ErrMalformedPacket},
		hostile{"body a string", `{"type":"keremony/proposal","v":1,"proposal":"{}"}`, ErrMalformedPacket},
		hostile{"no body", `{"type":"keremony/proposal","v":1}`, ErrMalformedPacket},
		hostile{"kel not cesr", mutate(t, b, `"kel":"{`, `"kel":"x{`), ErrMalformedPacket},
		hostile{"kel truncated", `{"type":"keremony/proposal","v":1,"proposal":` + string(body) + `,"kel":"{\"v\":\"KERI10JSON0000ff_\"}"}`, ErrMalformedPacket},
		hostile{"empty kel", `{"type":"keremony/proposal","v":1,"proposal":` + string(body) + `,"kel":""}`, ErrMalformedPacket},
		hostile{"big body", `{"type":"keremony/proposal","v":1,"proposal":{"x":"` + strings.Repeat("a", MaxProposalBodySize) + `"}}`, ErrPacketTooLarge},
		hostile{"no proposer", mutate(t, b, `,"proposer":{"group":"team","label":"alice","key":"`+cp.Proposer.Key+`","sig":"`+cp.Proposer.Sig+`"}`, ``), ErrBadPacketSignature},
		hostile{"another group alias", mutate(t, b, `"group":"team"`, `"group":"payroll"`), ErrBadPacketSignature},
		hostile{"another proposer label", mutate(t, b, `"label":"alice","key"`, `"label":"bob","key"`), ErrBadPacketSignature},
		hostile{"another key", mutate(t, b, `"key":"`+cp.Proposer.Key+`","sig"`, `"key":"`+otherKey+`","sig"`), ErrBadPacketSignature},
		hostile{"a changed id", mutate(t, b, `"id":"c1"`, `"id":"c2"`), ErrBadPacketSignature},
		hostile{"bad group alias", mutate(t, b, `"group":"team"`, `"group":"../team"`), ErrBadPacketSignature},
		hostile{"proposer label with ESC", mutate(t, b, `"label":"alice","key"`, `"label":"\u001b]0;x\u0007","key"`), ErrMalformedPacket},
	)
	runHostile(t, func(b []byte) error { _, err := ParseProposal(b); return err }, cases)
}

func TestParseCESRHostile(t *testing.T) {
	stream, ev := testStream(t)
	s := string(stream)
	runHostile(t, func(b []byte) error { _, err := ParseCESR(b); return err }, []hostile{
		{"garbage", "garbage", ErrMalformedPacket},
		{"empty", "", ErrMalformedPacket},
		{"a json packet", string(testSignatures(t).Marshal()), ErrWrongPacketType},
		{"truncated body", s[:100], ErrMalformedPacket},
		{"truncated signature", s[:len(s)-4], ErrMalformedPacket},
		{"flipped signature", s[:len(s)-10] + "A" + s[len(s)-9:], nil}, // frames; replay refuses it (kel's job)
		{"changed body", strings.Replace(s, `"kt":"1"`, `"kt":"2"`, 1), ErrMalformedPacket},
		{"garbage after", s + "xyz", ErrMalformedPacket},
		{"oversized", s + strings.Repeat(" ", MaxCESRSize), ErrPacketTooLarge},
	})
	got, err := ParseCESR([]byte(s + "\r\n \n"))
	if err != nil || !bytes.Equal(got.Raw, stream) || len(got.Messages) != 1 || got.Messages[0].Event.SAID() != ev.SAID() || got.Trailing != 4 {
		t.Fatalf("stream with a final CR LF, space and LF: %+v %v", got, err)
	}
	if got, err := ParseCESR(stream); err != nil || got.Trailing != 0 {
		t.Fatalf("stream without trailing space: %+v %v", got, err)
	}
	// Only CR, LF and space after the stream are tolerated.
	runHostile(t, func(b []byte) error { _, err := ParseCESR(b); return err }, []hostile{
		{"a leading newline", "\n" + s, ErrMalformedPacket},
		{"a trailing tab", s + "\t", ErrMalformedPacket},
		{"a trailing NUL", s + "\n\x00", ErrMalformedPacket},
	})
}

func TestParseCardAsPacket(t *testing.T) {
	b := testCard(t).Marshal()
	runHostile(t, func(b []byte) error { _, err := ParsePacket(b); return err }, []hostile{
		{"version 2", mutate(t, b, `"v":1`, `"v":2`), ErrUnsupportedPacketVersion},
		{"unknown field", mutate(t, b, `"v":1`, `"v":1,"x":1`), ErrMalformedPacket},
		{"bad signature", mutate(t, b, `"alias":"alice"`, `"alias":"bob"`), ErrBadPacketSignature},
	})
	_, err := ParsePacketAs(b, PacketSignatures)
	if !errors.Is(err, ErrWrongPacketType) || !strings.Contains(err.Error(), "a member card, want a signature envelope") {
		t.Errorf("card as signatures: %v", err)
	}
}

func TestNewPacketsRefuseBadInput(t *testing.T) {
	key, sign := testKeys(1)
	_, ev := testStream(t)
	if _, err := NewContribution(Contribution{Group: ev.Prefix(), Contribution: ceremony.Contribution{Label: "a", Role: ceremony.RoleRotate, Signer: key}}, func([]byte) ([]byte, error) {
		return make([]byte, 64), nil
	}); !errors.Is(err, ErrBadPacketSignature) {
		t.Errorf("wrong signer: %v", err)
	}
	if _, err := NewAbort(Abort{Ceremony: "c1", AID: ev.Prefix(), SAID: ev.SAID(), Reason: "x\ny", By: "a", Key: key}, sign); !errors.Is(err, ErrMalformedPacket) {
		t.Errorf("reason with newline: %v", err)
	}
	if _, err := NewSignatures(Signatures{Ceremony: "c1", AID: ev.Prefix(), SAID: ev.SAID(), Signer: "a"}); !errors.Is(err, ErrMalformedPacket) {
		t.Errorf("no signatures: %v", err)
	}
	noID := testCeremonyProposal(t)
	noID.ID = ""
	if _, err := NewProposal(noID, nil); !errors.Is(err, ErrMalformedPacket) {
		t.Errorf("a proposal without an id: %v", err)
	}
}
