package api

// Witnessing is how far a finalized event is witnessed on this device: the
// receipts held against the event's witness threshold (toad).
type Witnessing struct {
	Sn   uint64
	Toad uint64
	// Marks has one entry per witness of the event, in witness order.
	Marks []WitnessMark
	// Held counts the witnesses whose receipt is held; Complete is set
	// when they are at least the toad.
	Held     int
	Complete bool
	// Line says it in one line: "witnessed: 1 of 2 receipts (toad 2):
	// wan ✓, wil waiting".
	Line string
}

// WitnessMark is one witness of an event.
type WitnessMark struct {
	Prefix string
	Name   string // the name this device knows it by, else its short prefix
	Held   bool   // its receipt is held
}

// PublishReport is what publishing an event to its witnesses did.
type PublishReport struct {
	// Witnessing is the event's witnessing afterwards.
	Witnessing Witnessing
	// Failures name each witness that did not receipt, with the reason.
	Failures []string
	// Notices are warnings (a receipt that did not travel on, …).
	Notices []Notice
	// Packet is the receipted event, for the other devices (also put in
	// the drop folder when there is one).
	Packet Outgoing
}
