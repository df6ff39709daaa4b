"""Benchmark of ``analyze``: 10,000 partners, 100 behaviour thresholds, four outcomes.

The program is generated straight into a workspace's database (10 asset kinds,
events in each partner's first 90 days, deals in the 180 days after), then one
study is analysed end to end: cohort windows, the 100 threshold rules evaluated on
the events of each partner's exposure window, outcome counts, and for each of the
400 findings the estimators, adjustment by tier and size, the bootstraps (200
resamples) and the statements in both languages.

For comparison the same cohort (behaviour counts in the exposure window and deal
counts in the outcome window) is also built by hand-written DuckDB SQL and by plain
pandas, so the cost of the rule engine can be told apart from the statistics.

Run: .venv/bin/python benchmarks/analysis_benchmark.py [--partners N]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from partnerlift.analysis import analyze
from partnerlift.analysis.study import Study
from partnerlift.scoring import ScoreModel
from partnerlift.settings import create_workspace
from partnerlift.store import Database

KINDS = 10
THRESHOLDS = list(range(1, 11))
OUTCOMES = ["opportunity_rate", "win_rate", "lead_time", "revenue"]
TOKYO = timedelta(hours=9)
START = datetime(2024, 1, 1)


def _timestamps(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[us]"), type=pa.timestamp("us"))


def generate(db: Database, partners: int, seed: int = 1) -> dict[str, int]:
    """Write partners, assets, events and deals; return the row counts."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{number:05d}" for number in range(partners)])
    size = rng.choice(3, size=partners, p=[0.5, 0.3, 0.2])
    tier = rng.choice(3, size=partners, p=[0.4, 0.4, 0.2])
    joined_day = rng.integers(0, 180, size=partners)
    joined_local = np.datetime64(START) + joined_day.astype("timedelta64[D]")
    db.insert_arrow(
        "partners",
        pa.table(
            {
                "partner_id": ids,
                "tier": np.take(["bronze", "silver", "gold"], tier),
                "size": np.take(["small", "medium", "large"], size),
                "region": np.take(["east", "west"], rng.integers(0, 2, partners)),
                "joined_at": _timestamps(joined_local - np.timedelta64(9, "h")),
                "joined_local": _timestamps(joined_local),
            }
        ),
    )
    db.insert_arrow(
        "assets",
        pa.table(
            {
                "asset_id": [f"A{kind}" for kind in range(KINDS)],
                "kind": [f"k{kind}" for kind in range(KINDS)],
            }
        ),
    )
    # Events: per partner and kind a Poisson count in the first 90 days, larger
    # partners more active.
    rates = rng.uniform(0.5, 5.0, size=KINDS)
    counts = rng.poisson(rates[None, :] * (0.6 + 0.4 * size[:, None]))
    partner_index = np.repeat(np.arange(partners), counts.sum(axis=1))
    kind_index = np.concatenate([np.repeat(np.arange(KINDS), row) for row in counts])
    offsets = rng.uniform(0, 90 * 86400, size=len(partner_index)).astype("int64")
    local = joined_local[partner_index] + offsets.astype("timedelta64[s]")
    db.insert_arrow(
        "events",
        pa.table(
            {
                "event_id": np.array([f"E{n}" for n in range(len(partner_index))]),
                "occurred_at": _timestamps(local - np.timedelta64(9, "h")),
                "occurred_local": _timestamps(local),
                "partner_id": ids[partner_index],
                "action": np.full(len(partner_index), "viewed"),
                "asset_id": np.take([f"A{kind}" for kind in range(KINDS)], kind_index),
                "quantity": np.ones(len(partner_index)),
            }
        ),
    )
    # Deals: Poisson number created in days 90 to 270, won more often by larger
    # partners and by those who used kind 0 three times or more.
    engaged = counts[:, 0] >= 3
    deal_counts = rng.poisson(0.5 + 0.3 * size + 0.2 * engaged)
    owner = np.repeat(np.arange(partners), deal_counts)
    created_offset = rng.uniform(90 * 86400, 270 * 86400, size=len(owner))
    created = joined_local[owner] + created_offset.astype("int64").astype(
        "timedelta64[s]"
    )
    closed = created + np.timedelta64(30, "D")
    won = rng.random(len(owner)) < 0.2 + 0.1 * size[owner] + 0.15 * engaged[owner]
    amount = rng.lognormal(13, 1, size=len(owner))
    db.insert_arrow(
        "deals",
        pa.table(
            {
                "deal_id": np.array([f"D{n}" for n in range(len(owner))]),
                "partner_id": ids[owner],
                "created_at": _timestamps(created - np.timedelta64(9, "h")),
                "created_local": _timestamps(created),
                "closed_at": _timestamps(closed - np.timedelta64(9, "h")),
                "closed_local": _timestamps(closed),
                "status": np.where(won, "won", "lost"),
                "amount": amount,
            }
        ),
    )
    return {"partners": partners, "events": len(partner_index), "deals": len(owner)}


def study() -> Study:
    """Ten asset kinds at thresholds 1 to 10: 100 hypotheses per outcome."""
    behaviors = [
        {
            "id": f"k{kind}",
            "label": {"en": f"Kind {kind} viewed", "ja": f"種類{kind}の閲覧"},
            "match": {"asset_kind": f"k{kind}"},
            "at_least": THRESHOLDS,
        }
        for kind in range(KINDS)
    ]
    return Study.model_validate(
        {
            "study": "benchmark",
            "behaviors": behaviors,
            "exposure": {"start": "joined_at", "days": 90},
            "horizon_days": 180,
            "outcomes": OUTCOMES,
            "adjust_for": ["tier", "size"],
            "resamples": 200,
            "as_of": "2025-06-30",
        }
    )


SQL_COHORT = """
WITH windows AS (
    SELECT partner_id,
           joined_at AS exposure_start,
           joined_at + INTERVAL 90 DAY AS exposure_end,
           joined_at + INTERVAL 270 DAY AS outcome_end
    FROM partners
),
behaviour AS (
    SELECT w.partner_id, a.kind, count(*) AS uses
    FROM events e
    JOIN assets a ON a.asset_id = e.asset_id
    JOIN windows w ON w.partner_id = e.partner_id
     AND e.occurred_at >= w.exposure_start AND e.occurred_at < w.exposure_end
    GROUP BY ALL
),
outcomes AS (
    SELECT w.partner_id,
           count(*) FILTER (WHERE d.created_at >= w.exposure_end
                            AND d.created_at < w.outcome_end) AS created,
           count(*) FILTER (WHERE d.closed_at >= w.exposure_end
                            AND d.closed_at < w.outcome_end
                            AND d.status = 'won') AS won
    FROM windows w LEFT JOIN deals d ON d.partner_id = w.partner_id
    GROUP BY ALL
)
SELECT o.partner_id, b.kind, b.uses, o.created, o.won
FROM outcomes o LEFT JOIN behaviour b USING (partner_id)
"""


def pandas_cohort(db: Database) -> pd.DataFrame:
    """Count the same cohort as ``SQL_COHORT`` does, in plain pandas."""
    partners = db.query("SELECT partner_id, joined_at FROM partners")
    events = db.query("SELECT partner_id, asset_id, occurred_at FROM events")
    assets = db.query("SELECT asset_id, kind FROM assets")
    deals = db.query("SELECT partner_id, created_at, closed_at, status FROM deals")
    partners["exposure_end"] = partners["joined_at"] + pd.Timedelta(days=90)
    partners["outcome_end"] = partners["joined_at"] + pd.Timedelta(days=270)
    events = events.merge(assets, on="asset_id").merge(partners, on="partner_id")
    inside = events[
        (events["occurred_at"] >= events["joined_at"])
        & (events["occurred_at"] < events["exposure_end"])
    ]
    uses = inside.groupby(["partner_id", "kind"]).size().rename("uses").reset_index()
    deals = deals.merge(partners, on="partner_id")
    created = (deals["created_at"] >= deals["exposure_end"]) & (
        deals["created_at"] < deals["outcome_end"]
    )
    won = (
        (deals["closed_at"] >= deals["exposure_end"])
        & (deals["closed_at"] < deals["outcome_end"])
        & (deals["status"] == "won")
    )
    outcome = (
        deals.assign(created=created, won=won)
        .groupby("partner_id")[["created", "won"]]
        .sum()
        .reset_index()
    )
    return partners[["partner_id"]].merge(outcome, how="left").merge(uses, how="left")


def main() -> None:
    """Generate the program, then time the three ways and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workspace = create_workspace(
            Path(folder) / "ws", timezone="Asia/Tokyo", locale="en"
        )
        model = ScoreModel.model_validate(
            {"model": "none", "rules": [{"id": "any", "match": {"action": "x"}}]}
        )
        with Database(workspace.database_path) as db:
            rows = generate(db, arguments.partners)
            print(f"rows: {rows}")
            began = time.perf_counter()
            result = analyze(db, study(), model=model, zone=workspace.zone)
            analysed = time.perf_counter() - began
            began = time.perf_counter()
            db.query(SQL_COHORT)
            sql_seconds = time.perf_counter() - began
            began = time.perf_counter()
            pandas_cohort(db)
            pandas_seconds = time.perf_counter() - began
    findings = result["findings"]
    ok = sum(finding["status"] == "ok" for finding in findings)
    print(f"findings: {len(findings)} ({ok} ok)")
    print(f"analyze end to end: {analysed:.1f} s")
    print(f"cohort counts by hand-written DuckDB SQL: {sql_seconds:.2f} s")
    print(f"cohort counts by plain pandas: {pandas_seconds:.2f} s")
    print(f"python {platform.python_version()} on {platform.machine()}")


if __name__ == "__main__":
    main()
