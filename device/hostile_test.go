package device

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keremony/keremony/internal/benchkel"
	"github.com/keremony/keremony/transport"
)

// TestDropFolderKeepsLargeKEL: a KEL over 1 MiB (a group a few thousand
// events old) that arrives through the drop folder is imported, not moved
// to rejected/ (the folder once refused every file over 1 MiB, the limit
// of a QR message).
func TestDropFolderKeepsLargeKEL(t *testing.T) {
	k, err := benchkel.Build(2000)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Stream) <= 1<<20 {
		t.Fatalf("the fixture KEL has %d bytes, want more than 1 MiB", len(k.Stream))
	}
	drop := filepath.Join(cliSetup(t), "drop")
	a := newTUIDevice(t, "A", drop)
	// A holds the first ten events: the rest concerns it.
	var head []byte
	for _, m := range k.Messages[:10] {
		head = append(head, m...)
	}
	s, err := transport.ParseCESR(head)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.dev.ImportStream(s, "big"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drop, "kel-big.cesr"), k.Stream, 0o644); err != nil {
		t.Fatal(err)
	}
	ns := noticeTexts(a.poll())
	mustContain(t, "poll", ns, "kel of big: 1990 new events (sn 10 to 1999) accepted")
	if _, err := os.Stat(filepath.Join(drop, "kel-big.cesr")); err != nil {
		t.Fatalf("the KEL left the folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(drop, transport.RejectedDir)); err == nil {
		t.Fatalf("something was rejected: %s", ns)
	}
	if strings.Contains(ns, "refused") {
		t.Fatalf("poll: %s", ns)
	}
}
