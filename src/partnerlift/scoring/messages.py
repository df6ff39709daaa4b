"""Texts of the scoring layer that people read, in English and Japanese."""

from __future__ import annotations

from partnerlift.settings.messages import register, text

register(
    {
        "scoring.column.partner": {"en": "partner", "ja": "パートナー"},
        "scoring.column.score": {"en": "score", "ja": "スコア"},
        "scoring.column.rule": {"en": "rule", "ja": "ルール"},
        "scoring.column.period": {"en": "period", "ja": "期間"},
        "scoring.column.count": {"en": "count", "ja": "件数"},
        "scoring.column.threshold": {"en": "threshold", "ja": "しきい値"},
        "scoring.column.qualifies": {"en": "qualifies", "ja": "達成"},
        "scoring.column.events": {"en": "events", "ja": "イベント"},
        "scoring.column.points": {"en": "points", "ja": "ポイント"},
        "scoring.column.earned_at": {"en": "earned at (UTC)", "ja": "達成日時（UTC）"},
        "scoring.column.base_points": {"en": "before decay", "ja": "減衰前"},
        "scoring.column.decay": {"en": "decay factor", "ja": "減衰係数"},
        "scoring.column.period_end": {"en": "period end", "ja": "期末"},
        "scoring.yes": {"en": "yes", "ja": "はい"},
        "scoring.no": {"en": "no", "ja": "いいえ"},
        "scoring.no_events": {"en": "no matching events", "ja": "該当イベントなし"},
        "scoring.more_events": {"en": "and {count} more", "ja": "ほか{count}件"},
        "scoring.title.score": {
            "en": "{model} as of {as_of}",
            "ja": "{model}（{as_of}時点）",
        },
        "scoring.title.timeline": {
            "en": "{model} at the end of each period, up to {as_of}",
            "ja": "{model}の期末ごとの推移（{as_of}まで）",
        },
        "scoring.title.explain": {
            "en": "Partner {partner_id}: score {score} as of {as_of}",
            "ja": "パートナー {partner_id}：スコア {score}（{as_of}時点）",
        },
    }
)

__all__ = ["text"]
