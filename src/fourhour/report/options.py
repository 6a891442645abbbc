"""What the report commands offer (output formats, how many providers to name), defined once.

Kept free of heavy imports so that the command line can list them in its help cheaply.
"""

BULLETIN_FORMATS = ("text", "markdown", "json", "html")
WORST_N = 5  # the worst providers a bulletin names
ESCALATION_FORMATS = ("text", "json", "html")
FUNDING_FORMATS = ("text", "json", "csv", "html")
