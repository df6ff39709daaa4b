from __future__ import annotations

import json
import math
from datetime import timedelta

import pandas as pd
import pytest

from partnerlift.simulation import simulate_program, write_program

EXPOSURE = timedelta(days=90)
HORIZON = timedelta(days=180)


@pytest.fixture(scope="module")
def program():
    return simulate_program(partners=2000, seed=11)


def _partner_flags(program) -> pd.DataFrame:
    """Count each partner's video completion and outcome by hand from the frames.

    The video is "done" when an onboarding video completion falls in the 90 days from
    the join date. The outcome window is the 180 days after those 90.
    """
    partners = program.partners.set_index("partner_id")
    joined = pd.to_datetime(partners["joined_at"]).dt.tz_localize("Asia/Tokyo")
    assets = program.assets.set_index("asset_id")
    onboarding_videos = assets.index[
        (assets["kind"] == "video")
        & assets["tags"].str.split("|").map(lambda t: "onboarding" in t)
    ]

    events = program.events
    completions = events[
        (events["action"] == "completed") & events["asset_id"].isin(onboarding_videos)
    ]
    completion_join = joined.reindex(completions["partner_id"]).to_numpy()
    in_exposure = completions["occurred_at"].to_numpy() < completion_join + EXPOSURE
    video = set(completions.loc[in_exposure, "partner_id"])

    deals = program.deals
    deal_join = joined.reindex(deals["partner_id"]).to_numpy()
    closed_in_window = (deals["closed_at"].to_numpy() >= deal_join + EXPOSURE) & (
        deals["closed_at"].to_numpy() < deal_join + EXPOSURE + HORIZON
    )
    closed = deals[closed_in_window]
    winners = set(closed.loc[closed["status"] == "won", "partner_id"])

    flags = pd.DataFrame({"size": partners["size"]})
    flags["video"] = flags.index.isin(video)
    flags["closed"] = flags.index.isin(set(closed["partner_id"]))
    flags["won"] = flags.index.isin(winners)
    return flags


def test_same_seed_same_program():
    first = simulate_program(partners=40, seed=3)

    second = simulate_program(partners=40, seed=3)

    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.deals, second.deals)
    pd.testing.assert_frame_equal(first.partners, second.partners)


def test_other_seed_other_program():
    first = simulate_program(partners=40, seed=3)

    second = simulate_program(partners=40, seed=4)

    assert not first.events["occurred_at"].equals(second.events["occurred_at"])


def test_partners_join_in_first_90_days(program):
    joined = pd.to_datetime(program.partners["joined_at"])

    offsets = (joined - pd.Timestamp("2025-04-01")).dt.days

    assert offsets.min() >= 0
    assert offsets.max() <= 89


def test_every_partner_closes_a_deal_in_window(program):
    flags = _partner_flags(program)

    assert flags["closed"].all()


def test_users_per_partner_between_1_and_8(program):
    counts = program.users.groupby("partner_id").size()

    assert counts.min() >= 1
    assert counts.max() <= 8
    assert len(counts) == len(program.partners)


def test_events_in_tokyo_business_hours(program):
    local = program.events["occurred_at"]

    assert str(local.dt.tz) == "Asia/Tokyo"
    assert local.dt.hour.between(8, 20).all()
    # Weekends appear only where a login month's slice of the window has no weekday.
    assert (local.dt.weekday < 5).mean() > 0.99


def test_some_events_count_several(program):
    assert (program.events["quantity"] > 1).any()


def test_planted_video_effect_within_sizes(program):
    flags = _partner_flags(program)
    expected = program.truth["risk_ratio"]["win_rate"]["onboarding_video"]

    rates = flags.groupby(["size", "video"])["won"].mean().unstack()
    ratios = rates[True] / rates[False]
    # Mantel-Haenszel pooled risk ratio:
    # sum(a_k * n0_k / N_k) / sum(c_k * n1_k / N_k) over size strata k.
    numerator = denominator = 0.0
    for _, stratum in flags.groupby("size"):
        total = len(stratum)
        with_video = stratum[stratum["video"]]
        without_video = stratum[~stratum["video"]]
        numerator += with_video["won"].sum() * len(without_video) / total
        denominator += without_video["won"].sum() * len(with_video) / total
    pooled = numerator / denominator

    # truth.json plants 2.0 in every stratum. With 2000 partners the pooled log ratio
    # has a standard error near 0.07 (an estimate), so 0.2 is about three of them.
    assert abs(math.log(pooled / expected)) < 0.2
    for size, ratio in ratios.items():
        assert abs(math.log(ratio / expected)) < 0.5, size


def test_larger_partners_win_more(program):
    flags = _partner_flags(program)

    rates = flags.groupby("size")["won"].mean()

    assert rates["small"] < rates["medium"] < rates["large"]


def test_larger_partners_watch_more(program):
    flags = _partner_flags(program)

    rates = flags.groupby("size")["video"].mean()

    assert rates["small"] < rates["medium"] < rates["large"]


def test_truth_keeps_win_chance_below_one(program):
    truth = program.truth
    ratio = truth["risk_ratio"]["win_rate"]["onboarding_video"]

    highest = max(truth["win_probability_base"].values()) * ratio

    assert highest < 1


def test_write_program_files(tmp_path, program):
    small = simulate_program(partners=5, seed=1)

    paths = write_program(small, tmp_path / "data")

    assert sorted(paths) == ["assets", "deals", "events", "partners", "truth", "users"]
    assert json.loads(paths["truth"].read_text(encoding="utf-8"))["seed"] == 1
    header = paths["events"].read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[:3] == ["event_id", "occurred_at", "partner_id"]


def test_written_timestamps_carry_offset(tmp_path):
    small = simulate_program(partners=5, seed=1)

    paths = write_program(small, tmp_path)

    events = pd.read_csv(paths["events"], dtype=str)
    assert (
        events["occurred_at"]
        .str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$")
        .all()
    )
