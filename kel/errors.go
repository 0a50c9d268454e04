package kel

import (
	"errors"
	"fmt"
	"slices"
)

// Sentinel errors: one per kind of failure. Every error kel returns wraps
// exactly one of these (test with errors.Is); event-level failures are further
// wrapped in an *EventError that names the event.
var (
	// Framing and primitives.
	ErrStream             = errors.New("malformed cesr stream")
	ErrTruncated          = errors.New("truncated cesr stream")
	ErrUnsupportedCounter = errors.New("unsupported cesr counter")
	ErrPrimitive          = errors.New("malformed cesr primitive")
	ErrUnknownCode        = errors.New("unknown cesr code")
	ErrVersion            = errors.New("invalid version string")
	ErrJSON               = errors.New("invalid json")
	ErrNonCanonical       = errors.New("non-canonical event serialization")
	ErrFieldOrder         = errors.New("event fields are not keri 1.0's list for the ilk")
	ErrField              = errors.New("malformed event field")
	ErrIlk                = errors.New("unsupported event type")

	// Event content.
	ErrSAIDMismatch      = errors.New("said does not match the event")
	ErrPrefixMismatch    = errors.New("prefix does not match the inception")
	ErrThreshold         = errors.New("invalid threshold")
	ErrDuplicateKey      = errors.New("duplicate key")
	ErrDuplicateWitness  = errors.New("duplicate witness")
	ErrWitnessConfig     = errors.New("invalid witness configuration")
	ErrConfig            = errors.New("invalid configuration trait")
	ErrSeal              = errors.New("malformed seal")
	ErrInvalidOptions    = errors.New("invalid event options")
	ErrNotTransferable   = errors.New("identifier is not transferable")
	ErrEstablishmentOnly = errors.New("identifier allows establishment events only")

	// Key state and ordering.
	ErrUnknownPrefix     = errors.New("event for an unknown identifier")
	ErrOutOfOrder        = errors.New("sequence number out of order")
	ErrPriorMismatch     = errors.New("prior event digest mismatch")
	ErrDuplicitous       = errors.New("duplicitous event")
	ErrDelegatedNeedsDrt = errors.New("a delegated identifier must rotate with drt")
	ErrDrtNotDelegated   = errors.New("drt on an identifier that is not delegated")

	// Signatures and thresholds.
	ErrMissingSignatures  = errors.New("event carries no controller signatures")
	ErrBadSignature       = errors.New("signature does not verify")
	ErrIndexOutOfRange    = errors.New("signature index out of range")
	ErrSignatureCode      = errors.New("signature code does not suit the key")
	ErrThresholdNotMet    = errors.New("signing threshold not met")
	ErrPriorNextNotMet    = errors.New("prior next threshold not met")
	ErrWitnessSignature   = errors.New("invalid witness signature")
	ErrDelegationMissing  = errors.New("delegation not anchored by the delegator")
	ErrDelegationMismatch = errors.New("delegation source seal does not anchor the event")
	ErrDelegatorRefuses   = errors.New("delegator does not delegate")
	ErrAnchorMismatch     = errors.New("anchored seal contradicts the anchored event")

	// Stored records.
	ErrKeyState = errors.New("malformed key state record")
)

// ErrThresholdForm refines ErrThreshold: the text given to ParseThresholdText
// has none of its forms (a whole number, weights, or KERI JSON). An error
// wrapping it always wraps ErrThreshold too, and has ErrThreshold's reason
// code. Its text says what to write, for showing to the person who typed.
var ErrThresholdForm = errors.New("write a whole number such as 2, weights such as 1/2,1/4,1/4, or json such as [\"1/2\",\"1/2\"]")

// EventError names the event a failure belongs to.
type EventError struct {
	Prefix string
	Sn     uint64
	Ilk    string
	SAID   string
	Err    error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("%s sn %d %s %s: %v", e.Prefix, e.Sn, e.Ilk, e.SAID, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

func eventErr(ev *Event, err error) error {
	if err == nil {
		return nil
	}
	return &EventError{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said, Err: err}
}

// errorCodes maps each sentinel to the stable code used by `keremony verify
// --json` (the vocabulary of the KERI test vectors).
var errorCodes = []struct {
	err  error
	code string
}{
	{ErrTruncated, "stream_truncated"},
	{ErrUnsupportedCounter, "unsupported_counter"},
	{ErrStream, "stream_parse_error"},
	{ErrPrimitive, "attachment_parse_error"},
	{ErrUnknownCode, "attachment_parse_error"},
	{ErrVersion, "version_string_invalid"},
	{ErrJSON, "json_invalid"},
	{ErrNonCanonical, "noncanonical_json"},
	{ErrFieldOrder, "field_order"},
	{ErrIlk, "ilk_invalid"},
	{ErrField, "field_invalid"},
	{ErrSAIDMismatch, "said_mismatch"},
	{ErrPrefixMismatch, "prefix_mismatch"},
	{ErrThreshold, "threshold_invalid"},
	{ErrDuplicateKey, "key_invalid"},
	{ErrDuplicateWitness, "witness_config_invalid"},
	{ErrWitnessConfig, "witness_config_invalid"},
	{ErrConfig, "config_invalid"},
	{ErrSeal, "seal_list_invalid"},
	{ErrInvalidOptions, "invalid_options"},
	{ErrNotTransferable, "not_transferable"},
	{ErrEstablishmentOnly, "establishment_only"},
	{ErrUnknownPrefix, "unknown_prefix"},
	{ErrOutOfOrder, "sn_out_of_order"},
	{ErrPriorMismatch, "prior_digest_mismatch"},
	{ErrDuplicitous, "duplicitous_event"},
	{ErrDelegatedNeedsDrt, "delegated_requires_drt"},
	{ErrDrtNotDelegated, "drt_not_delegated"},
	{ErrMissingSignatures, "missing_signatures"},
	{ErrBadSignature, "signature_invalid"},
	{ErrIndexOutOfRange, "signature_index_out_of_range"},
	{ErrSignatureCode, "signature_code_mismatch"},
	{ErrThresholdNotMet, "threshold_not_met"},
	{ErrPriorNextNotMet, "prior_next_threshold_not_met"},
	{ErrWitnessSignature, "witness_signature_invalid"},
	{ErrDelegationMissing, "delegation_not_anchored"},
	{ErrDelegationMismatch, "delegation_seal_mismatch"},
	{ErrDelegatorRefuses, "delegator_do_not_delegate"},
	{ErrAnchorMismatch, "anchor_seal_mismatch"},
	{ErrNotFullyWitnessed, "not_fully_witnessed"},
	{ErrNotWitness, "not_a_witness"},
	{ErrReceipt, "receipt_invalid"},
	{ErrReply, "reply_invalid"},
	{ErrKeyState, "key_state_invalid"},
}

// ErrorCode returns the primary reason code of err: the outermost kel
// sentinel it wraps ("" for nil, "error" when it wraps none).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if codes := ErrorCodes(err); len(codes) > 0 {
		return codes[0]
	}
	return "error"
}

// ErrorCodes lists the reason codes of every failure err joins, outermost
// first and without repeats (a rejected rotation can be both
// threshold_not_met and prior_next_threshold_not_met).
func ErrorCodes(err error) []string {
	var codes []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		for _, c := range errorCodes {
			if e == c.err {
				if !slices.Contains(codes, c.code) {
					codes = append(codes, c.code)
				}
				return
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return codes
}
