package ceremony

import (
	"fmt"
	"time"
)

// EntryKind says what a transcript entry records.
type EntryKind string

const (
	EntryCreated   EntryKind = "created"
	EntryOpened    EntryKind = "opened"
	EntrySigned    EntryKind = "signed"    // a signature was added
	EntryReplaced  EntryKind = "replaced"  // a better signature replaced one at the same index
	EntryIgnored   EntryKind = "ignored"   // a valid signature that adds nothing
	EntryRejected  EntryKind = "rejected"  // a signature refused, with why
	EntryFinalized EntryKind = "finalized" // the fully signed event entered the local kel
	EntryAborted   EntryKind = "aborted"
	EntryExpired   EntryKind = "expired"
)

// Entry is one line of a ceremony's transcript. Transcripts only grow: a
// closed ceremony keeps its whole history.
type Entry struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Kind   EntryKind `json:"kind"`
	From   string    `json:"from,omitempty"`  // who delivered it (sender label or "local")
	Index  int       `json:"index"`           // signature index, -1 when none
	Label  string    `json:"label,omitempty"` // roster label of the index
	Sig    string    `json:"sig,omitempty"`   // qb64 indexed signature, when one is involved
	Detail string    `json:"detail,omitempty"`
}

// String renders the entry on one line.
func (e Entry) String() string {
	s := fmt.Sprintf("%s %s", e.At.UTC().Format(time.RFC3339), e.Kind)
	if e.Index >= 0 {
		s += fmt.Sprintf(" index %d", e.Index)
		if e.Label != "" {
			s += " (" + e.Label + ")"
		}
	}
	if e.From != "" {
		s += " from " + e.From
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}
