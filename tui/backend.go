package tui

import "github.com/keremony/keremony/device/api"

// The TUI presents a device through package api only; these aliases keep
// the screens' code short.
type (
	Backend          = api.Backend
	ExportKind       = api.ExportKind
	Outgoing         = api.Outgoing
	Notice           = api.Notice
	Snapshot         = api.Snapshot
	MemberInfo       = api.MemberInfo
	SeatInfo         = api.SeatInfo
	CheckReport      = api.CheckReport
	GroupInfo        = api.GroupInfo
	CeremonyInfo     = api.CeremonyInfo
	InboxKind        = api.InboxKind
	InboxItem        = api.InboxItem
	InceptionRequest = api.InceptionRequest
	RotationRequest  = api.RotationRequest
	AnchoringRequest = api.AnchoringRequest
	ReviewInfo       = api.ReviewInfo
	PublishReport    = api.PublishReport
	Witnessing       = api.Witnessing
)

const (
	ExportProposal    = api.ExportProposal
	ExportSignatures  = api.ExportSignatures
	ExportKEL         = api.ExportKEL
	InboxCard         = api.InboxCard
	InboxProposal     = api.InboxProposal
	InboxContribution = api.InboxContribution
)
