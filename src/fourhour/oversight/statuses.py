"""The statuses an escalation moves through, defined once (light: the CLI lists them in help)."""

STATUSES = ("open", "meeting_held", "improving", "closed")
LIVE = ("open", "meeting_held", "improving")
LEVELS = ("system", "provider")  # escalate local systems, or trusts directly
