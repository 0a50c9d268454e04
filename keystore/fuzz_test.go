package keystore

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"
)

// FuzzKeystoreFile: no keystore file makes the reader panic; every refusal
// wraps ErrTruncated, ErrCorruptKeystore or ErrKDFParamsTooHigh (checked
// before any key derivation, so a hostile header costs nothing); a file
// that parses has the header and body lengths it announces; one that
// opens under the seed file's key decodes to keys that encode back to the
// same map. The passphrase's KDF is not run on fuzzed parameters.
func FuzzKeystoreFile(f *testing.F) {
	var salt [saltSize]byte
	copy(salt[:], "fuzz salt 0123456789")
	k := deriveFileKey([]byte("fuzz passphrase"), KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, salt)
	seed := bytes.Repeat([]byte{7}, seedSize)
	good, err := sealFile(k, encodeBody(map[string][]byte{"key-1": seed, "key-2": bytes.Repeat([]byte{9}, seedSize)}))
	if err != nil {
		f.Fatal(err)
	}
	empty, _ := sealFile(k, encodeBody(nil))
	f.Add(good)
	f.Add(empty)
	f.Add(good[:headerSize])
	f.Add(good[:len(fileMagic)-3])
	f.Add([]byte(fileMagic))
	f.Add(append(bytes.Clone(good), 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, raw, body, err := parseFile("keystore.enc", data)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorruptKeystore) && !errors.Is(err, ErrKDFParamsTooHigh) {
				t.Fatalf("error without a keystore sentinel: %v", err)
			}
			return
		}
		if len(raw) != headerSize || len(body) != int(h.bodyLen) || len(data) != headerSize+len(body) {
			t.Fatalf("parsed header %d bytes, body %d of %d, file %d", len(raw), len(body), h.bodyLen, len(data))
		}
		plain, err := openFile("keystore.enc", data, k)
		if err != nil {
			if !errors.Is(err, ErrCorruptKeystore) {
				t.Fatalf("open: error without ErrCorruptKeystore: %v", err)
			}
			return
		}
		checkBody(t, plain)
	})
}

// FuzzKeystoreBody: the decrypted body decodes to keys, or is refused with
// ErrCorruptKeystore; keys re-encode to a body that decodes to the same
// keys.
func FuzzKeystoreBody(f *testing.F) {
	f.Add(encodeBody(map[string][]byte{"key-1": bytes.Repeat([]byte{7}, seedSize)}))
	f.Add([]byte{bodyVersion})
	f.Add([]byte{bodyVersion, 1, 'a', seedSize})
	f.Add([]byte{})
	f.Fuzz(checkBody)
}

func checkBody(t *testing.T, plain []byte) {
	keys, err := decodeBody("keystore.enc", plain)
	if err != nil {
		if !errors.Is(err, ErrCorruptKeystore) {
			t.Fatalf("body: error without ErrCorruptKeystore: %v", err)
		}
		return
	}
	again, err := decodeBody("keystore.enc", encodeBody(keys))
	if err != nil || !maps.EqualFunc(keys, again, bytes.Equal) {
		t.Fatalf("keys do not round-trip: %v", err)
	}
	for id, s := range keys {
		if id == "" || len(s) != seedSize {
			t.Fatalf("key %q with a %d-byte seed", id, len(s))
		}
	}
}

// FuzzJournal: no journal makes the reader panic; a refusal wraps
// ErrCorruptJournal; otherwise the complete lines end where good says
// (the rest is a torn line without a newline) and every entry names an
// event or a proof and reads back the same.
func FuzzJournal(f *testing.F) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var seed bytes.Buffer
	for _, e := range []JournalEntry{
		{Alias: "alice", AID: "EAbc", SN: 3, SAID: "EDef", Time: at},
		{Alias: "alice", Proof: "00ff", Time: at},
	} {
		b, _ := json.Marshal(e)
		seed.Write(append(b, '\n'))
	}
	f.Add(seed.Bytes())
	f.Add(append(bytes.Clone(seed.Bytes()), `{"alias":"bob","aid":"E`...))
	f.Add([]byte("\n\n  \n"))
	f.Add([]byte(`{"alias":"a","aid":"E","said":"E","proof":"x","time":"2026-01-02T03:04:05Z"}` + "\n"))
	f.Add([]byte(`{"alias":"a","aid":"E","said":"E","time":"2026-01-02T03:04:05Z","x":1}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, good, err := parseJournal("journal.jsonl", data)
		if err != nil {
			if !errors.Is(err, ErrCorruptJournal) {
				t.Fatalf("error without ErrCorruptJournal: %v", err)
			}
			return
		}
		if good > len(data) || good > 0 && data[good-1] != '\n' || bytes.IndexByte(data[good:], '\n') >= 0 {
			t.Fatalf("complete lines end at %d of %d", good, len(data))
		}
		for _, e := range entries {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			again, err := parseJournalLine(b)
			if err != nil || again.Alias != e.Alias || again.AID != e.AID || again.SN != e.SN || again.SAID != e.SAID || again.Proof != e.Proof || !again.Time.Equal(e.Time) {
				t.Fatalf("entry %+v reads back as %+v, %v", e, again, err)
			}
		}
	})
}
