"""``partnerlift demo``: simulate a program, import, score, analyse and report it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from partnerlift.ingest import ImportResult, import_file
from partnerlift.interfaces.cli.analysis import print_findings
from partnerlift.interfaces.cli.app import app as root_app
from partnerlift.interfaces.cli.app import emit_table, open_database, stderr
from partnerlift.interfaces.cli.workspace import _copy_default
from partnerlift.interfaces.report import build_report, score_and_analyze
from partnerlift.settings import Workspace, create_workspace, register, text
from partnerlift.simulation import simulate_program, write_program

# Users come before events so that events can be attributed through them.
IMPORT_ORDER = ("users", "partners", "assets", "events", "deals")
SHOWN_PARTNERS = 10
DEMO_TIMEZONE = "Asia/Tokyo"
DEMO_LOCALE = "ja"

register(
    {
        "demo.step.workspace": {
            "en": "Creating the workspace",
            "ja": "ワークスペース作成",
        },
        "demo.step.simulate": {
            "en": "Simulating the program",
            "ja": "プログラムを生成",
        },
        "demo.step.import": {"en": "Importing {table}", "ja": "{table} を取り込み"},
        "demo.step.analyze": {"en": "Scoring and analysing", "ja": "スコア算出と分析"},
        "demo.step.report": {"en": "Writing the report", "ja": "レポート作成"},
        "demo.imports": {"en": "Imported files", "ja": "取り込んだファイル"},
        "demo.table": {"en": "Table", "ja": "テーブル"},
        "demo.read": {"en": "Read", "ja": "読込"},
        "demo.inserted": {"en": "Inserted", "ja": "追加"},
        "demo.duplicates": {"en": "Duplicates", "ja": "重複"},
        "demo.rejected": {"en": "Rejected", "ja": "除外"},
        "demo.top": {
            "en": "Top {count} partners by score (as of {as_of})",
            "ja": "スコア上位{count}パートナー({as_of}時点)",
        },
        "demo.partner": {"en": "Partner", "ja": "パートナー"},
        "demo.score": {"en": "Score", "ja": "スコア"},
        "demo.done": {
            "en": "Report: {report}\nData and planted effects: {data}",
            "ja": "レポート: {report}\nデータと仕込んだ効果: {data}",
        },
    }
)


def _prepare_workspace(folder: Path) -> Workspace:
    workspace = create_workspace(folder, timezone=DEMO_TIMEZONE, locale=DEMO_LOCALE)
    _copy_default(
        None, "partnerlift.scoring", "default_model.yaml", workspace.score_model_path
    )
    _copy_default(
        None, "partnerlift.analysis", "default_study.yaml", workspace.study_path
    )
    return workspace


def _print_imports(results: list[ImportResult], locale: str) -> None:
    columns = [
        text(f"demo.{name}", locale)
        for name in ("table", "read", "inserted", "duplicates", "rejected")
    ]
    rows = [
        [result.table, result.read, result.inserted, result.duplicates, result.rejected]
        for result in results
    ]
    emit_table(text("demo.imports", locale), columns, rows)


def _print_top(score: dict[str, Any], rule_ids: list[str], locale: str) -> None:
    columns = [text("demo.partner", locale), text("demo.score", locale), *rule_ids]
    rows = [
        [
            item["partner_id"],
            item["score"],
            *(item["rules"].get(r, 0) for r in rule_ids),
        ]
        for item in score["partners"][:SHOWN_PARTNERS]
    ]
    title = text("demo.top", locale, count=SHOWN_PARTNERS, as_of=score["as_of"])
    emit_table(title, columns, rows)


@root_app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder of the demo workspace.")
    ] = Path("demo"),
    partners: Annotated[
        int, typer.Option(min=1, help="Number of simulated partners.")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 7,
) -> None:
    """Build a synthetic partner program, import, score and analyse it, and report.

    The workspace (Asia/Tokyo, Japanese texts) is created in the --out folder, the
    simulated files and truth.json (the planted effects) go to its data/ folder, and
    the report to report.html. Running it again into the same folder imports nothing
    new.

    Example: partnerlift demo --out demo --partners 500 --seed 7
    """
    locale = DEMO_LOCALE
    steps = 4 + len(IMPORT_ORDER)
    results: list[ImportResult] = []
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
    )
    with progress:
        task = progress.add_task(text("demo.step.workspace", locale), total=steps)
        workspace = _prepare_workspace(out)
        progress.update(task, advance=1, description=text("demo.step.simulate", locale))
        program = simulate_program(partners=partners, seed=seed)
        paths = write_program(program, out / "data")
        progress.advance(task)
        with open_database(workspace) as db:
            for table in IMPORT_ORDER:
                progress.update(
                    task, description=text("demo.step.import", locale, table=table)
                )
                results.append(import_file(db, workspace, table, paths[table]))
                progress.advance(task)
            progress.update(task, description=text("demo.step.analyze", locale))
            model, score, analysis = score_and_analyze(db, workspace)
            progress.update(
                task, advance=1, description=text("demo.step.report", locale)
            )
            html = build_report(
                db, workspace, score=score, analysis=analysis, model=model
            )
        report_path = workspace.root / "report.html"
        report_path.write_text(html, encoding="utf-8")
        progress.advance(task)

    _print_imports(results, locale)
    _print_top(score, [rule.id for rule in model.rules], locale)
    print_findings(analysis, locale)
    typer.echo("")
    typer.echo(text("demo.done", locale, report=report_path, data=paths["truth"]))
