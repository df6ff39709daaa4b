"""Texts that the commands print, and errors rendered in the workspace's language."""

from __future__ import annotations

from partnerlift.errors import InputError, PartnerliftError, Problem
from partnerlift.settings.messages import CATALOGUE, register, text

# The maximum number of problems listed under an error message. The rest are
# counted.
SHOWN_ERROR_PROBLEMS = 10

register(
    {
        "cli.error": {"en": "Error:", "ja": "エラー:"},
        "cli.problem.line": {"en": "line {line}", "ja": "{line} 行目"},
        "cli.problem.field": {"en": "field {field!r}", "ja": "項目 {field!r}"},
        "cli.problem.value": {"en": " (value {value})", "ja": "（値 {value}）"},
        "cli.problem.separator": {"en": ", ", "ja": "、"},
        "cli.problem.more": {
            "en": "... and {count} more",
            "ja": "... ほか {count} 件",
        },
        "cli.init.zone_changed": {
            "en": "Time zone changed from {previous} to {zone}: local times "
            "recomputed.",
            "ja": "タイムゾーンを {previous} から {zone} に変更し、現地時刻を"
            "計算し直しました。",
        },
        "cli.init.ready": {
            "en": "Workspace ready: {root}",
            "ja": "ワークスペースを用意しました: {root}",
        },
        "cli.init.settings": {
            "en": "  settings:    {path}",
            "ja": "  設定:           {path}",
        },
        "cli.init.score_model": {
            "en": "  score model: {path}",
            "ja": "  スコアモデル:   {path}",
        },
        "cli.init.study": {
            "en": "  study:       {path}",
            "ja": "  分析設定:       {path}",
        },
        "cli.init.database": {
            "en": "  database:    {path}",
            "ja": "  データベース:   {path}",
        },
        "cli.report.written": {
            "en": "Report written: {path}",
            "ja": "レポートを書き出しました: {path}",
        },
        "cli.report.workbook_written": {
            "en": "Workbook written: {path}",
            "ja": "Excel ブックを書き出しました: {path}",
        },
        "cli.serve.serving": {
            "en": "Serving the workspace {root} on http://{host}:{port} (OpenAPI: "
            "/openapi.json)",
            "ja": "ワークスペース {root} を http://{host}:{port} で公開しています "
            "(OpenAPI: /openapi.json)",
        },
        "cli.import.invalid_observed_at": {
            "en": "Invalid --observed-at {value!r}: expected a date from 1900 to "
            "2199 such as '2024-04-01' or a timestamp such as "
            "'2024-04-01T09:00:00+09:00'.",
            "ja": "--observed-at {value!r} が不正です。1900 年から 2199 年までの、"
            "'2024-04-01' のような日付か '2024-04-01T09:00:00+09:00' のような日時を"
            "書いてください。",
        },
        "cli.import.profile_not_found": {
            "en": "Profile {name!r} not found. Use one of: {profiles}.",
            "ja": "プロファイル {name!r} が見つかりません。次のいずれかを使って"
            "ください: {profiles}。",
        },
        "cli.import.unknown_partners": {
            "en": "Note: {events} of the imported events name {partners} partners "
            "that are not in the partners table: {shown}. They are stored and "
            "scored; import those partners, or check the partner ids.",
            "ja": "注意: インポートしたイベントのうち {events} 件が、パートナー表に"
            "ない {partners} 社のパートナーを指しています: {shown}。イベントは保存"
            "され、スコアも計算されます。それらのパートナーをインポートするか、"
            "パートナー ID を確認してください。",
        },
        "cli.import.count.batch_id": {"en": "batch_id", "ja": "バッチ ID"},
        "cli.import.count.read": {"en": "read", "ja": "読み込み"},
        "cli.import.count.inserted": {"en": "inserted", "ja": "追加"},
        "cli.import.count.updated": {"en": "updated", "ja": "更新"},
        "cli.import.count.duplicates": {"en": "duplicates", "ja": "重複"},
        "cli.import.count.rejected": {"en": "rejected", "ja": "除外"},
        "cli.import.count.filtered": {"en": "filtered", "ja": "フィルタで除外"},
        "cli.import.count.footer": {"en": "footer", "ja": "フッター行"},
        "cli.import.count.voided": {"en": "voided", "ja": "取り消し"},
        "cli.profiles.name": {"en": "name", "ja": "名前"},
        "cli.profiles.table": {"en": "table", "ja": "テーブル"},
        "cli.profiles.description": {"en": "description", "ja": "説明"},
        "cli.as_of_date": {"en": "--as-of date", "ja": "--as-of の日付"},
        # Headings of the tables that list import batches, rejected rows, records
        # waiting for their users and API keys. The English headings are the JSON
        # and CSV keys of the same data.
        "cli.column.batch_id": {"en": "batch_id", "ja": "バッチ ID"},
        "cli.column.table_name": {"en": "table_name", "ja": "テーブル"},
        "cli.column.file": {"en": "file", "ja": "ファイル"},
        "cli.column.encoding": {"en": "encoding", "ja": "文字コード"},
        "cli.column.started_at": {"en": "started_at", "ja": "開始日時（UTC）"},
        "cli.column.read": {"en": "read", "ja": "読み込み"},
        "cli.column.inserted": {"en": "inserted", "ja": "追加"},
        "cli.column.updated": {"en": "updated", "ja": "更新"},
        "cli.column.duplicates": {"en": "duplicates", "ja": "重複"},
        "cli.column.rejected": {"en": "rejected", "ja": "除外"},
        "cli.column.filtered": {"en": "filtered", "ja": "フィルタで除外"},
        "cli.column.footer": {"en": "footer", "ja": "フッター行"},
        "cli.column.line": {"en": "line", "ja": "行"},
        "cli.column.field": {"en": "field", "ja": "項目"},
        "cli.column.value": {"en": "value", "ja": "値"},
        "cli.column.reason": {"en": "reason", "ja": "理由"},
        "cli.column.kind": {"en": "kind", "ja": "種類"},
        "cli.column.source": {"en": "source", "ja": "送信元"},
        "cli.column.actor": {"en": "actor", "ja": "アクター"},
        "cli.column.count": {"en": "count", "ja": "件数"},
        "cli.column.first": {"en": "first", "ja": "最初の日時"},
        "cli.column.last": {"en": "last", "ja": "最後の日時"},
        "cli.column.message": {"en": "message", "ja": "理由と対処"},
        "cli.column.key_id": {"en": "key_id", "ja": "キー ID"},
        "cli.column.scope": {"en": "scope", "ja": "スコープ"},
        "cli.column.label": {"en": "label", "ja": "ラベル"},
        "cli.column.created_at": {"en": "created_at", "ja": "作成日時（UTC）"},
        "cli.column.revoked_at": {"en": "revoked_at", "ja": "無効化日時（UTC）"},
        "cli.explain.lifetime": {"en": "lifetime", "ja": "全期間"},
        "cli.pending.kind.statement": {"en": "statement", "ja": "ステートメント"},
        "cli.pending.kind.event": {"en": "event", "ja": "イベント"},
        "cli.keys.created": {
            "en": "Created key {key_id} with scope {scope}. Only its hash is stored, "
            "so keep the key now.",
            "ja": "スコープ {scope} のキー {key_id} を作成しました。保存されるのは"
            "ハッシュだけなので、キーは今すぐ控えてください。",
        },
        "cli.keys.revoked": {
            "en": "Revoked key {key_id}.",
            "ja": "キー {key_id} を無効にしました。",
        },
    }
)


def column_headings(columns: list[str], locale: str) -> list[str]:
    """Return the table headings of ``columns`` in ``locale``.

    A column without a ``cli.column.<name>`` text keeps its name as the heading.
    """
    headings = []
    for name in columns:
        message_id = f"cli.column.{name}"
        headings.append(text(message_id, locale) if message_id in CATALOGUE else name)
    return headings


def describe_problem(problem: Problem, locale: str) -> str:
    """Render a problem as one line in ``locale``, as :meth:`Problem.describe`
    does in English: where it is, the reason, then the value."""
    where = []
    if problem.file:
        where.append(str(problem.file))
    if problem.line is not None:
        where.append(text("cli.problem.line", locale, line=problem.line))
    if problem.field:
        where.append(text("cli.problem.field", locale, field=problem.field))
    prefix = text("cli.problem.separator", locale).join(where)
    value = ""
    if problem.value is not None:
        value = text("cli.problem.value", locale, value=_quoted(problem.value))
    if prefix:
        return f"{prefix}: {problem.reason}{value}"
    return f"{problem.reason}{value}"


def _quoted(value: object) -> str:
    """Return a value as a person wrote it, in quotes: unlike ``repr``, a backslash
    (the yen sign of CP932 files) is not doubled."""
    if not isinstance(value, str) or any(ord(char) < 32 for char in value):
        return repr(value)
    quote = '"' if "'" in value else "'"
    return f"{quote}{value}{quote}"


def describe_error(error: PartnerliftError, locale: str) -> str:
    """Render an error and the first of its problems in ``locale``."""
    if not isinstance(error, InputError) or not error.problems:
        return str(error)
    lines = [str(error.args[0]) if error.args else ""]
    for problem in error.problems[:SHOWN_ERROR_PROBLEMS]:
        lines.append(f"  {describe_problem(problem, locale)}")
    more = len(error.problems) - SHOWN_ERROR_PROBLEMS
    if more > 0:
        lines.append(f"  {text('cli.problem.more', locale, count=more)}")
    return "\n".join(lines)
