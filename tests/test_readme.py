"""Every `fourhour` example in README.md's shell blocks, run as a user would run it.

The examples are read from the README itself (a new example is run without touching this file),
in order, in one working folder whose `fourhour.duckdb` (the default warehouse, as the README
uses it) holds all of ../shared/data: the README's dates are real ones (a week of 2014-15,
December 2025, January 2026...). Each must exit 0 with no traceback.

What the folder is given, as a user would have it: `data/nhse` holds the 2024-25 monthly files
(what the README's `fetch` downloads), `System-Mapping-2025.csv` is NHS England's, and
`mapping.csv`, `leaders.csv`, `traj.csv`, `alloc.csv` and `my-trust.toml` are small SYNTHETIC
files in the documented layouts.

Where an example's full size would take minutes, options that only shrink the work (fewer
replications, rows or trusts) are added after it, listed in SMALLER; the example's own words
are all still passed. Skipped, with the reason: `fetch` (it downloads from NHS England;
tests/test_fetch.py runs it against a local imitation of the site), and `serve`, started and
probed instead (tests/test_web.py covers the pages).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def readme_examples() -> list[str]:
    """The `fourhour ...` lines of README.md's sh blocks, comments dropped."""
    text = (ROOT / "README.md").read_text("utf-8")
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("/fourhour"):
                out.append(shlex.join(words[1:]))
    return out


EXAMPLES = readme_examples()

# Options added after an example so that it runs in seconds (a later option wins in Click).
SMALLER = {
    "patients generate": ["--rows", "20000", "--days", "14", "--providers", "20"],
    "simulate": ["-r", "2"],
    "sweep": ["-r", "2"],
    "calibrate": ["--check", "2"],
    "evidence occupancy": ["--model-replications", "2"],
    "evidence validation": ["--limit", "2", "-r", "2"],
    "forecast backtest": ["--max-origins", "1"],
}
SKIP = {"fetch": "downloads from NHS England; tests/test_fetch.py runs it on a local imitation"}


def _expanded(words: list[str], cwd: Path) -> list[str]:
    """Glob patterns expanded in `cwd`, as the shell would."""
    out = []
    for w in words:
        matches = sorted(str(p.relative_to(cwd)) for p in cwd.glob(w)) if "*" in w else []
        out += matches or [w]
    return out


def _smaller(words: list[str]) -> list[str]:
    for prefix, extra in SMALLER.items():
        if words[: len(prefix.split())] == prefix.split():
            return [*words, *extra]
    return words


MAPPING = (
    "provider_code,provider_name,system_code,system_name,system_kind,region_code,region_name,"
    "valid_from,valid_to,merged_into\n"
    "RXQ,Buckinghamshire Healthcare NHS Trust,QU9,Buckinghamshire Oxfordshire and Berkshire "
    "West ICB (synthetic row),icb,Y59,South East,2022-07-01,,\n"
)
LEADERS = (
    "role,org_code,name,valid_from,valid_to\n"
    "trust_chief_executive,RXQ,Chief Executive (synthetic),2016-04-01,\n"
)
TRAJECTORIES = "trust_code,month,trajectory_pct\n" + "".join(
    f"RGT,{y}-{m:02d},90.0\n" for y, m in [(2016, 4 + i) for i in range(9)] + [(2017, 1)]
)
ALLOCATIONS = "trust_code,financial_year,allocation_gbp\nRGT,2016-17,3000000\n"
MY_TRUST = 'name = "My trust (SYNTHETIC)"\n[period]\ndays = 28\nwarm_up_days = 7\n'


@pytest.fixture(scope="module")
def workdir(real_warehouse_all: Path, shared_data: Path, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    shutil.copy(real_warehouse_all, d / "fourhour.duckdb")
    shutil.copytree(shared_data / "monthly-by-provider-2024-25", d / "data" / "nhse")
    shutil.copy(shared_data / "monthly-by-provider-2025-26/System-Mapping-2025.csv", d)
    for name, text in [("mapping.csv", MAPPING), ("leaders.csv", LEADERS),
                       ("traj.csv", TRAJECTORIES), ("alloc.csv", ALLOCATIONS),
                       ("my-trust.toml", MY_TRUST)]:  # fmt: skip
        (d / name).write_text(text, encoding="utf-8")
    return d


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 30 and any(e.startswith("bulletin") for e in EXAMPLES)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, marks=[pytest.mark.spark] if "spark" in e else []) for e in EXAMPLES],
)
def test_readme_example_runs(example: str, workdir: Path) -> None:
    words = shlex.split(example)
    if words[0] in SKIP:
        pytest.skip(SKIP[words[0]])
    env = {**os.environ, "COLUMNS": "200"}
    command = [sys.executable, "-m", "fourhour", *_smaller(_expanded(words, workdir))]
    if words[0] == "serve":
        port = _free_port()
        with subprocess.Popen(
            [*command, "--port", str(port)], cwd=workdir, env=env, stderr=subprocess.PIPE
        ) as server:
            try:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
                        with urllib.request.urlopen(url, timeout=5) as r:
                            assert r.status == 200
                            break
                    except OSError:
                        assert server.poll() is None, server.stderr.read().decode()[-2000:]
                        assert time.monotonic() < deadline, "fourhour serve did not answer"
                        time.sleep(0.5)
            finally:
                server.terminate()
        return
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, f"fourhour {example}: {result.stderr[-3000:]}"
