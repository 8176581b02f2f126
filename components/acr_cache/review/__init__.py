"""Review tooling over offline plans: what a change does (`diff`), what it costs (`cost`) and what
the stack looks like (`graph`), all without credentials or state."""
