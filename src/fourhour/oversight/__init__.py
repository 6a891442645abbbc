"""Oversight: accountable leaders, escalation of struggling systems, trajectories and funding."""
