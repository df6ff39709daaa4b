"""Support content and the support events of one simulated partner.

A behaviour that a partner "did" is simulated so that the matching rule of the default
score model awards points inside the exposure window. A behaviour it did not do leaves
the rule's threshold unmet there (a partial video view, two document pages, two logins
in a month), and may still happen after the window, as late adopters do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from partnerlift.simulation.clock import (
    month_start,
    next_month_start,
    pick_days,
    pick_moment,
)
from partnerlift.simulation.parameters import (
    EXPOSURE_FIRST,
    EXPOSURE_LAST,
    LATER_FIRST,
)

# asset_id, kind, title, tags, pages, duration_s
_ASSETS = [
    ("VID-ONB", "video", "導入トレーニング動画", "onboarding|training", None, 1500),
    ("VID-PRD", "video", "製品概要動画", "product", None, 600),
    ("CRS-ADV", "course", "応用トレーニング", "advanced|training", None, 10800),
    ("CRS-BAS", "course", "基礎トレーニング", "basic|training", None, 5400),
    ("DOC-CAT", "document", "製品カタログ", "product", 24, None),
    ("DOC-SPC", "document", "製品仕様書", "product", 16, None),
    ("DOC-PRC", "document", "価格表", "product|pricing", 6, None),
    ("DOC-CASE", "document", "導入事例集", "case_study", 12, None),
    ("TPL-PROP", "template", "提案書テンプレート", "proposal", None, None),
    ("TPL-EST", "template", "見積書テンプレート", "proposal|pricing", None, None),
    ("FAQ-SALES", "faq", "営業FAQ", "sales", None, None),
    ("FAQ-TECH", "faq", "技術FAQ", "technical", None, None),
    ("CMP-SPRING", "campaign", "春の販売キャンペーン", "campaign", None, None),
    ("FRM-SIGNUP", "form", "キャンペーン申込フォーム", "campaign", None, None),
    ("PAGE-HOME", "page", "パートナーポータル トップ", "portal", None, None),
]
PRODUCT_DOCUMENTS = ("DOC-CAT", "DOC-SPC", "DOC-PRC")
TEMPLATES = ("TPL-PROP", "TPL-EST")
FAQS = ("FAQ-SALES", "FAQ-TECH")
_PAGES = {asset[0]: asset[4] for asset in _ASSETS if asset[4]}


def asset_frame() -> pd.DataFrame:
    """Return the support content in the canonical asset columns."""
    frame = pd.DataFrame(
        _ASSETS, columns=["asset_id", "kind", "title", "tags", "pages", "duration_s"]
    )
    frame["pages"] = frame["pages"].astype("Int64")
    frame["duration_s"] = frame["duration_s"].astype("Int64")
    return frame


@dataclass
class PartnerContext:
    """The facts about one partner that the event generator uses."""

    partner_id: str
    joined: date
    program_end: date  # the last day of the program
    users: list[str]
    activity: float  # a multiplier of how much the partner does overall
    zone: ZoneInfo


class EventLog:
    """Collects event rows for one program."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.rows: list[tuple] = []

    def add(
        self,
        partner: PartnerContext,
        day: date,
        action: str,
        asset_id: str | None,
        *,
        quantity: int = 1,
        page: int | None = None,
    ) -> None:
        """Record one event on ``day`` by a random user of ``partner``."""
        moment: datetime = pick_moment(self.rng, day, partner.zone)
        user = partner.users[int(self.rng.integers(0, len(partner.users)))]
        self.rows.append(
            (moment, partner.partner_id, user, action, asset_id, quantity, page)
        )

    def frame(self) -> pd.DataFrame:
        """Return the events in the canonical columns plus ``page``, oldest first."""
        columns = [
            "occurred_at",
            "partner_id",
            "user_id",
            "action",
            "asset_id",
            "quantity",
            "page",
        ]
        frame = pd.DataFrame(self.rows, columns=columns)
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
        frame = frame.sort_values(["occurred_at", "partner_id"], kind="stable")
        frame = frame.reset_index(drop=True)
        frame.insert(0, "event_id", [f"EV{index + 1:08d}" for index in frame.index])
        frame["page"] = frame["page"].astype("Int64")
        frame["source"] = "simulation"
        return frame[["event_id", *columns[:-1], "source", "page"]]


def _exposure(
    partner: PartnerContext, first: int = EXPOSURE_FIRST
) -> tuple[date, date]:
    return (
        partner.joined + timedelta(days=first),
        partner.joined + timedelta(days=EXPOSURE_LAST),
    )


def _later(partner: PartnerContext) -> tuple[date, date]:
    return partner.joined + timedelta(days=LATER_FIRST), partner.program_end


def _choice(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def simulate_video(log: EventLog, partner: PartnerContext, done: bool) -> None:
    """Simulate views and completions of the onboarding video."""
    rng = log.rng
    first, last = _exposure(partner)
    if done:
        days = pick_days(rng, first, first + timedelta(days=75), 2)
        if rng.random() < 0.5:
            log.add(partner, days[0], "viewed", "VID-ONB")
        log.add(partner, days[1], "completed", "VID-ONB")
    else:
        if rng.random() < 0.4:  # started it but never finished
            for day in pick_days(rng, first, last, 1):
                log.add(partner, day, "viewed", "VID-ONB")
        if rng.random() < 0.35:  # completes it after the window
            for day in pick_days(rng, *_later(partner), 1):
                log.add(partner, day, "completed", "VID-ONB")


def simulate_training(log: EventLog, partner: PartnerContext, done: bool) -> None:
    """Simulate attendance of the advanced and basic courses."""
    rng = log.rng
    if done:
        for day in pick_days(rng, *_exposure(partner, first=5), 1):
            log.add(partner, day, "attended", "CRS-ADV")
    else:
        if rng.random() < 0.3:  # a course without the advanced tag
            for day in pick_days(rng, *_exposure(partner), 1):
                log.add(partner, day, "attended", "CRS-BAS")
        if rng.random() < 0.2:
            for day in pick_days(rng, *_later(partner), 1):
                log.add(partner, day, "attended", "CRS-ADV")


def _view_pages(
    log: EventLog,
    partner: PartnerContext,
    asset_id: str,
    pages: list[int],
    span: tuple[date, date],
) -> None:
    for page in pages:
        for day in pick_days(log.rng, *span, 1):
            quantity = int(log.rng.integers(1, 4))
            log.add(partner, day, "viewed", asset_id, quantity=quantity, page=page)


def simulate_documents(log: EventLog, partner: PartnerContext, done: bool) -> None:
    """Simulate page views of product documents (3+ distinct pages when done)."""
    rng = log.rng
    document = _choice(rng, PRODUCT_DOCUMENTS)
    page_count = _PAGES[document]
    if done:
        viewed_pages = int(rng.integers(3, min(page_count, 8) + 1))
        pages = rng.choice(
            np.arange(1, page_count + 1), size=viewed_pages, replace=False
        )
        _view_pages(
            log,
            partner,
            document,
            sorted(int(page) for page in pages),
            _exposure(partner),
        )
    elif rng.random() < 0.6:  # at most two pages: below the threshold
        viewed_pages = int(rng.integers(1, 3))
        pages = rng.choice(
            np.arange(1, page_count + 1), size=viewed_pages, replace=False
        )
        _view_pages(
            log,
            partner,
            document,
            sorted(int(page) for page in pages),
            _exposure(partner),
        )
    if rng.random() < 0.3:  # a document without the product tag
        pages = rng.choice(
            np.arange(1, 13), size=int(rng.integers(3, 6)), replace=False
        )
        _view_pages(
            log,
            partner,
            "DOC-CASE",
            sorted(int(page) for page in pages),
            _exposure(partner),
        )
    if rng.random() < 0.5 * partner.activity:
        pages = rng.choice(np.arange(1, page_count + 1), size=3, replace=False)
        _view_pages(
            log, partner, document, sorted(int(page) for page in pages), _later(partner)
        )


def simulate_templates(log: EventLog, partner: PartnerContext, done: bool) -> None:
    """Simulate downloads of the proposal templates."""
    rng = log.rng
    if done:
        for day in pick_days(rng, *_exposure(partner), int(rng.integers(1, 4))):
            log.add(partner, day, "downloaded", _choice(rng, TEMPLATES))
    if rng.random() < 0.4:
        for day in pick_days(rng, *_later(partner), int(rng.integers(1, 4))):
            log.add(partner, day, "downloaded", _choice(rng, TEMPLATES))


def simulate_faq(log: EventLog, partner: PartnerContext, done: bool) -> None:
    """Simulate views of the FAQs, some rows counting several views."""
    rng = log.rng
    if done:
        for day in pick_days(rng, *_exposure(partner), int(rng.integers(1, 5))):
            quantity = int(rng.integers(1, 4))
            log.add(partner, day, "viewed", _choice(rng, FAQS), quantity=quantity)
    if rng.random() < 0.4:
        for day in pick_days(rng, *_later(partner), int(rng.integers(1, 5))):
            quantity = int(rng.integers(1, 4))
            log.add(partner, day, "viewed", _choice(rng, FAQS), quantity=quantity)


def _exposure_months(partner: PartnerContext) -> list[tuple[date, date]]:
    first, last = _exposure(partner)
    spans = []
    start = month_start(first)
    while start <= last:
        end = next_month_start(start) - timedelta(days=1)
        spans.append((max(start, first), min(end, last)))
        start = next_month_start(start)
    return spans


def simulate_logins(log: EventLog, partner: PartnerContext, done: bool) -> None:
    """Simulate portal logins: 3+ in one calendar month of the window when done.

    A partner that did not do it logs in at most twice in every calendar month that
    overlaps its exposure window.
    """
    rng = log.rng
    for span in _exposure_months(partner):
        for day in pick_days(rng, *span, int(rng.integers(0, 3))):
            log.add(partner, day, "logged_in", None)
    if done:
        # The anchor is day 1 to 11 of the month after joining, so logins up to 15
        # days later stay in that one month and at most 56 days after joining.
        anchor = next_month_start(partner.joined)
        anchor += timedelta(days=int(rng.integers(0, 11)))
        last = min(anchor + timedelta(days=15), _exposure(partner)[1])
        for day in pick_days(rng, anchor, last, int(rng.integers(3, 7))):
            log.add(partner, day, "logged_in", None)
    later_first, later_last = _later(partner)
    start = next_month_start(later_first)
    while start <= later_last:
        end = min(next_month_start(start) - timedelta(days=1), later_last)
        count = int(rng.poisson(2.0 * partner.activity))
        for day in pick_days(rng, start, end, count):
            log.add(partner, day, "logged_in", None)
        start = next_month_start(start)


def simulate_browsing(log: EventLog, partner: PartnerContext) -> None:
    """Simulate activity that no default rule counts: portal pages, campaigns, forms."""
    rng = log.rng
    first = partner.joined
    last = partner.program_end
    for day in pick_days(rng, first, last, int(rng.poisson(4 * partner.activity))):
        log.add(partner, day, "viewed", "PAGE-HOME", quantity=int(rng.integers(1, 6)))
    for day in pick_days(rng, first, last, int(rng.poisson(1.5 * partner.activity))):
        log.add(partner, day, "viewed", "VID-PRD")
    for day in pick_days(rng, first, last, int(rng.poisson(1.0 * partner.activity))):
        log.add(partner, day, "viewed", "CMP-SPRING")
    if rng.random() < 0.2 * partner.activity:
        for day in pick_days(rng, first, last, 1):
            log.add(partner, day, "submitted", "FRM-SIGNUP")


SIMULATORS = {
    "onboarding_video": simulate_video,
    "advanced_training": simulate_training,
    "product_doc_pages": simulate_documents,
    "proposal_template": simulate_templates,
    "sales_faq": simulate_faq,
    "monthly_logins": simulate_logins,
}
