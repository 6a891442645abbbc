"""Escalations over time: record each week's run, open, follow and close escalations.

A run for a week stores the whole result. Escalation status moves only forward in time:

- a summoned system with no live escalation gets one, status `open` (event `opened`);
- a summoned system already escalated stays so (`summoned_again`); one that was `improving`
  goes back to `open` (`relapsed`);
- a live escalation whose system has recovered this week (not summoned, no blocking rule)
  becomes `improving` (`recovering`); one recovered for the configured number of consecutive
  weeks is `closed` (`de-escalated`);
- people record meetings and notes with `fourhour escalations update` (`status_update`).

Re-running the week already recorded with the same result changes nothing. If the figures
behind the latest week were revised, its run is replaced and its automatic events re-derived;
earlier weeks cannot be rewritten once later weeks are recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from fourhour.errors import QueryError
from fourhour.oversight.escalation import EscalationResult
from fourhour.oversight.statuses import LIVE, STATUSES
from fourhour.warehouse import Warehouse

AUTO_EVENTS = ("opened", "summoned_again", "recovering", "relapsed", "de-escalated")


@dataclass
class RunOutcome:
    week_end: dt.date
    status: str  # recorded | unchanged | revised
    events: list[dict[str, Any]]


def canonical(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True, separators=(",", ":"))


def record_run(wh: Warehouse, result: EscalationResult) -> RunOutcome:
    """Store the run and apply its transitions, in one transaction."""
    payload = result.as_dict()
    text = canonical(payload)
    sha = hashlib.sha256(text.encode()).hexdigest()
    week = result.week_end
    with wh.transaction() as con:
        latest = con.execute("SELECT max(period_end) FROM escalation_runs").fetchone()[0]
        stored = con.execute(
            "SELECT result_sha256 FROM escalation_runs WHERE period_end = ?", [week]
        ).fetchone()
        if stored is not None and stored[0] == sha:
            return RunOutcome(week, "unchanged", [])
        if latest is not None and week < latest:
            what = "its figures have changed since it was recorded" if stored else "it is new"
            raise QueryError(
                f"escalations are recorded up to the week ending {latest}; the week ending "
                f"{week} cannot be recorded now ({what})",
                hint="escalation history moves forward in time; use --no-record to see the "
                "ranking for an earlier week without recording it",
            )
        status = "recorded"
        if stored is not None:  # the latest week, revised: undo its automatic events
            _undo_week(con, week)
            con.execute("DELETE FROM escalation_runs WHERE period_end = ?", [week])
            status = "revised"
        con.execute(
            "INSERT INTO escalation_runs (period_end, rules_sha256, result_sha256, result) "
            "VALUES (?, ?, ?, ?)",
            [week, result.rules.sha256, sha, text],
        )
        events = _apply(con, result)
    return RunOutcome(week, status, events)


def _undo_week(con: duckdb.DuckDBPyConnection, week: dt.date) -> None:
    con.execute(
        "DELETE FROM escalation_history WHERE period_end = ? AND event IN "
        f"({', '.join(repr(e) for e in AUTO_EVENTS)})",
        [week],
    )
    con.execute(
        "DELETE FROM escalations e WHERE NOT EXISTS "
        "(SELECT 1 FROM escalation_history h WHERE h.escalation_id = e.escalation_id)"
    )
    con.execute(
        """
        UPDATE escalations e SET status = h.status,
               closed_period_end = CASE WHEN h.status = 'closed' THEN h.period_end END
        FROM (SELECT escalation_id, arg_max(status, seq) AS status,
                     arg_max(period_end, seq) AS period_end
              FROM escalation_history GROUP BY escalation_id) h
        WHERE h.escalation_id = e.escalation_id
        """
    )


def _event(
    con: duckdb.DuckDBPyConnection,
    escalation_id: int,
    week: dt.date | None,
    status: str,
    event: str,
    note: str | None = None,
) -> dict[str, Any]:
    seq = con.execute(
        "SELECT coalesce(max(seq), 0) + 1 FROM escalation_history WHERE escalation_id = ?",
        [escalation_id],
    ).fetchone()[0]
    con.execute(
        "INSERT INTO escalation_history (escalation_id, seq, period_end, status, event, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [escalation_id, seq, week, status, event, note],
    )
    con.execute(
        "UPDATE escalations SET status = ?, updated_at = current_timestamp, "
        "closed_period_end = CASE WHEN ? = 'closed' THEN ? ELSE NULL END "
        "WHERE escalation_id = ?",
        [status, status, week, escalation_id],
    )
    return {"escalation_id": escalation_id, "event": event, "status": status, "note": note}


def _apply(con: duckdb.DuckDBPyConnection, result: EscalationResult) -> list[dict[str, Any]]:
    week = result.week_end
    need = result.rules.recovery_weeks
    ranked = {r["system_code"]: r for r in result.ranked.to_dict("records")}
    live = {
        code: (eid, status)
        for eid, code, status in con.execute(
            f"SELECT escalation_id, system_code, status FROM escalations "
            f"WHERE status IN ({', '.join(repr(s) for s in LIVE)})"
        ).fetchall()
    }
    events = []
    for entry in result.summons:
        code = entry["code"]
        if code in live:
            eid, status = live.pop(code)
            if status == "improving":
                events.append(_event(con, eid, week, "open", "relapsed", _rank_note(entry)))
            else:
                events.append(_event(con, eid, week, status, "summoned_again", _rank_note(entry)))
        else:
            eid = con.execute("SELECT nextval('escalation_id_seq')").fetchone()[0]
            con.execute(
                "INSERT INTO escalations (escalation_id, system_code, system_name, "
                "opened_period_end, status) VALUES (?, ?, ?, ?, 'open')",
                [eid, code, entry["name"], week],
            )
            events.append(_event(con, eid, week, "open", "opened", _rank_note(entry)))
        events[-1]["system_code"] = code
    for code, (eid, status) in sorted(live.items()):
        row = ranked.get(code)
        streak = int(row["recovered_streak"]) if row is not None else 0
        if streak >= need:
            note = f"recovered for {streak} consecutive weeks"
            events.append(_event(con, eid, week, "closed", "de-escalated", note))
        elif streak > 0 and status != "improving":
            note = f"recovering: {streak} of {need} weeks needed"
            events.append(_event(con, eid, week, "improving", "recovering", note))
        elif streak == 0 and status == "improving":
            note = "no longer recovering" if row is not None else "no returns this week"
            events.append(_event(con, eid, week, "open", "relapsed", note))
        else:
            continue
        events[-1]["system_code"] = code
    return events


def _rank_note(entry: dict[str, Any]) -> str:
    return f"ranked {entry['rank']} with score {entry['score']:.1f}; rules: " + ", ".join(
        r["rule"] for r in entry["rules_fired"]
    )


def update_status(
    wh: Warehouse, escalation_id: int, status: str, note: str | None, week: dt.date | None
) -> dict[str, Any]:
    if status not in STATUSES:
        raise QueryError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    with wh.transaction() as con:
        found = con.execute(
            "SELECT status FROM escalations WHERE escalation_id = ?", [escalation_id]
        ).fetchone()
        if found is None:
            raise QueryError(f"no escalation {escalation_id}", hint="fourhour escalations list")
        return _event(con, escalation_id, week, status, "status_update", note)


def list_escalations(wh: Warehouse, status: str | None = None) -> list[dict[str, Any]]:
    rows = wh.con.execute(
        """
        SELECT e.escalation_id, e.system_code, e.system_name, e.opened_period_end, e.status,
               e.closed_period_end, (SELECT max(period_end) FROM escalation_history h
                                     WHERE h.escalation_id = e.escalation_id) AS last_week
        FROM escalations e WHERE ? IS NULL OR e.status = ?
        ORDER BY e.status = 'closed', e.opened_period_end, e.escalation_id
        """,
        [status, status],
    ).fetchall()
    keys = ("id", "system_code", "system_name", "opened", "status", "closed", "last_week")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def show_escalation(wh: Warehouse, escalation_id: int) -> dict[str, Any]:
    found = [e for e in list_escalations(wh) if e["id"] == escalation_id]
    if not found:
        raise QueryError(f"no escalation {escalation_id}", hint="fourhour escalations list")
    history = wh.con.execute(
        "SELECT seq, period_end, status, event, note, recorded_at FROM escalation_history "
        "WHERE escalation_id = ? ORDER BY seq",
        [escalation_id],
    ).fetchall()
    keys = ("seq", "week_ending", "status", "event", "note", "recorded_at")
    out = dict(found[0])
    out["history"] = [dict(zip(keys, h, strict=True)) for h in history]
    evidence = wh.con.execute(
        "SELECT result FROM escalation_runs WHERE period_end = ?", [out["last_week"]]
    ).fetchone()
    if evidence:
        data = json.loads(evidence[0])
        entry = next((s for s in data["summons"] if s["code"] == out["system_code"]), None)
        out["latest_evidence"] = entry
    return out


def attach_status(wh: Warehouse, payload: dict[str, Any]) -> dict[str, Any]:
    """Add each summoned system's live escalation id and status (None if not escalated)."""
    live = {e["system_code"]: e for e in list_escalations(wh) if e["status"] != "closed"}
    for s in payload["summons"]:
        found = live.get(s["code"])
        s["escalation_id"] = found["id"] if found else None
        s["status"] = found["status"] if found else None
    return payload
