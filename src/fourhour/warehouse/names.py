"""Resolve trust names to ODS codes, for returns that name providers without codes.

Names are matched on a key that ignores case, punctuation, '&' vs 'and', 'Health Care' vs
'Healthcare' and the words 'The', 'NHS', 'Foundation' and 'Trust' (a trust keeps its code when
it becomes a foundation trust). Sources, in order: names the warehouse has seen beside a code
(from any ingested file), then former trust names shipped with fourhour. A name still unknown
gets a surrogate code 'X' + 6 hex digits, recorded as derived from the name; when a later file
links the name to a real code, the loader moves its returns to the real code.
"""

from __future__ import annotations

import csv
import hashlib
import re
from functools import cache
from importlib import resources

_DROP = frozenset({"the", "nhs", "foundation", "trust"})


def name_key(name: str) -> str:
    text = name.lower().replace("’", "").replace("'", "").replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]", " ", text).replace("health care", "healthcare")
    return " ".join(w for w in text.split() if w not in _DROP)


def surrogate_code(name: str) -> str:
    return "X" + hashlib.sha1(name_key(name).encode()).hexdigest()[:6].upper()


@cache
def shipped_aliases() -> dict[str, tuple[str, str]]:
    """name key -> (code, name) for former trust names shipped with fourhour."""
    text = resources.files("fourhour.data").joinpath("historic_trust_names.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {name_key(r["name"]): (r["code"], r["name"]) for r in rows}
