from __future__ import annotations

import os
import re
import shutil
from importlib import resources
from pathlib import Path

import pytest

from partnerlift.interfaces.report import build_report, format_ratio, score_histogram
from partnerlift.settings import create_workspace
from partnerlift.store import Database

CHROMIUM = Path("/usr/bin/chromium")
RULES = [
    "onboarding_video",
    "advanced_training",
    "product_doc_pages",
    "proposal_template",
    "sales_faq",
    "monthly_logins",
]


def _finding(behavior: str, label: str, **values) -> dict:
    finding = {
        "behavior": behavior,
        "behavior_label": label,
        "outcome": "win_rate",
        "measure": "risk_ratio",
        "estimate": 2.4,
        "ci_low": 1.6,
        "ci_high": 3.5,
        "p_value": 0.0001,
        "q_value": 0.0004,
        "n_with": 120,
        "n_without": 380,
        "value_with": 0.45,
        "value_without": 0.1875,
        "events_with": 54,
        "events_without": 71,
        "adjusted_estimate": 2.0,
        "adjusted_ci_low": 1.4,
        "adjusted_ci_high": 2.9,
        "adjusted_for": ["tier", "size"],
        "status": "ok",
        "n_excluded_no_start": 2,
        "n_excluded_followup": 7,
        "statement_en": f"Partners who did {behavior} won more often.",
        "statement_ja": f"{label}を行ったパートナーの受注率は高い。",
    }
    finding.update(values)
    return finding


SCORE = {
    "as_of": "2026-03-31",
    "model": "support-engagement",
    "partners": [
        {
            "partner_id": "P1",
            "score": 70,
            "rules": dict(zip(RULES, [20, 10, 10, 15, 5, 10], strict=True)),
        },
        {
            "partner_id": "P2",
            "score": 25,
            "rules": dict(zip(RULES, [20, 0, 0, 0, 5, 0], strict=True)),
        },
        {"partner_id": "P3", "score": 0, "rules": dict.fromkeys(RULES, 0)},
    ],
}
ANALYSIS = {
    "study": "what-drives-wins",
    "as_of": "2026-03-31",
    "findings": [
        _finding("onboarding_video", "導入トレーニング動画の完了"),
        _finding(
            "sales_faq",
            "営業FAQの閲覧 <b>",
            estimate=None,
            ci_low=None,
            ci_high=None,
            adjusted_estimate=None,
            adjusted_ci_low=None,
            adjusted_ci_high=None,
            q_value=None,
            status="insufficient_data",
            statement_en="Too few partners <script>alert(1)</script>.",
            statement_ja="データ不足 <script>alert(1)</script>。",
        ),
        _finding(
            "proposal_template",
            "提案テンプレートのダウンロード",
            outcome="lead_time",
            measure="time_ratio",
            estimate=0.8,
            ci_low=0.6,
            ci_high=0.95,
            value_with=40.0,
            value_without=55.0,
        ),
        _finding(
            "proposal_template",
            "提案テンプレートのダウンロード",
            outcome="revenue",
            measure="ratio_of_means",
            estimate=1.5,
            ci_low=1.1,
            ci_high=2.2,
            value_with=3000000.0,
            value_without=2000000.0,
        ),
    ],
}


def _workspace(tmp_path: Path, locale: str):
    workspace = create_workspace(tmp_path / locale, locale=locale)
    default_model = resources.files("partnerlift.scoring") / "default_model.yaml"
    with resources.as_file(default_model) as source:
        shutil.copyfile(source, workspace.score_model_path)
    return workspace


def _render(tmp_path: Path, locale: str) -> str:
    workspace = _workspace(tmp_path, locale)
    with Database(workspace.database_path) as db:
        db.raw.execute(
            "INSERT INTO partners (partner_id, name, tier, size) VALUES "
            "('P1', '青葉システム株式会社', 'gold', 'large'), "
            "('P2', '桜テクノロジー株式会社', 'silver', 'small'), "
            "('P3', 'Fuji & Co', 'bronze', 'small')"
        )
        return build_report(db, workspace, score=SCORE, analysis=ANALYSIS)


@pytest.fixture(scope="module")
def html_ja(tmp_path_factory) -> str:
    return _render(tmp_path_factory.mktemp("report"), "ja")


@pytest.fixture(scope="module")
def html_en(tmp_path_factory) -> str:
    return _render(tmp_path_factory.mktemp("report"), "en")


def test_report_has_no_remote_reference(html_ja):
    assert "http://" not in html_ja
    assert "https://" not in html_ja
    # No protocol-relative URL such as //cdn.example/x.js either.
    assert "//" not in html_ja


def test_report_loads_no_script_or_stylesheet(html_ja):
    assert "<script src" not in html_ja.lower()
    assert "<link" not in html_ja.lower()
    assert "<img" not in html_ja.lower()
    assert "@import" not in html_ja
    assert "url(" not in html_ja


def test_report_escapes_statements(html_ja):
    assert "<script>alert(1)</script>" not in html_ja
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_ja
    assert "営業FAQの閲覧 &lt;b&gt;" in html_ja
    assert "Fuji &amp; Co" in html_ja


def test_report_has_two_charts(html_ja):
    assert html_ja.count("<svg") == 2
    assert 'id="forest-plot"' in html_ja
    assert 'id="score-histogram"' in html_ja


def test_report_ja_labels(html_ja):
    assert '<html lang="ja">' in html_ja
    assert "パートナー支援レポート" in html_ja
    assert "導入トレーニング動画の完了" in html_ja
    assert "月3回以上のPRMログイン" in html_ja
    assert "受注率" in html_ja
    assert "データ不足" in html_ja


def test_report_en_labels(html_en):
    assert '<html lang="en">' in html_en
    assert "Partner support report" in html_en
    assert "3+ portal logins in a month" in html_en
    assert "Partners who did onboarding_video won more often." in html_en


def test_report_shows_both_groups(html_en):
    # 0.45 = 54/120 and 0.1875 = 71/380, written as percentages with the counts.
    assert "45.0% (54/120)" in html_en
    assert "18.8% (71/380)" in html_en


def test_report_shows_interval_and_q(html_en):
    assert "2.40 (1.60–3.50)" in html_en
    assert "2.00 (1.40–2.90)" in html_en
    assert "&lt;0.001" in html_en
    assert "tier, size" in html_en


def test_report_counts_rule_earners(html_en):
    # P1 and P2 earned the onboarding video, and only P1 the advanced training.
    rules = html_en.split('id="rules"')[1].split("</table>")[0]

    assert re.search(
        r"Onboarding training video completed</td>.*?>20<.*?>2<", rules, re.S
    )
    assert re.search(r"Advanced training attended</td>.*?>10<.*?>1<", rules, re.S)


def test_report_summary_counts(html_en):
    summary = html_en.split('id="summary"')[1].split("</section>")[0]

    assert "Partners<strong>3</strong>" in summary
    assert "Deals<strong>0</strong>" in summary


def _findings_rows(html: str) -> list[list[str]]:
    """Return the cell texts of each row of the findings table."""
    table = html.split('id="findings"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _findings_headers(html: str) -> list[str]:
    table = html.split('id="findings"')[1].split("</table>")[0]
    return re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)


def test_findings_header_en_generic(html_en):
    headers = _findings_headers(html_en)

    assert "Ratio (95% CI)" in headers
    assert "Measure" in headers
    assert "Risk ratio (95% CI)" not in html_en


def test_findings_header_ja_generic(html_ja):
    headers = _findings_headers(html_ja)

    assert "比（95%信頼区間）" in headers
    assert "指標" in headers
    assert "リスク比(95%信頼区間)" not in html_ja


def test_findings_rows_name_measure_en(html_en):
    # Columns: behaviour, outcome, with, without, measure, ratio, adjusted, ...
    rows = _findings_rows(html_en)

    assert [row[1] for row in rows] == [
        "win rate",
        "win rate",
        "time to first deal",
        "revenue",
    ]
    assert [row[4] for row in rows] == [
        "risk ratio",
        "risk ratio",
        "time ratio",
        "ratio of means",
    ]
    assert rows[2][5] == "0.80 (0.60–0.95)"
    assert rows[3][5] == "1.50 (1.10–2.20)"


def test_findings_rows_name_measure_ja(html_ja):
    rows = _findings_rows(html_ja)

    assert [row[1] for row in rows] == [
        "受注率",
        "受注率",
        "最初の商談までの日数",
        "受注額",
    ]
    assert [row[4] for row in rows] == ["リスク比", "リスク比", "時間比", "平均の比"]


def test_revenue_has_one_japanese_name(html_ja):
    # The CLI's findings table calls the outcome 受注額; the report must not say 売上.
    assert "受注額" in html_ja
    assert "売上" not in html_ja


def test_forest_labels_name_measure(html_en):
    forest = html_en.split('id="forest-plot"')[1].split("</svg>")[0]

    assert "win rate · risk ratio" in forest
    assert "time to first deal · time ratio" in forest
    assert "revenue · ratio of means" in forest


def test_histogram_bins_by_ten():
    histogram = score_histogram([0, 5, 10, 25, 70])

    assert [bar.label for bar in histogram.bars] == [
        "0",
        "10",
        "20",
        "30",
        "40",
        "50",
        "60",
        "70",
    ]
    assert [bar.count for bar in histogram.bars] == [2, 1, 1, 0, 0, 0, 0, 1]


def test_ratio_without_interval():
    assert format_ratio(1.5, None, None) == "1.50"
    assert format_ratio(None, 1, 2) == "—"


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("PARTNERLIFT_REQUIRE_BROWSER"),
    reason="needs Debian's chromium at /usr/bin/chromium",
)
def test_report_renders_offline_in_chromium(tmp_path, html_ja):
    if os.environ.get("PARTNERLIFT_REQUIRE_BROWSER"):
        from playwright import sync_api
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "report.html"
    path.write_text(html_ja, encoding="utf-8")
    requests: list[str] = []

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(offline=True)
        context.route(
            "**/*",
            lambda route: (
                route.abort()
                if not route.request.url.startswith("file:")
                else route.continue_()
            ),
        )
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("networkidle")
        title = page.title()
        forest = page.locator("#forest-plot").bounding_box()
        histogram_bars = page.locator("#score-histogram rect").count()
        browser.close()

    # The only request is the file itself: nothing went to the network.
    assert requests == [path.as_uri()]
    assert title == "パートナー支援レポート"
    assert forest is not None
    assert forest["width"] > 0
    assert histogram_bars == 8


def test_report_says_who_was_left_out(html_en, html_ja):
    assert (
        "Left out: 2 partners without a joined date, 7 partners whose outcome "
        "window ends after 2026-03-31." in html_en
    )
    assert "除外: 参加日のないパートナー 2社" in html_ja
