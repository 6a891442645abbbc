"""Escalations over time: record each period's run, open, follow and close escalations.

A run for a period (a week, month or quarter) stores the whole result. Systems and trusts
(levels) keep separate escalations. Escalation status moves only forward in time, across
granularities: an escalation opened on weekly returns continues on monthly ones.

- a summoned system with no live escalation gets one, status `open` (event `opened`);
- a summoned system already escalated stays so (`summoned_again`); one that was `improving`
  goes back to `open` (`relapsed`);
- a live escalation whose system has recovered this period (not summoned, no blocking rule)
  becomes `improving` (`recovering`); one recovered for the configured number of consecutive
  periods is `closed` (`de-escalated`);
- people record meetings and notes with `fourhour escalations update` (`status_update`).

Re-running the period already recorded with the same result changes nothing. If the figures
behind the latest period were revised, its run is replaced and its automatic events
re-derived; earlier periods cannot be rewritten once later ones are recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from fourhour.errors import InvalidInputError, QueryError
from fourhour.oversight.escalation import EscalationResult
from fourhour.oversight.statuses import LIVE, STATUSES
from fourhour.periods import Period
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row

AUTO_EVENTS = ("opened", "summoned_again", "recovering", "relapsed", "de-escalated")


@dataclass
class RunOutcome:
    period_end: dt.date
    status: str  # recorded | unchanged | revised
    events: list[dict[str, Any]]


def canonical(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True, separators=(",", ":"))


def record_run(wh: Warehouse, result: EscalationResult) -> RunOutcome:
    """Store the run and apply its transitions, in one transaction."""
    payload = result.as_dict()
    text = canonical(payload)
    sha = hashlib.sha256(text.encode()).hexdigest()
    end, level, granularity = result.period_end, result.level, result.granularity
    key = [level, granularity, end]
    with wh.transaction() as con:
        latest = one_row(
            con.execute("SELECT max(period_end) FROM escalation_runs WHERE level = ?", [level])
        )[0]
        stored = con.execute(
            "SELECT result_sha256 FROM escalation_runs "
            "WHERE level = ? AND granularity = ? AND period_end = ?",
            key,
        ).fetchone()
        if stored is not None and stored[0] == sha:
            return RunOutcome(end, "unchanged", [])
        later = con.execute(
            "SELECT granularity FROM escalation_runs WHERE level = ? AND period_end >= ? "
            "AND NOT (granularity = ? AND period_end = ?) LIMIT 1",
            [level, end, granularity, end],
        ).fetchone()
        if latest is not None and (end < latest or later is not None):
            what = "its figures have changed since it was recorded" if stored else "it is new"
            raise QueryError(
                f"{level} escalations are recorded up to {latest}; the period ending {end} "
                f"cannot be recorded now ({what})",
                hint="escalation history moves forward in time; use --no-record to see the "
                "ranking for an earlier period without recording it",
            )
        status = "recorded"
        if stored is not None:  # the latest period, revised: undo its automatic events
            _undo_period(con, level, end)
            con.execute(
                "DELETE FROM escalation_runs WHERE level = ? AND granularity = ? "
                "AND period_end = ?",
                key,
            )
            status = "revised"
        con.execute(
            "INSERT INTO escalation_runs (level, granularity, period_end, rules_sha256, "
            "result_sha256, result) VALUES (?, ?, ?, ?, ?, ?)",
            [*key, result.rules.sha256, sha, text],
        )
        events = _apply(con, result)
    return RunOutcome(end, status, events)


def _undo_period(con: duckdb.DuckDBPyConnection, level: str, end: dt.date) -> None:
    con.execute(
        "DELETE FROM escalation_history h WHERE period_end = ? AND event IN "
        f"({', '.join(repr(e) for e in AUTO_EVENTS)}) AND escalation_id IN "
        "(SELECT escalation_id FROM escalations WHERE level = ?)",
        [end, level],
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
    granularity: str | None = None,
) -> dict[str, Any]:
    seq = one_row(
        con.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM escalation_history WHERE escalation_id = ?",
            [escalation_id],
        )
    )[0]
    con.execute(
        "INSERT INTO escalation_history (escalation_id, seq, period_end, status, event, note, "
        "granularity) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [escalation_id, seq, week, status, event, note, granularity],
    )
    con.execute(
        "UPDATE escalations SET status = ?, updated_at = current_timestamp, "
        "closed_period_end = CASE WHEN ? = 'closed' THEN ? ELSE NULL END "
        "WHERE escalation_id = ?",
        [status, status, week, escalation_id],
    )
    return {"escalation_id": escalation_id, "event": event, "status": status, "note": note}


def _apply(con: duckdb.DuckDBPyConnection, result: EscalationResult) -> list[dict[str, Any]]:
    end, g, level = result.period_end, result.granularity, result.level
    need = result.rules.recovery_periods
    unit = {"week": "weeks", "month": "months", "quarter": "quarters"}[g]
    ranked = {r["system_code"]: r for r in result.ranked.to_dict("records")}
    live = {
        code: (eid, status)
        for eid, code, status in con.execute(
            f"SELECT escalation_id, system_code, status FROM escalations "
            f"WHERE level = ? AND status IN ({', '.join(repr(s) for s in LIVE)})",
            [level],
        ).fetchall()
    }
    events = []
    for entry in result.summons:
        code = entry["code"]
        if code in live:
            eid, status = live.pop(code)
            if status == "improving":
                events.append(_event(con, eid, end, "open", "relapsed", _rank_note(entry), g))
            else:
                events.append(_event(con, eid, end, status, "summoned_again", _rank_note(entry), g))
        else:
            eid = one_row(con.execute("SELECT nextval('escalation_id_seq')"))[0]
            con.execute(
                "INSERT INTO escalations (escalation_id, system_code, system_name, "
                "opened_period_end, status, level, opened_granularity) "
                "VALUES (?, ?, ?, ?, 'open', ?, ?)",
                [eid, code, entry["name"], end, level, g],
            )
            events.append(_event(con, eid, end, "open", "opened", _rank_note(entry), g))
        events[-1]["system_code"] = code
    for code, (eid, status) in sorted(live.items()):
        row = ranked.get(code)
        streak = int(row["recovered_streak"]) if row is not None else 0
        if streak >= need:
            note = f"recovered for {streak} consecutive {unit}"
            events.append(_event(con, eid, end, "closed", "de-escalated", note, g))
        elif streak > 0 and status != "improving":
            note = f"recovering: {streak} of {need} {unit} needed"
            events.append(_event(con, eid, end, "improving", "recovering", note, g))
        elif streak == 0 and status == "improving":
            note = "no longer recovering" if row is not None else "no returns this period"
            events.append(_event(con, eid, end, "open", "relapsed", note, g))
        else:
            continue
        events[-1]["system_code"] = code
    return events


def _rank_note(entry: dict[str, Any]) -> str:
    return f"ranked {entry['rank']} with score {entry['score']:.1f}; rules: " + ", ".join(
        r["rule"] for r in entry["rules_fired"]
    )


def update_status(
    wh: Warehouse, escalation_id: int, status: str, note: str | None, period: Period | None
) -> dict[str, Any]:
    if status not in STATUSES:
        raise InvalidInputError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    with wh.transaction() as con:
        found = con.execute(
            "SELECT status FROM escalations WHERE escalation_id = ?", [escalation_id]
        ).fetchone()
        if found is None:
            raise QueryError(f"no escalation {escalation_id}", hint="fourhour escalations list")
        end = period.end if period else None
        granularity = period.granularity if period else None
        return _event(con, escalation_id, end, status, "status_update", note, granularity)


def list_escalations(
    wh: Warehouse, status: str | None = None, level: str | None = None
) -> list[dict[str, Any]]:
    rows = wh.con.execute(
        """
        SELECT e.escalation_id, e.level, e.system_code, e.system_name, e.opened_period_end,
               e.opened_granularity, e.status, e.closed_period_end,
               (SELECT arg_max(period_end, seq) FROM escalation_history h
                WHERE h.escalation_id = e.escalation_id AND h.period_end IS NOT NULL)
                   AS last_period,
               (SELECT arg_max(granularity, seq) FROM escalation_history h
                WHERE h.escalation_id = e.escalation_id AND h.period_end IS NOT NULL)
                   AS last_granularity
        FROM escalations e
        WHERE (? IS NULL OR e.status = ?) AND (? IS NULL OR e.level = ?)
        ORDER BY e.status = 'closed', e.opened_period_end, e.escalation_id
        """,
        [status, status, level, level],
    ).fetchall()
    keys = (
        "id",
        "level",
        "system_code",
        "system_name",
        "opened",
        "opened_granularity",
        "status",
        "closed",
        "last_period",
        "last_granularity",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


def show_escalation(wh: Warehouse, escalation_id: int) -> dict[str, Any]:
    found = [e for e in list_escalations(wh) if e["id"] == escalation_id]
    if not found:
        raise QueryError(f"no escalation {escalation_id}", hint="fourhour escalations list")
    history = wh.con.execute(
        "SELECT seq, period_end, granularity, status, event, note, recorded_at "
        "FROM escalation_history WHERE escalation_id = ? ORDER BY seq",
        [escalation_id],
    ).fetchall()
    keys = ("seq", "period_end", "granularity", "status", "event", "note", "recorded_at")
    out = dict(found[0])
    out["history"] = [dict(zip(keys, h, strict=True)) for h in history]
    evidence = wh.con.execute(
        "SELECT result FROM escalation_runs WHERE level = ? AND granularity = ? AND period_end = ?",
        [out["level"], out["last_granularity"], out["last_period"]],
    ).fetchone()
    if evidence:
        data = json.loads(evidence[0])
        entry = next((s for s in data["summons"] if s["code"] == out["system_code"]), None)
        out["latest_evidence"] = entry
    return out


def attach_status(wh: Warehouse, payload: dict[str, Any]) -> dict[str, Any]:
    """Add each summoned system's live escalation id and status (None if not escalated)."""
    level = payload.get("level", "system")
    live = {
        e["system_code"]: e for e in list_escalations(wh, level=level) if e["status"] != "closed"
    }
    for s in payload["summons"]:
        found = live.get(s["code"])
        s["escalation_id"] = found["id"] if found else None
        s["status"] = found["status"] if found else None
    return payload
