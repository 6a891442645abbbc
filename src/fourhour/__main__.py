"""`python -m fourhour` runs the command line."""

from fourhour.cli import main

main()
