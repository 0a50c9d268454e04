package kel

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestPrimitiveWithLineBreaks: Go's Base64 decoder skips line breaks, so a
// signature whose characters are line breaks decodes short; it is refused,
// and a primitive decoding to less than its pad does not panic.
func TestPrimitiveWithLineBreaks(t *testing.T) {
	k := loadBenchKEL(t)
	msgs, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	body := msgs[0].Event.Raw()
	for name, sig := range map[string]string{
		"all line breaks": "AA" + strings.Repeat("\n", 86),
		"one line break":  "AA" + strings.Repeat("A", 85) + "\r",
	} {
		stream := append(append(append(bytes.Clone(body), "-AAB"...), sig...), body...)
		ms, err := ParseStream(stream)
		if !errors.Is(err, ErrPrimitive) || len(ms) != 0 {
			t.Errorf("%s: %d messages, %v", name, len(ms), err)
		}
	}
	if _, err := decodeQb64Raw("\n\n", 2); !errors.Is(err, ErrPrimitive) {
		t.Errorf("line breaks only: %v", err)
	}
}
