package transport

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

// testCardKeys returns a fixed key pair and a signer for it.
func testCardKeys(seedByte byte) (ed25519.PublicKey, func([]byte) ([]byte, error)) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seedByte}, 32))
	return priv.Public().(ed25519.PublicKey), func(msg []byte) ([]byte, error) {
		return ed25519.Sign(priv, msg), nil
	}
}

func testCard(t testing.TB) Card {
	t.Helper()
	pub, sign := testCardKeys(1)
	nextPub, _ := testCardKeys(2)
	c, err := NewCard("alice", kel.EncodeVerKey(pub), kel.NextDigest(kel.EncodeVerKey(nextPub)), sign)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCardRoundTrip(t *testing.T) {
	c := testCard(t)
	text := c.Marshal()
	want := `{"type":"keremony/member-card","v":1,"alias":"alice","key":"` + c.Key + `","next":"` + c.Next + `","sig":"` + c.Sig + "\"}\n"
	if string(text) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", text, want)
	}
	if !strings.HasPrefix(c.Key, "D") || !strings.HasPrefix(c.Next, "E") || !strings.HasPrefix(c.Sig, "0B") || len(c.Sig) != 88 {
		t.Fatalf("card encodings: key %q next %q sig %q", c.Key, c.Next, c.Sig)
	}
	got, err := ParseCard(text)
	if err != nil || got != c {
		t.Fatalf("ParseCard(Marshal) = %+v, %v; want %+v", got, err, c)
	}
	// Whitespace and field order do not matter; the values do.
	reordered := `  {"sig":"` + c.Sig + `", "next":"` + c.Next + `","key":"` + c.Key + `","alias":"alice","v":1,"type":"keremony/member-card"}` + "\n\n"
	if got, err := ParseCard([]byte(reordered)); err != nil || got != c {
		t.Fatalf("reordered card: %+v, %v", got, err)
	}
	pub, err := got.PublicKey()
	if err != nil || kel.EncodeVerKey(pub) != c.Key {
		t.Fatalf("PublicKey = %v, %v", pub, err)
	}
	if !strings.HasPrefix(string(c.SigningBytes()), "keremony/member-card\nv=1\nalias=alice\n") {
		t.Fatalf("SigningBytes = %q", c.SigningBytes())
	}
}

// edit replaces the first occurrence of old in the card's text.
func edit(t *testing.T, c Card, old, new string) []byte {
	t.Helper()
	text := string(c.Marshal())
	if !strings.Contains(text, old) {
		t.Fatalf("card text has no %q", old)
	}
	return []byte(strings.Replace(text, old, new, 1))
}

func TestParseCardRefuses(t *testing.T) {
	c := testCard(t)
	other, otherSign := testCardKeys(3)
	otherCard, err := NewCard("alice", kel.EncodeVerKey(other), c.Next, otherSign)
	if err != nil {
		t.Fatal(err)
	}
	nonTransferable := kel.Matter{Code: kel.CodeEd25519N, Raw: other}.Qb64()
	cases := []struct {
		name string
		text []byte
		want error
	}{
		{"too large", append(c.Marshal(), bytes.Repeat([]byte(" "), MaxCardSize)...), ErrCardTooLarge},
		{"version 2", edit(t, c, `"v":1`, `"v":2`), ErrUnsupportedCardVersion},
		{"version 2 with new fields", edit(t, c, `"v":1`, `"v":2,"extra":true`), ErrUnsupportedCardVersion},
		{"version string", edit(t, c, `"v":1`, `"v":"1"`), ErrMalformedCard},
		{"version 1.0", edit(t, c, `"v":1`, `"v":1.0`), ErrMalformedCard},
		{"no version", edit(t, c, `"v":1,`, ``), ErrMalformedCard},
		{"wrong type", edit(t, c, `keremony/member-card`, `keremony/envelope`), ErrMalformedCard},
		{"unknown field", edit(t, c, `"v":1`, `"v":1,"note":"hi"`), ErrMalformedCard},
		{"field in other case", edit(t, c, `"alias"`, `"Alias"`), ErrMalformedCard},
		{"repeated field", edit(t, c, `"v":1`, `"v":1,"alias":"bob"`), ErrMalformedCard},
		{"missing sig", edit(t, c, `,"sig":"`+c.Sig+`"`, ``), ErrMalformedCard},
		{"number alias", edit(t, c, `"alias":"alice"`, `"alias":7`), ErrMalformedCard},
		{"bad alias", edit(t, c, `"alias":"alice"`, `"alias":"al ice"`), ErrMalformedCard},
		{"long alias", edit(t, c, `"alias":"alice"`, `"alias":"`+strings.Repeat("a", 33)+`"`), ErrMalformedCard},
		{"escape in alias", edit(t, c, `"alias":"alice"`, `"alias":"\u001b[2J"`), ErrMalformedCard},
		{"key not base64", edit(t, c, c.Key, "D"+strings.Repeat("!", 43)), ErrMalformedCard},
		{"key truncated", edit(t, c, c.Key, c.Key[:43]), ErrMalformedCard},
		{"non-transferable key", edit(t, c, c.Key, nonTransferable), ErrMalformedCard},
		{"digest as key", edit(t, c, `"key":"`+c.Key, `"key":"`+c.Next), ErrMalformedCard},
		{"key as next", edit(t, c, `"next":"`+c.Next, `"next":"`+c.Key), ErrMalformedCard},
		{"sig truncated", edit(t, c, c.Sig, c.Sig[:87]), ErrMalformedCard},
		{"sig by another key", edit(t, c, c.Sig, otherCard.Sig), ErrBadCardSignature},
		{"key swapped", edit(t, c, c.Key, otherCard.Key), ErrBadCardSignature},
		{"alias changed", edit(t, c, `"alias":"alice"`, `"alias":"mallory"`), ErrBadCardSignature},
		{"next changed", edit(t, c, c.Next, kel.Digest([]byte("other"))), ErrBadCardSignature},
		{"trailing data", append(c.Marshal(), `{}`...), ErrMalformedCard},
		{"array", []byte(`[]`), ErrMalformedCard},
		{"empty", nil, ErrMalformedCard},
		{"truncated json", c.Marshal()[:40], ErrMalformedCard},
	}
	for _, tc := range cases {
		_, err := ParseCard(tc.text)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: ParseCard error = %v, want %v", tc.name, err, tc.want)
		}
	}
	// The size limit counts bytes as given; exactly MaxCardSize is accepted.
	padded := append(c.Marshal(), bytes.Repeat([]byte(" "), MaxCardSize-len(c.Marshal()))...)
	if _, err := ParseCard(padded); err != nil {
		t.Errorf("card of exactly MaxCardSize bytes: %v", err)
	}
}

func TestNewCardRefuses(t *testing.T) {
	c := testCard(t)
	_, sign := testCardKeys(1)
	_, wrongSign := testCardKeys(9)
	_, err := NewCard("al/ice", c.Key, c.Next, sign)
	if !errors.Is(err, ErrMalformedCard) || !strings.Contains(err.Error(), "al/ice") {
		t.Errorf("bad alias: %v", err)
	}
	_, err = NewCard("alice", c.Next, c.Next, sign)
	if !errors.Is(err, ErrMalformedCard) {
		t.Errorf("digest as key: %v", err)
	}
	_, err = NewCard("alice", c.Key, c.Key, sign)
	if !errors.Is(err, ErrMalformedCard) {
		t.Errorf("key as next: %v", err)
	}
	_, err = NewCard("alice", c.Key, c.Next, wrongSign)
	if !errors.Is(err, ErrBadCardSignature) {
		t.Errorf("signer with another key: %v", err)
	}
	_, err = NewCard("alice", c.Key, c.Next, func([]byte) ([]byte, error) { return []byte{1, 2}, nil })
	if !errors.Is(err, ErrBadCardSignature) {
		t.Errorf("short signature: %v", err)
	}
	boom := errors.New("keystore locked")
	_, err = NewCard("alice", c.Key, c.Next, func([]byte) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("signer failure: %v", err)
	}
}

func FuzzParseCard(f *testing.F) {
	c := testCard(f)
	f.Add(c.Marshal())
	f.Add([]byte(strings.Replace(string(c.Marshal()), `"v":1`, `"v":2`, 1)))
	f.Add([]byte(strings.Replace(string(c.Marshal()), `"alias"`, `"Alias"`, 1)))
	f.Add([]byte(`{"type":"keremony/member-card","v":1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseCard(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedCard) && !errors.Is(err, ErrCardTooLarge) &&
				!errors.Is(err, ErrUnsupportedCardVersion) && !errors.Is(err, ErrBadCardSignature) {
				t.Fatalf("error %v wraps no card sentinel", err)
			}
			return
		}
		// Anything accepted is a verified card that survives a round trip.
		again, err := ParseCard(got.Marshal())
		if err != nil || again != got {
			t.Fatalf("round trip of an accepted card: %+v, %v", again, err)
		}
		if pub, err := got.PublicKey(); err != nil || !ed25519.Verify(pub, got.SigningBytes(), mustSig(t, got.Sig)) {
			t.Fatal("accepted card does not verify")
		}
	})
}

func mustSig(t *testing.T, qb64 string) []byte {
	sig, err := kel.DecodeSignature(qb64)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
