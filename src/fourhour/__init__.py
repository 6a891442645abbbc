"""fourhour: oversee A&E performance against the four-hour standard."""

__version__ = "0.1.0"
