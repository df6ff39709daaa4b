"""The deals of one simulated partner, drawn from the planted outcome model."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

from partnerlift.simulation.activity import PartnerContext
from partnerlift.simulation.clock import pick_days, pick_moment
from partnerlift.simulation.parameters import (
    DEAL_AMOUNT_JPY,
    EXPOSURE_FIRST,
    EXPOSURE_LAST,
    OUTCOME_FIRST,
    OUTCOME_LAST,
    SIZES,
)

_OPEN_STAGES = ("qualification", "proposal", "negotiation")
DEAL_COLUMNS = [
    "deal_id",
    "partner_id",
    "created_at",
    "status",
    "closed_at",
    "amount",
    "currency",
    "stage",
]


class DealBook:
    """Collects deal rows for one program."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.rows: list[tuple] = []

    def add(
        self,
        partner: PartnerContext,
        size: str,
        created: date,
        status: str,
        closed: date | None,
    ) -> None:
        """Record one deal with a log-normal amount in JPY, rounded to 1,000 yen."""
        median = DEAL_AMOUNT_JPY[size]
        amount = int(round(float(self.rng.lognormal(math.log(median), 0.6)), -3))
        created_at = pick_moment(self.rng, created, partner.zone)
        closed_at = None
        if closed is not None:
            closed_at = pick_moment(self.rng, closed, partner.zone)
            if closed_at <= created_at:
                closed_at = created_at + timedelta(hours=1)
        stage = {"won": "closed_won", "lost": "closed_lost"}.get(status)
        if stage is None:
            stage = _OPEN_STAGES[int(self.rng.integers(0, len(_OPEN_STAGES)))]
        self.rows.append(
            (partner.partner_id, created_at, status, closed_at, amount, "JPY", stage)
        )

    def frame(self) -> pd.DataFrame:
        """Return the deals in the canonical columns, in order of creation."""
        frame = pd.DataFrame(self.rows, columns=DEAL_COLUMNS[1:])
        frame["created_at"] = pd.to_datetime(frame["created_at"])
        frame["closed_at"] = pd.to_datetime(frame["closed_at"])
        frame = frame.sort_values(["created_at", "partner_id"], kind="stable")
        frame = frame.reset_index(drop=True)
        frame.insert(0, "deal_id", [f"DL{index + 1:07d}" for index in frame.index])
        return frame[DEAL_COLUMNS]


def _day(partner: PartnerContext, offset: int) -> date:
    return partner.joined + timedelta(days=offset)


def simulate_deals(
    book: DealBook,
    partner: PartnerContext,
    size: str,
    *,
    wins: bool,
    has_opportunity: bool,
) -> None:
    """Simulate the deals of one partner.

    Every partner closes at least one deal in its outcome window. If ``wins``, at least
    one of them is won, and otherwise all of them are lost. If ``has_opportunity``,
    those deals are created in the outcome window too, with perhaps one more still
    open. Otherwise they were created in the exposure window, and nothing new is
    created in the outcome window.
    """
    rng = book.rng
    closed_count = int(rng.integers(1, SIZES.index(size) + 3))
    statuses = ["lost"] * closed_count
    if wins:
        statuses = ["won"] + [
            "won" if rng.random() < 0.3 else "lost" for _ in statuses[1:]
        ]
    for status in statuses:
        if has_opportunity:
            created = pick_days(
                rng, _day(partner, OUTCOME_FIRST - 3), _day(partner, 200), 1
            )[0]
            closed_first = created + timedelta(days=7)
            closed_last = min(created + timedelta(days=60), _day(partner, OUTCOME_LAST))
        else:
            created = pick_days(
                rng, _day(partner, EXPOSURE_FIRST + 4), _day(partner, EXPOSURE_LAST), 1
            )[0]
            closed_first = _day(partner, OUTCOME_FIRST)
            closed_last = _day(partner, 250)
        closed = pick_days(rng, closed_first, closed_last, 1)[0]
        book.add(partner, size, created, status, closed)
    if has_opportunity and rng.random() < 0.3:
        created = pick_days(
            rng, _day(partner, OUTCOME_FIRST), _day(partner, OUTCOME_LAST), 1
        )
        book.add(partner, size, created[0], "open", None)
    _simulate_history(book, partner, size)


def _simulate_history(book: DealBook, partner: PartnerContext, size: str) -> None:
    """Add deals outside the outcome window, which no outcome counts."""
    rng = book.rng
    if rng.random() < 0.2:
        created = pick_days(rng, _day(partner, EXPOSURE_FIRST), _day(partner, 60), 1)[0]
        closed = pick_days(
            rng, created + timedelta(days=5), _day(partner, EXPOSURE_LAST), 1
        )
        book.add(
            partner, size, created, "won" if rng.random() < 0.3 else "lost", closed[0]
        )
    first_later = _day(partner, OUTCOME_LAST + 10)
    for created in pick_days(
        rng, first_later, partner.program_end, int(rng.integers(0, 3))
    ):
        closed = created + timedelta(days=int(rng.integers(14, 46)))
        if closed > partner.program_end:
            book.add(partner, size, created, "open", None)
        else:
            status = "won" if rng.random() < 0.3 else "lost"
            book.add(partner, size, created, status, closed)
