"""The parameters of the synthetic partner program and the effects planted in it.

The outcome model is deliberately simple, so that the true effects are known exactly:

* Every partner has at least one deal closed in its outcome window (the 180 days after
  the 90-day exposure window that starts on its join date), so the win rate's
  denominator is every partner.
* P(at least one won deal in the outcome window | size, video) =
  ``WIN_BASE[size] * VIDEO_RISK_RATIO`` if the partner completed the onboarding video in
  its exposure window, else ``WIN_BASE[size]``. The risk ratio within every size stratum
  is therefore exactly ``VIDEO_RISK_RATIO``.
* P(a deal created in the outcome window | size) = ``OPPORTUNITY_PROBABILITY[size]``,
  whatever the partner did, so every behaviour's true risk ratio on the opportunity rate
  is 1.
* Each behaviour happens with ``BEHAVIOR_PROBABILITY[behavior][size]``, independently of
  the others given the size. Larger partners engage more and win more, so size
  confounds every behaviour: the crude risk ratio of a behaviour without an effect of
  its own is above 1, and the size-adjusted one is 1.
"""

from __future__ import annotations

SIZES = ("small", "medium", "large")
SIZE_SHARE = {"small": 0.5, "medium": 0.35, "large": 0.15}

TIERS = ("gold", "silver", "bronze")
# Tier follows size but has no effect of its own on any behaviour or outcome.
TIER_SHARE = {
    "small": {"gold": 0.1, "silver": 0.3, "bronze": 0.6},
    "medium": {"gold": 0.25, "silver": 0.45, "bronze": 0.3},
    "large": {"gold": 0.5, "silver": 0.4, "bronze": 0.1},
}
REGIONS = ("kanto", "kansai", "chubu", "kyushu", "tohoku", "hokkaido")
SEGMENTS = ("reseller", "system_integrator", "consultancy")

# Inclusive range of users per partner.
USERS_PER_PARTNER = {"small": (1, 3), "medium": (2, 5), "large": (4, 8)}

# The six rules of the default score model, in the order they are simulated.
BEHAVIORS = (
    "onboarding_video",
    "advanced_training",
    "product_doc_pages",
    "proposal_template",
    "sales_faq",
    "monthly_logins",
)
BEHAVIOR_PROBABILITY = {
    "onboarding_video": {"small": 0.30, "medium": 0.45, "large": 0.60},
    "advanced_training": {"small": 0.15, "medium": 0.30, "large": 0.45},
    "product_doc_pages": {"small": 0.35, "medium": 0.50, "large": 0.65},
    "proposal_template": {"small": 0.25, "medium": 0.40, "large": 0.55},
    "sales_faq": {"small": 0.30, "medium": 0.50, "large": 0.70},
    "monthly_logins": {"small": 0.25, "medium": 0.45, "large": 0.65},
}

# WIN_BASE[size] * VIDEO_RISK_RATIO must stay below 1.
WIN_BASE = {"small": 0.15, "medium": 0.25, "large": 0.35}
VIDEO_RISK_RATIO = 2.0
OPPORTUNITY_PROBABILITY = {"small": 0.50, "medium": 0.65, "large": 0.80}

# Median deal amount in JPY by partner size; amounts are log-normal around it.
DEAL_AMOUNT_JPY = {"small": 1_200_000, "medium": 2_500_000, "large": 5_000_000}

EXPOSURE_DAYS = 90
HORIZON_DAYS = 180
# Partners join on one of the first JOIN_SPREAD_DAYS days of the program, so that a
# 12-month program gives every partner its full exposure and outcome windows.
JOIN_SPREAD_DAYS = 90

# Behaviour that counts is simulated on days EXPOSURE_FIRST..EXPOSURE_LAST after the
# join date, and later behaviour from LATER_FIRST on. The gaps keep every event clear
# of the window edges, whichever way an analysis rounds them.
EXPOSURE_FIRST = 1
EXPOSURE_LAST = 85
LATER_FIRST = 100
# Deals that count are closed on days OUTCOME_FIRST..OUTCOME_LAST after the join date.
OUTCOME_FIRST = 95
OUTCOME_LAST = 262


def win_probability(size: str, video: bool) -> float:
    """Return P(at least one won deal in the outcome window | size, video)."""
    return WIN_BASE[size] * (VIDEO_RISK_RATIO if video else 1.0)


def _group_rate(behavior: str, done: bool, rate_of_size: dict[str, float]) -> float:
    weights = {
        size: SIZE_SHARE[size]
        * (
            BEHAVIOR_PROBABILITY[behavior][size]
            if done
            else 1 - BEHAVIOR_PROBABILITY[behavior][size]
        )
        for size in SIZES
    }
    total = sum(weights.values())
    return sum(weights[size] * rate_of_size[size] for size in SIZES) / total


def _win_rate_of_size(behavior: str, done: bool) -> dict[str, float]:
    if behavior == "onboarding_video":
        return {size: win_probability(size, done) for size in SIZES}
    # Other behaviours are independent of the video given size, so the video's
    # share in each stratum carries through: E[win | size] = base * (1 + p_video).
    return {
        size: WIN_BASE[size]
        * (1 + (VIDEO_RISK_RATIO - 1) * BEHAVIOR_PROBABILITY["onboarding_video"][size])
        for size in SIZES
    }


def expected_crude_risk_ratios() -> dict[str, dict[str, float]]:
    """Return each behaviour's crude risk ratio in the population, by outcome.

    The crude ratio ignores size, so it shows the confounding that size adjustment has
    to remove.
    """
    ratios: dict[str, dict[str, float]] = {"win_rate": {}, "opportunity_rate": {}}
    for behavior in BEHAVIORS:
        with_rate = _group_rate(behavior, True, _win_rate_of_size(behavior, True))
        without_rate = _group_rate(behavior, False, _win_rate_of_size(behavior, False))
        ratios["win_rate"][behavior] = round(with_rate / without_rate, 4)
        opportunity_with = _group_rate(behavior, True, OPPORTUNITY_PROBABILITY)
        opportunity_without = _group_rate(behavior, False, OPPORTUNITY_PROBABILITY)
        ratios["opportunity_rate"][behavior] = round(
            opportunity_with / opportunity_without, 4
        )
    return ratios
