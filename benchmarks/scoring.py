"""Benchmark scoring against hand-written DuckDB SQL and plain pandas.

Builds a synthetic program in a DuckDB file (default model, events spread over 2024
in Asia/Tokyo), then computes, three ways, every partner's score as of 2024-12-31
and the monthly timeline (the score at the end of each month of 2024):

- ``partnerlift``: ``score_partners`` and ``score_timeline`` (Ibis on DuckDB);
- ``sql``: one hand-written DuckDB query for each;
- ``pandas``: what an analyst writes after loading the events into a DataFrame.

Each runs in its own process, so its peak memory (ru_maxrss) is its own. The script
checks that the three agree and prints times, ratios and peak memory.

    .venv/bin/python benchmarks/scoring.py --events 10000000 --partners 10000
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "src" / "partnerlift" / "scoring" / "default_model.yaml"
ZONE = "Asia/Tokyo"
AS_OF = date(2024, 12, 31)
MONTH_ENDS = [
    (pd.Timestamp(2024, month, 1) + pd.offsets.MonthEnd(0)).date()
    for month in range(1, 13)
]
POINTS = {
    "onboarding_video": 20,
    "advanced_training": 10,
    "product_doc_pages": 10,
    "proposal_template": 15,
    "sales_faq": 5,
    "monthly_logins": 10,
}

ASSETS = """
INSERT INTO assets (asset_id, kind, tags) VALUES
  ('v_onboarding', 'video', ['onboarding', 'intro']),
  ('v_other', 'video', ['intro']),
  ('c_advanced', 'course', ['advanced']),
  ('c_basic', 'course', ['basic']),
  ('d_product', 'document', ['product']),
  ('d_legal', 'document', ['legal']),
  ('t_proposal', 'template', ['proposal']),
  ('f_sales', 'faq', ['sales'])
"""

# One event per row of range(n): a partner, an instant in 2024 and an action drawn
# from fixed shares. Tokyo has no daylight saving, so local time is UTC + 9 hours.
EVENTS = """
INSERT INTO events
SELECT
  'e' || i AS event_id,
  instant AS occurred_at,
  instant + INTERVAL 9 HOUR AS occurred_local,
  printf('P%06d', (hash(i * 7919) % $partners)::BIGINT) AS partner_id,
  NULL AS user_id,
  CASE WHEN r < 0.50 THEN 'logged_in'
       WHEN r < 0.75 THEN 'viewed'
       WHEN r < 0.80 THEN 'completed'
       WHEN r < 0.83 THEN 'attended'
       WHEN r < 0.86 THEN 'downloaded'
       ELSE 'viewed' END AS action,
  CASE WHEN r < 0.50 THEN NULL
       WHEN r < 0.70 THEN 'd_product'
       WHEN r < 0.72 THEN 'd_legal'
       WHEN r < 0.75 THEN 'f_sales'
       WHEN r < 0.79 THEN 'v_other'
       WHEN r < 0.80 THEN 'v_onboarding'
       WHEN r < 0.82 THEN 'c_basic'
       WHEN r < 0.83 THEN 'c_advanced'
       WHEN r < 0.86 THEN 't_proposal'
       ELSE NULL END AS asset_id,
  CASE WHEN q < 0.1 THEN 2.0 ELSE 1.0 END AS quantity,
  NULL AS source,
  CASE WHEN r >= 0.50 AND r < 0.72
       THEN MAP {'page': ((hash(i * 31) % 12) + 1)::VARCHAR}
       ELSE MAP {}::MAP(VARCHAR, VARCHAR) END AS properties,
  NULL AS batch_id
FROM (
  SELECT i,
         (hash(i) % 1000003) / 1000003.0 AS r,
         (hash(i + 17) % 1000) / 1000.0 AS q,
         TIMESTAMP '2023-12-31 15:00:00'
           + to_seconds((hash(i * 13) % 31622400)::BIGINT) AS instant
  FROM range($events) t(i)
)
"""


def build(path: Path, events: int, partners: int) -> None:
    """Create the workspace tables and fill them with the synthetic program."""
    sys.path.insert(0, str(ROOT / "src"))
    from partnerlift.store import Database

    with Database(path) as db:
        db.raw.execute(
            "INSERT INTO partners (partner_id) "
            f"SELECT printf('P%06d', i) FROM range({partners}) t(i)"
        )
        db.raw.execute(ASSETS)
        sql = EVENTS.replace("$partners", str(partners)).replace("$events", str(events))
        db.raw.execute(sql)


# The hand-written SQL: when each partner earned each rule (the instant of the event
# that met the threshold), then the points at the end of each month.
EARNED_SQL = """
WITH ev AS (
  SELECT e.partner_id, e.occurred_at, e.occurred_local, e.action, e.quantity,
         e.properties['page'] AS page, a.kind, a.tags
  FROM events e LEFT JOIN assets a USING (asset_id)
  WHERE e.occurred_at < $cutoff AND e.partner_id IS NOT NULL
),
simple AS (
  SELECT partner_id,
    min(occurred_at) FILTER (action = 'completed' AND kind = 'video'
                             AND list_contains(tags, 'onboarding')) AS onboarding_video,
    min(occurred_at) FILTER (action = 'attended' AND kind = 'course'
                             AND list_contains(tags, 'advanced')) AS advanced_training,
    min(occurred_at) FILTER (action = 'downloaded' AND kind = 'template')
      AS proposal_template,
    min(occurred_at) FILTER (action = 'viewed' AND kind = 'faq') AS sales_faq
  FROM ev GROUP BY partner_id
),
pages AS (
  SELECT partner_id, min(occurred_at) AS first_view
  FROM ev
  WHERE action = 'viewed' AND kind = 'document' AND list_contains(tags, 'product')
    AND page IS NOT NULL
  GROUP BY partner_id, page
),
third_page AS (
  SELECT partner_id, list_sort(list(first_view))[3] AS product_doc_pages
  FROM pages GROUP BY partner_id
),
logins AS (
  SELECT partner_id, occurred_at,
    sum(quantity) OVER (
      PARTITION BY partner_id, date_trunc('month', occurred_local)
      ORDER BY occurred_at ROWS UNBOUNDED PRECEDING) AS running
  FROM ev WHERE action = 'logged_in'
),
monthly AS (
  SELECT partner_id, min(occurred_at) AS monthly_logins
  FROM logins WHERE running >= 3 GROUP BY partner_id
)
SELECT p.partner_id, s.onboarding_video, s.advanced_training, t.product_doc_pages,
       s.proposal_template, s.sales_faq, m.monthly_logins
FROM partners p
LEFT JOIN simple s USING (partner_id)
LEFT JOIN third_page t USING (partner_id)
LEFT JOIN monthly m USING (partner_id)
"""

TIMELINE_SQL = """
WITH earned AS ({earned}),
ends AS (SELECT unnest($ends::TIMESTAMP[]) AS period_cutoff,
                unnest($names::VARCHAR[]) AS period_end)
SELECT partner_id, period_end,
  20 * coalesce(onboarding_video < period_cutoff, false)::INT
  + 10 * coalesce(advanced_training < period_cutoff, false)::INT
  + 10 * coalesce(product_doc_pages < period_cutoff, false)::INT
  + 15 * coalesce(proposal_template < period_cutoff, false)::INT
  + 5 * coalesce(sales_faq < period_cutoff, false)::INT
  + 10 * coalesce(monthly_logins < period_cutoff, false)::INT AS score
FROM earned, ends
"""


def cutoff(day: date) -> pd.Timestamp:
    """Return the end of ``day`` in Tokyo as a naive UTC instant."""
    sys.path.insert(0, str(ROOT / "src"))
    from partnerlift.settings.times import end_of_day_utc

    return pd.Timestamp(end_of_day_utc(day, ZoneInfo(ZONE)))


def run_sql(path: Path) -> dict[str, Any]:
    """Score and replay with the hand-written SQL."""
    con = duckdb.connect(str(path), read_only=True)
    earned = EARNED_SQL.replace("$cutoff", f"TIMESTAMP '{cutoff(AS_OF)}'")
    started = time.perf_counter()
    frame = con.execute(earned).df()
    scores = {
        row["partner_id"]: sum(
            points for rule, points in POINTS.items() if pd.notna(row[rule])
        )
        for _, row in frame.iterrows()
    }
    score_seconds = time.perf_counter() - started
    started = time.perf_counter()
    query = TIMELINE_SQL.format(earned=earned)
    ends = [str(cutoff(day)) for day in MONTH_ENDS]
    names = [day.isoformat() for day in MONTH_ENDS]
    rows = con.execute(
        query.replace("$ends", f"{ends}").replace("$names", f"{names}")
    ).df()
    timeline = _timeline_dict(rows)
    timeline_seconds = time.perf_counter() - started
    return _result(scores, timeline, score_seconds, timeline_seconds)


def _timeline_dict(rows: pd.DataFrame) -> dict[str, list[float]]:
    rows = rows.sort_values(["partner_id", "period_end"])
    return {
        str(partner): [float(value) for value in group["score"]]
        for partner, group in rows.groupby("partner_id")
    }


def _result(
    scores: dict[str, float],
    timeline: dict[str, list[float]],
    score_seconds: float,
    timeline_seconds: float,
    load_seconds: float = 0.0,
) -> dict[str, Any]:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "scores": {key: float(value) for key, value in scores.items()},
        "timeline": timeline,
        "score_seconds": score_seconds,
        "timeline_seconds": timeline_seconds,
        "load_seconds": load_seconds,
        "peak_mib": peak / 1024,
    }


def run_partnerlift(path: Path) -> dict[str, Any]:
    """Score and replay with partnerlift."""
    sys.path.insert(0, str(ROOT / "src"))
    from partnerlift.scoring import load_model, score_partners, score_timeline
    from partnerlift.store import Database

    model = load_model(MODEL)
    zone = ZoneInfo(ZONE)
    with Database(path) as db:
        started = time.perf_counter()
        result = score_partners(db, model, zone=zone, as_of=AS_OF)
        score_seconds = time.perf_counter() - started
        started = time.perf_counter()
        replay = score_timeline(
            db, model, zone=zone, every="month", as_of=AS_OF, start=date(2024, 1, 1)
        )
        timeline_seconds = time.perf_counter() - started
    scores = {item["partner_id"]: item["score"] for item in result["partners"]}
    timeline = {
        item["partner_id"]: [float(point["score"]) for point in item["timeline"]]
        for item in replay["partners"]
    }
    return _result(scores, timeline, score_seconds, timeline_seconds)


def _earned_pandas(events: pd.DataFrame, assets: pd.DataFrame, end: Any) -> Any:
    """Return, per partner, when each rule was earned (pandas only)."""
    flags = assets.assign(
        **{
            tag: assets["tags"].map(lambda tags, tag=tag: tag in list(tags))
            for tag in ("onboarding", "advanced", "product")
        }
    ).drop(columns="tags")
    ev = events[events["occurred_at"] < end].merge(flags, on="asset_id", how="left")
    has = {
        tag: ev[tag].astype("boolean").fillna(False).astype(bool)
        for tag in ("onboarding", "advanced", "product")
    }

    def first(mask: pd.Series) -> pd.Series:
        return ev[mask].groupby("partner_id")["occurred_at"].min()

    earned = {
        "onboarding_video": first(
            (ev["action"] == "completed") & (ev["kind"] == "video") & has["onboarding"]
        ),
        "advanced_training": first(
            (ev["action"] == "attended") & (ev["kind"] == "course") & has["advanced"]
        ),
        "proposal_template": first(
            (ev["action"] == "downloaded") & (ev["kind"] == "template")
        ),
        "sales_faq": first((ev["action"] == "viewed") & (ev["kind"] == "faq")),
    }
    docs = ev[
        (ev["action"] == "viewed")
        & (ev["kind"] == "document")
        & has["product"]
        & ev["page"].notna()
    ]
    first_views = (
        docs.groupby(["partner_id", "page"])["occurred_at"].min().sort_values()
    )
    third = first_views.groupby(level="partner_id").nth(2)
    third = third.reset_index(level="page", drop=True)
    earned["product_doc_pages"] = third
    logins = ev[ev["action"] == "logged_in"].sort_values("occurred_at")
    month = logins["occurred_local"].dt.to_period("M")
    running = logins.groupby([logins["partner_id"], month])["quantity"].cumsum()
    earned["monthly_logins"] = (
        logins[running >= 3].groupby("partner_id")["occurred_at"].min()
    )
    # concat keeps every partner that earned any rule, where assigning columns one
    # by one to a DataFrame would keep only the partners of its first columns.
    return pd.concat(earned, axis=1)


def run_pandas(path: Path) -> dict[str, Any]:
    """Score and replay with plain pandas on DataFrames loaded from the database."""
    con = duckdb.connect(str(path), read_only=True)
    started = time.perf_counter()
    events = con.execute(
        "SELECT partner_id, occurred_at, occurred_local, action, asset_id, quantity, "
        "properties['page'] AS page FROM events"
    ).df()
    assets = con.execute("SELECT asset_id, kind, tags FROM assets").df()
    partners = con.execute("SELECT partner_id FROM partners").df()["partner_id"]
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    earned = _earned_pandas(events, assets, cutoff(AS_OF)).reindex(partners)
    scores = {
        partner: float(sum(POINTS[rule] for rule in POINTS if pd.notna(row[rule])))
        for partner, row in earned.iterrows()
    }
    score_seconds = time.perf_counter() - started
    started = time.perf_counter()
    earned = _earned_pandas(events, assets, cutoff(AS_OF)).reindex(partners)
    timeline: dict[str, list[float]] = {partner: [] for partner in partners}
    for day in MONTH_ENDS:
        end = cutoff(day)
        points = sum(
            (earned[rule] < end).astype(int) * value for rule, value in POINTS.items()
        )
        for partner, value in points.items():
            timeline[partner].append(float(value))
    timeline_seconds = time.perf_counter() - started
    return _result(scores, timeline, score_seconds, timeline_seconds, load_seconds)


RUNNERS = {"partnerlift": run_partnerlift, "sql": run_sql, "pandas": run_pandas}


def machine() -> str:
    """Describe the machine: CPU model, cores and memory."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    total = memory.splitlines()[1].split()[1]
    return (
        f"{model}, {cores} cores, {total} RAM, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}"
    )


def compare(results: dict[str, dict[str, Any]]) -> list[str]:
    """Return the differences between the approaches' scores and timelines."""
    problems = []
    reference = results["sql"]
    for name, result in results.items():
        if result["scores"] != reference["scores"]:
            problems.append(f"{name}: scores differ from the hand-written SQL")
        if result["timeline"] != reference["timeline"]:
            problems.append(f"{name}: timeline differs from the hand-written SQL")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--only", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=sorted(RUNNERS),
        help="leave out an approach (for example pandas at 50 million events)",
    )
    arguments = parser.parse_args()
    if arguments.only:
        result = RUNNERS[arguments.only](arguments.database)
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        started = time.perf_counter()
        build(path, arguments.events, arguments.partners)
        print(
            f"Built {arguments.events:,} events for {arguments.partners:,} partners "
            f"in {time.perf_counter() - started:.1f} s ({machine()})",
            file=sys.stderr,
        )
        results = {}
        for name in ("sql", "partnerlift", "pandas"):
            if name in arguments.skip:
                continue
            command = [
                sys.executable,
                __file__,
                "--only",
                name,
                "--database",
                str(path),
            ]
            output = subprocess.run(command, capture_output=True, text=True)
            if output.returncode != 0:
                print(output.stderr, file=sys.stderr)
                return 1
            results[name] = json.loads(output.stdout.splitlines()[-1])

    problems = compare(results) if "sql" in results else []
    base = results.get("sql")
    print(
        f"{'approach':<12} {'score s':>9} {'timeline s':>11} {'ratio':>7} "
        f"{'load s':>7} {'peak MiB':>9}"
    )
    for name, result in results.items():
        total = result["score_seconds"] + result["timeline_seconds"]
        ratio = ""
        if base:
            ratio = f"{total / (base['score_seconds'] + base['timeline_seconds']):.2f}"
        print(
            f"{name:<12} {result['score_seconds']:>9.2f} "
            f"{result['timeline_seconds']:>11.2f} {ratio:>7} "
            f"{result['load_seconds']:>7.2f} {result['peak_mib']:>9.0f}"
        )
    print("agree: yes" if not problems else "agree: NO\n" + "\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
