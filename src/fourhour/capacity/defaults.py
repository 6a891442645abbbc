"""Defaults of the capacity commands, kept free of heavy imports (the CLI shows them in help)."""

DEFAULT_REPLICATIONS = 30
