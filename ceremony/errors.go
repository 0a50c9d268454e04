package ceremony

import "errors"

// Sentinel errors. Every error the package returns wraps one of these (test
// with errors.Is); kel's own sentinels stay reachable through the chain.
var (
	// Building proposals.
	ErrInvalidParams        = errors.New("invalid ceremony parameters")
	ErrDuplicateKey         = errors.New("duplicate key")
	ErrDuplicateDigest      = errors.New("duplicate next digest")
	ErrThreshold            = errors.New("threshold does not fit")
	ErrContribution         = errors.New("invalid rotation contribution")
	ErrPriorNextUnreachable = errors.New("revealed keys cannot satisfy the prior next threshold")
	ErrUnknownGroup         = errors.New("group identifier unknown on this device")
	ErrNotRecoverable       = errors.New("no recovery rotation is possible there")

	// Proposals and review.
	ErrMalformedProposal = errors.New("malformed proposal")
	ErrProposalMismatch  = errors.New("proposal differs from the event rebuilt from its parameters")
	ErrDoesNotChain      = errors.New("proposal does not chain on the local kel")
	ErrAnchorConflict    = errors.New("seal contradicts an event this device holds")
	ErrReviewRequired    = errors.New("signing requires a review that passed")
	ErrUnsigned          = errors.New("proposal is not signed by its proposer")
	ErrUnboundLabel      = errors.New("member label is not bound by a signed card or contribution")

	// Signature intake and local signing.
	ErrWrongCeremony   = errors.New("signature belongs to another ceremony")
	ErrWrongEvent      = errors.New("signature names another event")
	ErrIndexOutOfRange = errors.New("signature index out of range")
	ErrBadSignature    = errors.New("signature does not verify")
	ErrNotCollecting   = errors.New("ceremony is not collecting signatures")
	ErrNotSigner       = errors.New("key is not among the event's signing keys")
	ErrSignerRefused   = errors.New("signer refused to sign")

	// Finalizing.
	ErrNotReady          = errors.New("signatures do not meet the thresholds yet")
	ErrBlocked           = errors.New("event can no longer be accepted")
	ErrDelegationPending = errors.New("delegated event not yet anchored by its delegator")
	ErrRejected          = errors.New("kel rejected the event")

	// Storage.
	ErrStoreBusy    = errors.New("ceremony store is in use by another process")
	ErrStore        = errors.New("ceremony store failure")
	ErrCorruptStore = errors.New("ceremony store does not replay")
	ErrNotFound     = errors.New("no such ceremony")
	ErrExists       = errors.New("ceremony already exists")
)
