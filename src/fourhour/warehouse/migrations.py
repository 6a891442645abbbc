"""Named, recorded schema migrations. Applied in order; each runs once, in a transaction."""

from __future__ import annotations

from dataclasses import dataclass

from fourhour.ingest.model import COUNT_COLUMNS


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


def _counts(sql_type: str) -> str:
    return ",\n    ".join(f"{c} {sql_type}" for c in COUNT_COLUMNS)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_core",
        f"""
CREATE TABLE organisations (
    code VARCHAR PRIMARY KEY,
    name VARCHAR,
    kind VARCHAR NOT NULL DEFAULT 'provider',   -- provider | site | system | region | area_team
    code_source VARCHAR NOT NULL DEFAULT 'published',  -- published | derived-from-name
    name_as_of DATE,                    -- the period the name was published for
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Parent codes and names as the files carry them, dated by the period they describe.
CREATE TABLE org_relations (
    child_code VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,          -- region | system | area_team | trust
    parent_code VARCHAR,
    parent_name VARCHAR,
    as_of DATE NOT NULL,
    ingest_id BIGINT,
    PRIMARY KEY (child_code, relation, as_of)
);
-- Names seen for each code, so that files naming trusts without codes can be resolved.
CREATE TABLE org_aliases (
    name_key VARCHAR PRIMARY KEY,
    code VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    source VARCHAR NOT NULL
);
CREATE SEQUENCE ingest_id_seq START 1;
CREATE TABLE ingest_log (
    ingest_id BIGINT PRIMARY KEY,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    layout VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_inserted BIGINT NOT NULL,
    rows_replaced BIGINT NOT NULL,
    replaced_ingest_ids VARCHAR,      -- earlier ingests whose figures this one revised
    period_from DATE,
    period_to DATE,
    notes VARCHAR,
    ingested_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE provider_returns (
    granularity VARCHAR NOT NULL,     -- week | month
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    org_code VARCHAR NOT NULL,
    {_counts("BIGINT")},
    breaches_estimated BOOLEAN NOT NULL DEFAULT false,
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (granularity, period_end, org_code)
);
-- National and regional totals as published (the time series holds estimated, fractional
-- counts), kept for cross-checks and for England figures where no provider rows exist.
CREATE TABLE published_totals (
    granularity VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    area VARCHAR NOT NULL,            -- ENGLAND or a region's name
    {_counts("DOUBLE")},
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (granularity, period_end, area)
);
""",
    ),
    Migration(
        "0002_capacity",
        """
-- Daily general and acute (G&A) and critical care beds per trust, from the winter and daily
-- situation reports, for the capacity model and for relating occupancy to performance.
CREATE TABLE bed_occupancy (
    date DATE NOT NULL,
    org_code VARCHAR NOT NULL,
    ga_beds_open BIGINT,
    ga_beds_occupied BIGINT,
    ga_core_beds_open BIGINT,
    ga_escalation_beds_open BIGINT,
    cc_adult_open BIGINT,
    cc_adult_occupied BIGINT,
    beds_closed_norovirus BIGINT,
    long_stay_over_7_days BIGINT,
    long_stay_over_21_days BIGINT,
    delayed_transfers BIGINT,
    ambulance_delays_30_60 BIGINT,
    ambulance_delays_over_60 BIGINT,
    diverts BIGINT,
    closures BIGINT,
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (date, org_code)
);
-- Daily A&E activity per site, from the daily situation reports.
CREATE TABLE daily_site_ae (
    date DATE NOT NULL,
    site_code VARCHAR NOT NULL,
    org_code VARCHAR NOT NULL,
    attendances BIGINT,
    over_4h BIGINT,
    dta_4_12h BIGINT,
    dta_over_12h BIGINT,
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (date, site_code)
);
""",
    ),
    Migration(
        "0003_oversight",
        """
-- Which local system and region each provider belonged to, with validity dates, as imported
-- by `fourhour orgs import` from a mapping file. Preferred over org_relations (what returns and
-- reference files carried) whenever a period falls inside a row's validity.
CREATE TABLE org_hierarchy (
    provider_code VARCHAR NOT NULL,
    provider_name VARCHAR,
    system_code VARCHAR NOT NULL,
    system_name VARCHAR NOT NULL,
    system_kind VARCHAR NOT NULL,     -- srg | aedb | stp | icb | area_team | other
    region_code VARCHAR NOT NULL,
    region_name VARCHAR NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,                    -- inclusive; NULL while still in force
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (provider_code, valid_from)
);
-- Trust mergers: from effective_from the predecessor's activity counts as the successor's.
CREATE TABLE org_successions (
    predecessor_code VARCHAR PRIMARY KEY,
    successor_code VARCHAR NOT NULL,
    effective_from DATE NOT NULL,
    ingest_id BIGINT NOT NULL
);
-- Accountable leaders: who answers for which organisation, when.
CREATE TABLE leaders (
    role VARCHAR NOT NULL,            -- national_leader | regional_director | system_chair |
                                      -- trust_chief_executive
    org_code VARCHAR NOT NULL,        -- ENGLAND, a region, a system or a trust code
    name VARCHAR NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (role, org_code, valid_from)
);
-- Agreed monthly four-hour trajectories per trust (percent within four hours, all types).
CREATE TABLE trajectories (
    org_code VARCHAR NOT NULL,
    month DATE NOT NULL,              -- first day of the month
    trajectory_pct DOUBLE NOT NULL,
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (org_code, month)
);
-- Each trust's allocation of a conditional fund for a financial year ('2016-17').
CREATE TABLE fund_allocations (
    org_code VARCHAR NOT NULL,
    financial_year VARCHAR NOT NULL,
    allocation_gbp DOUBLE NOT NULL,
    ingest_id BIGINT NOT NULL,
    PRIMARY KEY (org_code, financial_year)
);
-- One escalation run per week: the ranked systems and the summons list, as computed.
CREATE TABLE escalation_runs (
    period_end DATE PRIMARY KEY,
    rules_sha256 VARCHAR NOT NULL,
    result_sha256 VARCHAR NOT NULL,
    result JSON NOT NULL,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE SEQUENCE escalation_id_seq START 1;
CREATE TABLE escalations (
    escalation_id BIGINT PRIMARY KEY,
    system_code VARCHAR NOT NULL,
    system_name VARCHAR,
    opened_period_end DATE NOT NULL,
    status VARCHAR NOT NULL,          -- open | meeting_held | improving | closed
    closed_period_end DATE,
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE escalation_history (
    escalation_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    period_end DATE,
    status VARCHAR NOT NULL,
    event VARCHAR NOT NULL,           -- opened | summoned_again | recovering | relapsed |
                                      -- de-escalated | status_update
    note VARCHAR,
    recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (escalation_id, seq)
);
""",
    ),
    Migration(
        "0004_patients",
        """
-- Patient-level files stored in the patient store (Parquet files beside the warehouse file).
CREATE TABLE patient_files (
    ingest_id BIGINT PRIMARY KEY,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    stored_as VARCHAR NOT NULL,       -- file name inside the patient store
    rows_stored BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    quarantine VARCHAR,               -- where rejected rows were written, if any
    arrival_from TIMESTAMP,
    arrival_to TIMESTAMP,
    providers INTEGER NOT NULL,
    ingested_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
""",
    ),
    Migration(
        "0005_web",
        """
-- API tokens for `fourhour serve`: only the SHA-256 of a token is stored, never the token.
CREATE SEQUENCE api_token_id_seq START 1;
CREATE TABLE api_tokens (
    id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,            -- analyst | viewer
    sha256 VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    revoked_at TIMESTAMP
);
-- Every request that presented a token (token_id NULL: the token was unknown or revoked).
CREATE TABLE audit_log (
    "at" TIMESTAMP NOT NULL,         -- quoted: AT is a keyword in DuckDB
    token_id BIGINT,
    method VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    query VARCHAR,
    status INTEGER NOT NULL
);
""",
    ),
    Migration(
        "0006_dated_names_and_escalation_levels",
        """
-- Every name each source used for an organisation, with the span of periods (or reference
-- dates) it was used for, so that outputs name an organisation as it was in the period shown.
CREATE TABLE org_names (
    code VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    source VARCHAR NOT NULL,          -- returns (a return for the period) | reference
    seen_from DATE NOT NULL,
    seen_to DATE NOT NULL,
    PRIMARY KEY (code, name, source)
);
INSERT INTO org_names
SELECT code, name, 'reference', coalesce(name_as_of, CAST(updated_at AS DATE)),
       coalesce(name_as_of, CAST(updated_at AS DATE))
FROM organisations WHERE name IS NOT NULL AND name <> '';
-- Escalations of trusts (level 'provider') beside local systems, on weekly, monthly or
-- quarterly windows.
ALTER TABLE escalations ADD COLUMN level VARCHAR DEFAULT 'system';
ALTER TABLE escalations ADD COLUMN opened_granularity VARCHAR DEFAULT 'week';
ALTER TABLE escalation_history ADD COLUMN granularity VARCHAR DEFAULT 'week';
CREATE TABLE escalation_runs_by_level (
    level VARCHAR NOT NULL,           -- system | provider
    granularity VARCHAR NOT NULL,     -- week | month | quarter
    period_end DATE NOT NULL,
    rules_sha256 VARCHAR NOT NULL,
    result_sha256 VARCHAR NOT NULL,
    result JSON NOT NULL,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (level, granularity, period_end)
);
INSERT INTO escalation_runs_by_level
SELECT 'system', 'week', period_end, rules_sha256, result_sha256, result, computed_at
FROM escalation_runs;
DROP TABLE escalation_runs;
ALTER TABLE escalation_runs_by_level RENAME TO escalation_runs;
""",
    ),
    Migration(
        "0007_published_performance_base",
        """
-- Attendances within four hours as NHS England's national time series publishes them. Where
-- present, four-hour performance = within / (within + over): from May 2019 to May 2023 the
-- published percentages leave out the field-test trusts, whose attendances still count in
-- the activity columns (att_*), so attendances minus over 4 hours is not the within figure.
ALTER TABLE published_totals ADD COLUMN within_type1 DOUBLE;
ALTER TABLE published_totals ADD COLUMN within_type2 DOUBLE;
ALTER TABLE published_totals ADD COLUMN within_type3 DOUBLE;
-- True for months NHS England estimated by apportioning weekly returns into calendar months
-- (November 2010 to May 2015 in its time series).
ALTER TABLE published_totals ADD COLUMN apportioned BOOLEAN DEFAULT false;
""",
    ),
    Migration(
        "0009_web_precomputed_leagues",
        """
-- The web's league tables, computed in bulk after each ingest (`fourhour.web.precompute`):
-- one row per organisation, level and period, as a page or the API serves it, so that the
-- first request for any organisation-period is a keyed lookup.
CREATE TABLE web_league_rows (
    level VARCHAR NOT NULL,           -- provider | system | region
    granularity VARCHAR NOT NULL,     -- week | month
    period_end DATE NOT NULL,
    code VARCHAR NOT NULL,
    position INTEGER NOT NULL,        -- the order served (lowest performance first)
    row JSON NOT NULL,
    PRIMARY KEY (level, granularity, period_end, code)
);
-- One row per league: its basis and the fingerprint of everything it was computed from
-- (the returns of its SPC window and of a year before, the organisation tables), so that an
-- ingest recomputes only the leagues whose inputs changed.
CREATE TABLE web_leagues (
    level VARCHAR NOT NULL,
    granularity VARCHAR NOT NULL,
    period_end DATE NOT NULL,
    basis VARCHAR NOT NULL,
    inputs_sha256 VARCHAR NOT NULL,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (level, granularity, period_end)
);
-- The England page's inputs for every period held (its bulletin and national trend, pickled
-- by fourhour.web.precompute), with the fingerprint of what they were computed from.
CREATE TABLE web_england (
    granularity VARCHAR NOT NULL,
    period_end DATE NOT NULL,
    inputs_sha256 VARCHAR NOT NULL,
    inputs BLOB NOT NULL,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (granularity, period_end)
);
-- The A&E funding ledger of each quarter the shipped rules cover (pickled), for the provider
-- pages and /oversight/funding of a server started without --funding-rules.
CREATE TABLE web_funding (
    quarter_start DATE PRIMARY KEY,
    inputs_sha256 VARCHAR NOT NULL,
    ledger BLOB NOT NULL,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- The ingest the stored leagues are current for (one row); a later ingest or import makes
-- them stale until the precompute runs again, and the server computes live meanwhile.
CREATE TABLE web_precompute_state (
    id INTEGER PRIMARY KEY,
    ingest_id BIGINT NOT NULL,
    version VARCHAR NOT NULL,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
""",
    ),
)
