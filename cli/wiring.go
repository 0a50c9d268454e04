package cli

import (
	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/keystore"
)

// The build checks that keystore's signers satisfy ceremony's interface
// directly, so wiring them needs no adapter.
var _ ceremony.Signer = keystore.Signer(nil)
