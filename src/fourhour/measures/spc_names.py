"""The SPC presets' names, defined once and kept free of heavy imports so that the command
line can offer them in its help without loading the engine (the rules are in spc.py)."""

MAKING_DATA_COUNT_NAME = "making-data-count"  # NHS England's Making Data Count guidance
NHSRPLOTTHEDOTS_NAME = "nhsrplotthedots"  # the R package NHSRplotthedots 0.2.2
PRESETS = (MAKING_DATA_COUNT_NAME, NHSRPLOTTHEDOTS_NAME)
DEFAULT_PRESET = MAKING_DATA_COUNT_NAME
