"""Names of outcomes and ratio measures, shared by the CLI table and the reports.

The CLI's findings table and the HTML report name a finding's outcome and measure with
the texts registered here, so each outcome has one name in each language. The CLI
table uses the short measure names (``analysis.measure.*``) and the report the full
ones (``analysis.measure_name.*``).
"""

from __future__ import annotations

from partnerlift.analysis import Finding
from partnerlift.settings.messages import CATALOGUE, register, text

register(
    {
        "analysis.table.excluded": {
            "en": (
                "As of {as_of}. Left out: {no_start} partners without a joined date, "
                "{followup} partners whose outcome window ends after {as_of}."
            ),
            "ja": (
                "{as_of}時点。除外: 参加日のないパートナー {no_start}社、"
                "成果期間が{as_of}より後に終わるパートナー {followup}社。"
            ),
        },
        "analysis.outcome_name.opportunity_rate": {
            "en": "opportunity rate",
            "ja": "商談化率",
        },
        "analysis.outcome_name.win_rate": {"en": "win rate", "ja": "受注率"},
        "analysis.outcome_name.deal_win_rate": {
            "en": "deal win rate",
            "ja": "商談単位の受注率",
        },
        "analysis.outcome_name.lead_time": {
            "en": "time to first deal",
            "ja": "最初の商談までの日数",
        },
        "analysis.outcome_name.revenue": {"en": "revenue", "ja": "受注額"},
        "analysis.measure.risk_ratio": {"en": "RR", "ja": "RR"},
        "analysis.measure.time_ratio": {"en": "TR", "ja": "時間比"},
        "analysis.measure.hazard_ratio": {"en": "HR", "ja": "HR"},
        "analysis.measure.ratio_of_means": {"en": "MR", "ja": "平均比"},
        "analysis.measure_name.risk_ratio": {"en": "risk ratio", "ja": "リスク比"},
        "analysis.measure_name.time_ratio": {"en": "time ratio", "ja": "時間比"},
        "analysis.measure_name.hazard_ratio": {
            "en": "hazard ratio",
            "ja": "ハザード比",
        },
        "analysis.measure_name.ratio_of_means": {
            "en": "ratio of means",
            "ja": "平均の比",
        },
    }
)

# The fields of one finding, in the order of ``analyze --format csv`` and of the
# workbook's findings sheet. The Kaplan-Meier curves are nested data and left out.
FINDING_COLUMNS = [name for name in Finding.__dataclass_fields__ if name != "curves"]


def outcome_name(outcome: str, locale: str) -> str:
    """Return the name of ``outcome`` in ``locale``, or the id itself if unknown."""
    message_id = f"analysis.outcome_name.{outcome}"
    return text(message_id, locale) if message_id in CATALOGUE else outcome


def measure_name(measure: str, locale: str) -> str:
    """Return the full name of a ratio ``measure``, such as "time ratio".

    An unknown measure id is returned unchanged.
    """
    message_id = f"analysis.measure_name.{measure}"
    return text(message_id, locale) if message_id in CATALOGUE else measure
