package kel

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// withPathed gives the stream of msgs with extra written after each
// message's attachments, and the offsets where each extra starts.
func withPathed(msgs []Message, extra string) ([]byte, []int) {
	var b []byte
	var at []int
	for _, m := range msgs {
		b = append(b, m.Bytes()...)
		at = append(at, len(b))
		b = append(b, extra...)
	}
	return b, at
}

// TestAttachmentsHoldingBraces: pathed material, which is skipped, may hold
// '{'; the attachments of a message still run to the next body, and a
// failing attachment is reported where it starts.
func TestAttachmentsHoldingBraces(t *testing.T) {
	k := loadBenchKEL(t)
	clean, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	clean = clean[:20]
	for _, extra := range []string{
		"-LAB{AAA",
		"-LAC{\"v\":\"KE", // a body's opening inside the material
		"-LAB{{{{-LAB{AAA",
		"-LAD" + strings.Repeat("{", 12) + "-AAA",
	} {
		stream, _ := withPathed(clean, extra)
		got, err := ParseStream(stream)
		if err != nil || len(got) != len(clean) {
			t.Fatalf("%q: %d messages, %v", extra, len(got), err)
		}
		for i := range got {
			if got[i].Event.SAID() != clean[i].Event.SAID() || len(got[i].Sigs) != len(clean[i].Sigs) ||
				!bytes.Equal(got[i].Sigs[2].Sig, clean[i].Sigs[2].Sig) {
				t.Fatalf("%q: message %d differs", extra, i)
			}
		}
	}
	// Pathed material running past the end: the error names where it starts.
	stream, at := withPathed(clean[:3], "-LAB{AAA")
	stream = stream[:len(stream)-2]
	_, err = ParseStream(stream)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), " at offset "+strconv.Itoa(at[2])+":") {
		t.Fatalf("truncated pathed material at %d: %v", at[2], err)
	}
}

// TestAttachmentsHoldingBracesCost: a stream whose every message holds a '{'
// in an attachment is not copied whole for every message: parsing it
// allocates a few times its size, not its size times its messages.
func TestAttachmentsHoldingBracesCost(t *testing.T) {
	k := loadBenchKEL(t)
	clean, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	stream, _ := withPathed(clean, "-LAB{AAA")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := ParseStream(stream)
	runtime.ReadMemStats(&after)
	if err != nil || len(got) != len(clean) {
		t.Fatalf("%d messages, %v", len(got), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*uint64(len(stream)) {
		t.Fatalf("parsing %d bytes allocated %d", len(stream), alloc)
	}
}
