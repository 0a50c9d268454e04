package kel

// KELsRead lists the identifiers whose KELs accepting the event reads: its
// own, its delegator's (for a delegated inception) and those its event
// seals name. A delegated rotation reads its delegator's too, which the
// identifier's own key state names.
func (e *Event) KELsRead() []string {
	out := []string{e.prefix}
	if e.delegator != "" {
		out = append(out, e.delegator)
	}
	for _, s := range e.seals {
		if s.Kind == SealEvent {
			out = append(out, s.I)
		}
	}
	return out
}
