// Package api is what a front-end asks of a device: the Backend interface
// the TUI drives and the plain data it returns. It holds no logic; package
// device implements Backend, and the TUI depends only on this package (not
// on device, keystore or transport).
package api

import (
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Backend is everything the TUI asks of this device: its keystore, its
// ceremony store, its KELs and its drop folder. The TUI adds no crypto or
// storage logic of its own; package device implements Backend on top of
// keystore, ceremony and transport.
//
// Every method may do I/O (a KDF, a keyring prompt, a disk write) and is
// called only from inside a tea.Cmd, never from Update or View. Methods are
// not called concurrently with each other: the TUI runs one backend command
// at a time.
type Backend interface {
	// Snapshot describes the device: members, groups, ceremonies and the
	// packets waiting in its inbox.
	Snapshot() (Snapshot, error)

	// NewMember creates a member: a current and a pre-rotated next key.
	NewMember(alias string) error
	// Card is member alias's signed member card (a card packet) for a new
	// group named forGroup ("" when unnamed): the card of the member's seat
	// in no group yet, or of a fresh seat made now when it has none (a key
	// pair serves one group only); the title says which.
	Card(alias, forGroup string) (Outgoing, error)
	// Check is the recovery drill (keremony member check): every seat of
	// every member against the keystore and its group's KEL, and the
	// journal against the ceremony store.
	Check() (CheckReport, error)
	// Contribute is member alias's signed contribution to a rotation of
	// group (it prepares the member's rotation).
	Contribute(group, alias string) (Outgoing, error)

	// Poll ingests the files that appeared in the drop folder since the
	// last call: signatures reach their ceremonies, final events and KELs
	// are imported after authenticated replay, cards, proposals and
	// contributions go to the inbox. A file it refuses is reported, never
	// fatal.
	Poll() ([]Notice, error)
	// Receive takes one packet that arrived another way: read from a file,
	// reassembled from QR frames, or decoded from an image. source names
	// where it came from, for the user.
	Receive(source string, data []byte) ([]Notice, error)

	// ProposeInception, ProposeRotation and ProposeAnchoring build, record
	// and send (to the drop folder, when there is one) a proposal; they
	// return the new ceremony's id.
	ProposeInception(InceptionRequest) (string, error)
	ProposeRotation(RotationRequest) (string, error)
	ProposeAnchoring(AnchoringRequest) (string, error)

	// Review rebuilds and checks the proposal of a ceremony or an inbox
	// proposal (by proposal id) for the member of this device that takes
	// part in it; documents are paths of files a digest seal may commit
	// to (each is read and checked against every digest seal).
	Review(proposalID string, documents ...string) (ReviewInfo, error)
	// Sign signs a proposal after a passed Review: the signature goes into
	// this device's ceremony and, as a signature packet, to the drop
	// folder when there is one.
	Sign(proposalID string) (Outgoing, error)
	// Finalize writes the fully signed event into this device's KEL once
	// the thresholds are met; the result is the group's KEL.
	Finalize(ceremonyID string) (Outgoing, error)
	// Publish sends a finalized ceremony's event (and the group's earlier
	// events that lack receipts) to the group's witnesses, over the
	// network, and keeps their receipts.
	Publish(ceremonyID string) (PublishReport, error)
	// Abort closes a ceremony for good; it stays on record.
	Abort(ceremonyID, reason string) error
	// Export is a packet of a ceremony for sharing: its proposal, this
	// device's signatures, or (once finalized) the group's KEL.
	Export(ceremonyID string, what ExportKind) (Outgoing, error)

	// WriteFile writes data to path atomically.
	WriteFile(path string, data []byte) error
	// ReadFile reads a file of at most limit bytes.
	ReadFile(path string, limit int) ([]byte, error)
	// Drop puts data in the drop folder as name (atomically); it returns
	// the path written, or an error when there is no drop folder.
	Drop(name string, data []byte) (string, error)

	// Close releases the stores.
	Close() error
}

// ExportKind names what Backend.Export writes.
type ExportKind string

const (
	ExportProposal   ExportKind = "proposal"
	ExportSignatures ExportKind = "signatures"
	ExportKEL        ExportKind = "kel"
)

// Outgoing is a packet this device produced, ready to share: shown as QR
// frames, written to a file or put in the drop folder.
type Outgoing struct {
	// Title says what it is ("signature of alice for ceremony 3f2a…").
	Title string
	// Name is a suggested file name.
	Name string
	// Data is the packet's bytes.
	Data []byte
	// Dropped is the drop-folder path it was already written to ("" when
	// not).
	Dropped string
}

// Notice is one thing that happened in the background (a signature
// arrived, a file was refused), for the status line and the log.
type Notice struct {
	// Ceremony is the ceremony it concerns ("" when none).
	Ceremony string
	Text     string
	// Err is set when something was refused; Text then says what.
	Err error
}

// Snapshot is what the home screen shows.
type Snapshot struct {
	Home     string // data directory
	Keystore string // "the OS keyring" or "the passphrase-protected file …"
	DropDir  string // "" when there is no drop folder

	Members    []MemberInfo
	Groups     []GroupInfo
	Ceremonies []CeremonyInfo // newest first
	Inbox      []InboxItem    // newest first
}

// Ceremony finds a ceremony of the snapshot by id.
func (s Snapshot) Ceremony(id string) (CeremonyInfo, bool) {
	for _, c := range s.Ceremonies {
		if c.ID == id {
			return c, true
		}
	}
	return CeremonyInfo{}, false
}

// Group finds a group of the snapshot by alias or prefix.
func (s Snapshot) Group(name string) (GroupInfo, bool) {
	for _, g := range s.Groups {
		if g.Alias == name || g.Prefix == name {
			return g, true
		}
	}
	return GroupInfo{}, false
}

// MemberInfo is one member of this device: a person or device, with a
// seat (a key pair of its own) in each group it sits in.
type MemberInfo struct {
	Alias string
	// Key and Next are the current key and next-key digest (qb64) of the
	// seat a new group takes: its seat in no group yet (Free), else its
	// first seat.
	Key  string
	Next string
	// Free: the member has a seat in no group yet; without one, joining
	// a new group makes a fresh seat.
	Free bool
	// RotationPending: a seat's rotation is prepared (contributed) but
	// not yet committed by a finalized rotation.
	RotationPending bool
	// Groups names the groups the member sits in.
	Groups []string
	Seats  []SeatInfo
}

// SeatInfo is one seat of this device: one member's place in one group.
type SeatInfo struct {
	Member string
	N      int
	// Name is the seat in words: "alice in team1", "alice for wgroup2".
	Name string
	// Group is the group's alias (else prefix), "" for a seat in no group
	// yet; For the group a fresh seat was made for.
	Group, Prefix, For string
	Key, Next          string
	RotationPending    bool
	// Role is what the seat is in its group: "signs at k[0]; its next key
	// is committed at n[0]", "no longer a signer", …
	Role string
}

// CheckReport is the recovery drill's result.
type CheckReport struct {
	// Ready: every seat and the journal are ready.
	Ready bool
	// Lines say it in words, one seat per line, then the journal.
	Lines []string
	// NotReady names the seats (and "journal") that are not ready.
	NotReady []string
}

// GroupInfo is one identifier whose KEL this device holds.
type GroupInfo struct {
	Alias  string // local alias ("" when none)
	Prefix string
	State  kel.KeyState
	// KtText and NtText read the thresholds in plain words with member
	// labels where this device knows them.
	KtText, NtText string
	// Labels name the current keys (and NextLabels the next digests) by
	// member where known, else "#i".
	Labels, NextLabels []string
	// Mine names the members of this device among the current keys.
	Mine []string
	// Seats are this device's seats in the group, with their roles.
	Seats []SeatInfo
	// Recoverable lists, when the group's latest events are interactions,
	// those a recovery rotation may supersede (from the earliest sn it may
	// take; a delegated group: only the latest); empty otherwise.
	Recoverable []kel.EventRef
	// Superseded lists the events recovery rotations superseded, in the
	// order first seen.
	Superseded []kel.Superseded
	// Unreadable says why this device's stored KEL of the group does not
	// restore ("" when it does): State is then what the store recorded
	// when it last accepted an event, and nothing can be done with the
	// group on this device.
	Unreadable string
}

// Name is the alias, else the prefix.
func (g GroupInfo) Name() string {
	if g.Alias != "" {
		return g.Alias
	}
	return g.Prefix
}

// CeremonyInfo is one ceremony of this device.
type CeremonyInfo struct {
	ID         string
	ProposalID string
	Kind       ceremony.Kind
	Group      string // alias, else prefix
	Prefix     string
	Ilk        string
	Sn         uint64
	SAID       string
	State      ceremony.State
	Reason     string // why it was aborted
	Created    time.Time
	Deadline   time.Time // zero: none
	Progress   ceremony.Progress
	Roster     ceremony.Roster
	// KeyLabels name the signing positions, PriorLabels (rotations) the
	// prior next positions.
	KeyLabels, PriorLabels []string
	Transcript             []ceremony.Entry
	// Signed: a member of this device has signed it; CanSign: a member of
	// this device signs it and has not yet.
	Signed, CanSign bool
	// Witnessing is set for a finalized event that has witnesses.
	Witnessing *Witnessing
	// Stale says, for an open ceremony, which members came from cards
	// that no longer work (the member rotated since): nobody can sign for
	// them.
	Stale []string
	// Superseded: the finalized event was later superseded by a recovery
	// rotation.
	Superseded bool
}

// InboxKind is the kind of a packet waiting in the inbox.
type InboxKind string

const (
	InboxCard         InboxKind = "card"
	InboxProposal     InboxKind = "proposal"
	InboxContribution InboxKind = "contribution"
)

// InboxItem is a packet that arrived and waits for the user: a member card
// (for an inception), a proposal (to review and sign) or a rotation
// contribution (for a rotation proposal).
type InboxItem struct {
	Kind   InboxKind
	Source string // where it came from (file name, "qr frames")
	At     time.Time
	// Label: the card's or contribution's member alias, or the proposal's
	// summary ("rotation of acme, sn 3, from alice").
	Label string
	// From is a proposal's proposer ("" when it does not say).
	From string
	// ID: the proposal id (proposals), the group prefix (contributions).
	ID string
	// Card is the member card (cards); Contribution the rotation part
	// (contributions).
	Card         ceremony.Card
	Contribution ceremony.Contribution
	// Stale says why a card no longer works ("" when it does): its
	// member rotated since, so no group or ceremony can use its key.
	Stale string
	// Conflict is set on a proposal whose ceremony id another proposal
	// (or a ceremony of this device) uses for another event: it says
	// which. Both are kept; only one can be signed.
	Conflict string
}

// InceptionRequest is what the inception wizard collected.
type InceptionRequest struct {
	Alias string // the group's local alias
	// Members in roster order: this device's members by alias, others by
	// their card.
	Local  []string
	Cards  []ceremony.Card
	Kt, Nt kel.Threshold
	// Order lists the roster labels in the order keys go into k (the
	// wizard's order). Every Local alias and Card label appears once.
	Order []string
	// Config: "EO", "DND".
	Config []string
	// Witnesses are OOBI URLs of the group's witnesses; Toad their
	// threshold (0: the default majority).
	Witnesses []string
	Toad      uint64
	// Expires after this long (0: never).
	Expires time.Duration
}

// RotationRequest is what the rotation wizard collected.
type RotationRequest struct {
	Group string // alias or prefix
	// Parts in roster order: the contributions of members who rotate,
	// join, reserve or drop; Local names members of this device that
	// contribute (their contribution is made by the backend).
	Parts  []ceremony.Contribution
	Local  []string
	Kt, Nt kel.Threshold
	// Supersede makes a recovery rotation at this sn, superseding the
	// group's interactions from there on (0: an ordinary rotation).
	Supersede uint64
	Expires   time.Duration
}

// AnchoringRequest is what the anchoring wizard collected.
type AnchoringRequest struct {
	Group string
	Seals []kel.Seal
	// Documents say which file each digest seal was made from (name and
	// size), for the co-signers to compare with their own copy.
	Documents []ceremony.DocumentNote
	Expires   time.Duration
}

// ReviewInfo is the review of a proposal on this device.
type ReviewInfo struct {
	ProposalID string
	CeremonyID string // this device's ceremony of it ("" when none yet)
	From       string // the proposer's label
	FromKey    string // the proposer's key, whose signature the proposal carries
	Group      string // alias, else the alias the proposal suggests, else prefix
	Event      *kel.Event
	// Review is the rebuilt event's review (nil when the rebuild failed).
	Review *ceremony.Review
	// Member is this device's member that takes part ("" when none).
	Member string
	// CanSign: the review passed and Member signs and has not signed yet.
	CanSign bool
	// Signed: this device already signed it.
	Signed bool
	// Refusals say why this device must not sign (including what the
	// pre-flight found: a key the keystore cannot use, a signature of
	// another event at this sequence number); Warnings what to check.
	Refusals []string
	Warnings []string
	// Effect says what the event does to this device's member ("this
	// rotation removes you from team1", "you stay in reserve …").
	Effect string
	// Critical are the warnings to repeat at the moment of signing: seals
	// this device could not check, this device's member removed or kept
	// in reserve, its next key not committed.
	Critical []string
	// Roster is every member of the event, with its key and where this
	// device learned it.
	Roster []RosterLine
	// Documents are the files given to Review and what they matched.
	Documents []DocumentCheck
}

// RosterLine is one member of a reviewed event.
type RosterLine struct {
	Label string
	Role  ceremony.Role
	Index int // signing position, -1 when it does not sign
	// Key is its signing key, else the digest it is known by (Digest set).
	Key    string
	Digest bool
	// Source says where this device learned the key: "this device", "the
	// group's KEL", "a card in the inbox", "the proposal's card", …
	Source string
	// You: this device's member.
	You bool
}

// DocumentCheck is a file given to check digest seals.
type DocumentCheck struct {
	Path   string
	Size   int64
	Digest string // "" when the file could not be read
	// Matches: a digest seal of the event commits to this file.
	Matches bool
	Err     string // why the file could not be read
}
