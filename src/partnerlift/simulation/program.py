"""A synthetic partner program with planted effects, and its canonical files."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from partnerlift.simulation import parameters
from partnerlift.simulation.activity import (
    SIMULATORS,
    EventLog,
    PartnerContext,
    asset_frame,
    simulate_browsing,
)
from partnerlift.simulation.deals import DealBook, simulate_deals

logger = logging.getLogger(__name__)

_NAME_STEMS = (
    "青葉",
    "桜",
    "富士",
    "大和",
    "光",
    "みなと",
    "北斗",
    "朝日",
    "若葉",
    "東雲",
)
_NAME_ENDINGS = (
    "システム",
    "ソリューションズ",
    "テクノロジー",
    "ネットワークス",
    "情報サービス",
)
_TIMESTAMP_COLUMNS = {"events": ["occurred_at"], "deals": ["created_at", "closed_at"]}
TABLES = ("partners", "users", "assets", "events", "deals")


@dataclass
class SimulatedProgram:
    """A synthetic partner program in the canonical columns.

    Timestamps are zone-aware in the program's time zone; ``joined_at`` and
    ``valid_from`` are dates. ``truth`` records the planted effects and the parameters
    they come from (see :mod:`partnerlift.simulation.parameters`).
    """

    partners: pd.DataFrame
    users: pd.DataFrame
    assets: pd.DataFrame
    events: pd.DataFrame
    deals: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)


def _draw(rng: np.random.Generator, shares: dict[str, float]) -> str:
    names = list(shares)
    return names[int(rng.choice(len(names), p=list(shares.values())))]


def _partner_row(rng: np.random.Generator, number: int, start: date) -> dict[str, Any]:
    size = _draw(rng, parameters.SIZE_SHARE)
    stem = _NAME_STEMS[int(rng.integers(0, len(_NAME_STEMS)))]
    ending = _NAME_ENDINGS[int(rng.integers(0, len(_NAME_ENDINGS)))]
    return {
        "partner_id": f"P{number:05d}",
        "name": f"{stem}{ending}株式会社",
        "tier": _draw(rng, parameters.TIER_SHARE[size]),
        "region": parameters.REGIONS[int(rng.integers(0, len(parameters.REGIONS)))],
        "segment": parameters.SEGMENTS[int(rng.integers(0, len(parameters.SEGMENTS)))],
        "size": size,
        "joined_at": start
        + timedelta(days=int(rng.integers(0, parameters.JOIN_SPREAD_DAYS))),
    }


def _user_rows(
    rng: np.random.Generator, partner: dict[str, Any]
) -> list[dict[str, Any]]:
    low, high = parameters.USERS_PER_PARTNER[partner["size"]]
    rows = []
    for index in range(int(rng.integers(low, high + 1))):
        user_id = f"{partner['partner_id']}-U{index + 1}"
        rows.append(
            {
                "user_id": user_id,
                "partner_id": partner["partner_id"],
                "email": f"{user_id.lower()}@partners.example.jp",
                "valid_from": partner["joined_at"],
                "valid_to": None,
            }
        )
    return rows


def _truth(
    *, partners: int, seed: int, months: int, start: date, end: date, zone: str
) -> dict[str, Any]:
    null_effects = {behavior: 1.0 for behavior in parameters.BEHAVIORS}
    return {
        "seed": seed,
        "partners": partners,
        "months": months,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": zone,
        "exposure_days": parameters.EXPOSURE_DAYS,
        "horizon_days": parameters.HORIZON_DAYS,
        "confounder": "size",
        # Risk ratios within every size stratum: the effect that adjustment recovers.
        "risk_ratio": {
            "win_rate": {
                **null_effects,
                "onboarding_video": parameters.VIDEO_RISK_RATIO,
            },
            "opportunity_rate": dict(null_effects),
        },
        "expected_crude_risk_ratio": parameters.expected_crude_risk_ratios(),
        "win_probability_base": dict(parameters.WIN_BASE),
        "opportunity_probability": dict(parameters.OPPORTUNITY_PROBABILITY),
        "behavior_probability": {
            k: dict(v) for k, v in parameters.BEHAVIOR_PROBABILITY.items()
        },
        "size_share": dict(parameters.SIZE_SHARE),
    }


def _simulate_partner(
    rng: np.random.Generator,
    events: EventLog,
    deals: DealBook,
    partner: dict[str, Any],
    users: list[dict[str, Any]],
    *,
    program_end: date,
    zone: ZoneInfo,
) -> None:
    size = partner["size"]
    context = PartnerContext(
        partner_id=partner["partner_id"],
        joined=partner["joined_at"],
        program_end=program_end,
        users=[user["user_id"] for user in users],
        activity=1.0 + 0.5 * parameters.SIZES.index(size),
        zone=zone,
    )
    # Each behaviour depends on size alone, so behaviours are independent given size.
    done = {
        behavior: bool(rng.random() < parameters.BEHAVIOR_PROBABILITY[behavior][size])
        for behavior in parameters.BEHAVIORS
    }
    for behavior in parameters.BEHAVIORS:
        SIMULATORS[behavior](events, context, done[behavior])
    simulate_browsing(events, context)
    video = done["onboarding_video"]
    wins = bool(rng.random() < parameters.win_probability(size, video))
    has_opportunity = bool(rng.random() < parameters.OPPORTUNITY_PROBABILITY[size])
    simulate_deals(deals, context, size, wins=wins, has_opportunity=has_opportunity)


def simulate_program(
    partners: int = 500,
    seed: int = 7,
    months: int = 12,
    start: date = date(2025, 4, 1),
    *,
    timezone: str = "Asia/Tokyo",
) -> SimulatedProgram:
    """Simulate a partner program with a planted effect and confounding by size.

    Completing the onboarding video in the 90 days after joining doubles the chance of
    winning a deal in the following 180 days, within every size stratum. The other
    five default behaviours have no effect of their own. Larger partners do every
    behaviour more often and win more often, so crude comparisons are biased upwards.

    Parameters
    ----------
    partners
        Number of partners.
    seed
        Seed of the NumPy random generator; the same seed gives the same program.
    months
        Length of the program. Partners join in its first 90 days, so 12 months give
        every partner its full 90-day exposure and 180-day outcome windows.
    start
        First day of the program, in ``timezone``.
    timezone
        IANA time zone of the timestamps.

    Returns
    -------
    SimulatedProgram
        The tables and the ``truth`` dictionary of planted effects.

    Examples
    --------
    >>> program = simulate_program(partners=20, seed=1)
    >>> len(program.partners)
    20
    >>> program.truth["risk_ratio"]["win_rate"]["onboarding_video"]
    2.0
    """
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(timezone)
    end = (pd.Timestamp(start) + pd.DateOffset(months=months)).date()
    program_end = end - timedelta(days=1)
    events = EventLog(rng)
    deals = DealBook(rng)
    partner_rows: list[dict[str, Any]] = []
    user_rows: list[dict[str, Any]] = []
    for number in range(1, partners + 1):
        partner = _partner_row(rng, number, start)
        users = _user_rows(rng, partner)
        _simulate_partner(
            rng, events, deals, partner, users, program_end=program_end, zone=zone
        )
        partner_rows.append(partner)
        user_rows.extend(users)

    program = SimulatedProgram(
        partners=pd.DataFrame(partner_rows),
        users=pd.DataFrame(user_rows),
        assets=asset_frame(),
        events=events.frame(),
        deals=deals.frame(),
        truth=_truth(
            partners=partners,
            seed=seed,
            months=months,
            start=start,
            end=end,
            zone=timezone,
        ),
    )
    logger.info(
        "Simulated %d partners, %d events and %d deals (seed %d)",
        partners,
        len(program.events),
        len(program.deals),
        seed,
    )
    return program


def _iso(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return value.isoformat()


def _file_frame(program: SimulatedProgram, table: str) -> pd.DataFrame:
    frame = getattr(program, table).copy()
    for column in _TIMESTAMP_COLUMNS.get(table, []):
        frame[column] = frame[column].map(_iso).astype(object)
    return frame


def write_program(program: SimulatedProgram, folder: str | Path) -> dict[str, Path]:
    """Write the program as canonical UTF-8 CSV files and ``truth.json``.

    Timestamps are written as ISO 8601 with the zone's offset, such as
    ``2025-04-01T10:15:00+09:00``; asset tags are separated by ``|``.

    Parameters
    ----------
    program
        The program from :func:`simulate_program`.
    folder
        Folder for the files; created if missing. Existing files are replaced.

    Returns
    -------
    dict[str, Path]
        The path of each file by table name, plus ``truth``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for table in TABLES:
        path = folder / f"{table}.csv"
        _file_frame(program, table).to_csv(path, index=False, encoding="utf-8")
        paths[table] = path
    truth_path = folder / "truth.json"
    truth_path.write_text(
        json.dumps(program.truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    paths["truth"] = truth_path
    return paths
