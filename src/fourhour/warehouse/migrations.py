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
)
