package ceremony

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keremony/keremony/kel"
)

// DocumentNote is what the proposer of an anchoring says about the
// document behind a digest seal: the file name and size it used. It is a
// hint for the co-signers, never a check: only a document whose digest
// matches the seal (Reviewer.Documents) checks it.
type DocumentNote struct {
	Digest string `json:"digest"` // the digest seal's D
	Name   string `json:"name"`   // base name of the proposer's file
	Size   int64  `json:"size"`   // its size in bytes
}

// MaxDocumentName bounds a note's file name, in bytes.
const MaxDocumentName = 128

// String reads the note as the proposer said it: "minutes.pdf, 41 KB".
func (n DocumentNote) String() string { return n.Name + ", " + ByteSize(n.Size) }

// ByteSize reads a size in bytes the way people say it: "812 bytes",
// "41 KB", "3.2 MB" (powers of 1000).
func ByteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// checkDocumentNotes checks an anchoring's notes against its seals: each
// names a digest seal of the event (once), with a plain base name (no
// path, no control characters) and a size that is not negative.
func checkDocumentNotes(notes []DocumentNote, seals []kel.Seal) error {
	var seen []string
	for _, n := range notes {
		if !slices.ContainsFunc(seals, func(s kel.Seal) bool { return s.Kind == kel.SealDigest && s.D == n.Digest }) {
			return fmt.Errorf("%w: document note for %q names no digest seal of the event", ErrMalformedProposal, clip(n.Digest))
		}
		if slices.Contains(seen, n.Digest) {
			return fmt.Errorf("%w: two document notes for digest %s", ErrMalformedProposal, n.Digest)
		}
		seen = append(seen, n.Digest)
		if err := checkDocumentName(n.Name); err != nil {
			return err
		}
		if n.Size < 0 {
			return fmt.Errorf("%w: document %q has size %d", ErrMalformedProposal, n.Name, n.Size)
		}
	}
	return nil
}

// checkDocumentName refuses a document name that is empty, too long, not
// UTF-8, a path, or that holds control or format characters (which could
// redraw a co-signer's terminal).
func checkDocumentName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: document name %q %s", ErrMalformedProposal, clip(name), why)
	}
	switch {
	case name == "" || len(name) > MaxDocumentName:
		return bad(fmt.Sprintf("must be 1 to %d bytes", MaxDocumentName))
	case !utf8.ValidString(name):
		return bad("is not UTF-8")
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return bad("must be a file name, not a path")
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		return bad("holds control characters")
	}
	return nil
}

// NoteDocument is the note for a document (at path, of size bytes with
// digest) the proposer anchors by its digest: its base name and size. ok
// is false when the name cannot travel (a name too long, or with control
// characters): the seal then goes without a note.
func NoteDocument(path, digest string, size int64) (note DocumentNote, ok bool) {
	name := path
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if checkDocumentName(name) != nil {
		return DocumentNote{}, false
	}
	return DocumentNote{Digest: digest, Name: name, Size: size}, true
}
