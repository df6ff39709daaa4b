"""Texts of the import: reasons for rejected rows and the labels of the summary."""

from __future__ import annotations

from partnerlift.settings.messages import register, text

register(
    {
        "ingest.missing_value": {
            "en": "Missing required value. Fill it in or remove the row.",
            "ja": "必須の値がありません。値を入れるか、行を削除してください。",
        },
        "ingest.missing_partner_or_user": {
            "en": "Missing partner_id and user_id: an event needs one of them.",
            "ja": "partner_id と user_id がどちらもありません。イベントには"
            "どちらかが必要です。",
        },
        "ingest.unknown_encoding_name": {
            "en": "Unknown encoding {name!r}. Use a name such as utf-8, cp932, "
            "utf-16 or latin-1.",
            "ja": "文字コード {name!r} は不明です。utf-8、cp932、utf-16、latin-1 "
            "などの名前を指定してください。",
        },
        "ingest.not_in_encoding": {
            "en": "{path}: the bytes near position {position} are not valid "
            "{encoding}. Check the encoding given with --encoding, or leave it out "
            "to detect it.",
            "ja": "{path}: 位置 {position} 付近のバイトが {encoding} として正しく"
            "ありません。--encoding で指定した文字コードを確認するか、指定を外して"
            "自動判定にしてください。",
        },
        "ingest.lone_surrogate": {
            "en": "Invalid text: a \\ud800 to \\udfff escape stands alone, which is "
            "no Unicode character. Fix the record where it was written.",
            "ja": "テキストが不正です。\\ud800 から \\udfff のエスケープが単独で"
            "使われていて、Unicode の文字になりません。書き出した側でレコードを"
            "直してください。",
        },
        "ingest.timestamp_out_of_range": {
            "en": "Timestamp out of range: use a date from 1900 to 2199.",
            "ja": "日時が範囲外です。1900 年から 2199 年までの日付にしてください。",
        },
        "ingest.valid_to_out_of_range": {
            "en": "Timestamp out of range: use a date from 1900 to 2199. For no end "
            "of validity, leave valid_to empty or write 9999-12-31.",
            "ja": "日時が範囲外です。1900 年から 2199 年までの日付にしてください。"
            "有効期間に終わりがないときは、valid_to を空にするか 9999-12-31 と"
            "書いてください。",
        },
        "ingest.bad_timestamp": {
            "en": "Invalid timestamp: expected ISO 8601 such as "
            "'2024-04-01T09:30:00+09:00' or '2024-04-01', or a date such as "
            "'2024/04/01', '令和6年4月1日' or an Excel date number.",
            "ja": "日時が不正です。'2024-04-01T09:30:00+09:00' や '2024-04-01' の"
            "ような ISO 8601 形式、または '2024/04/01'、'令和6年4月1日'、Excel の"
            "日付シリアル値で書いてください。",
        },
        "ingest.bad_date_format": {
            "en": "Invalid timestamp: it does not match the date_format {format!r}.",
            "ja": "日時が不正です。date_format {format!r} に合いません。",
        },
        "ingest.bad_day_offset": {
            "en": "Invalid day offset: expected a whole number of days such as 12.",
            "ja": "日数が不正です。12 のような整数の日数を書いてください。",
        },
        "ingest.bad_number": {
            "en": "Invalid number: expected a number such as 1234.5 or '¥1,234,567'. "
            "For values like '1.234,56' set locale: de (or number: {{thousands: "
            "'.', decimal: ','}}) in a mapping file.",
            "ja": "数値が不正です。1234.5 や '¥1,234,567' のような数値を書いて"
            "ください。'1.234,56' のような値にはマッピングファイルで locale: de"
            "（または number: {{thousands: '.', decimal: ','}}）を指定してください。",
        },
        "ingest.not_positive": {
            "en": "Invalid {field}: it must be greater than 0.",
            "ja": "{field} が不正です。0 より大きい値にしてください。",
        },
        "ingest.negative": {
            "en": "Invalid {field}: it must not be negative.",
            "ja": "{field} が不正です。負の値は使えません。",
        },
        "ingest.not_integer": {
            "en": "Invalid {field}: it must be a whole number.",
            "ja": "{field} が不正です。整数にしてください。",
        },
        "ingest.currency_conflict": {
            "en": "Invalid amount: it is written in {named} but the currency column "
            "says {given}. Fix one of the two.",
            "ja": "amount が不正です。金額は{named}で書かれていますが、通貨の列は"
            "{given}です。どちらかを直してください。",
        },
        "ingest.closed_before_created": {
            "en": "Invalid closed_at: the deal closes before it was created "
            "({created}). Check both dates.",
            "ja": "closed_at が不正です。商談の作成日（{created}）より前に"
            "完了しています。両方の日付を確認してください。",
        },
        "ingest.bad_status": {
            "en": "Invalid status: use open, won or lost, or map the value with "
            "values: in a mapping file.",
            "ja": "status が不正です。open、won、lost のいずれかにするか、"
            "マッピングファイルの values: で対応づけてください。",
        },
        "ingest.unmapped_value": {
            "en": "Value not in the value map of {field!r}, which is strict. Add it "
            "under values: in the mapping file.",
            "ja": "{field!r} の値の対応表 (strict) にない値です。マッピングファイルの"
            "values: に追加してください。",
        },
        "ingest.unknown_user": {
            "en": "User {user!r} not found in the users table. Import users first, "
            "or give partner_id in the events file.",
            "ja": "ユーザー {user!r} が users テーブルにありません。先に users を"
            "インポートするか、イベントファイルに partner_id を書いてください。",
        },
        "ingest.user_without_partner": {
            "en": "User {user!r} belonged to no partner at {moment} UTC. Check "
            "valid_from and valid_to in the users file.",
            "ja": "ユーザー {user!r} は {moment} UTC にどのパートナーにも"
            "所属していません。users の valid_from と valid_to を確認してください。",
        },
        "ingest.bad_json": {
            "en": "Invalid JSON line: {error}.",
            "ja": "JSON として読めない行です: {error}。",
        },
        "ingest.not_object": {
            "en": "Invalid JSON line: expected an object such as "
            '{{"occurred_at": "2024-04-01", ...}}.',
            "ja": 'JSON の行がオブジェクトではありません。{{"occurred_at": '
            '"2024-04-01", ...}} のように書いてください。',
        },
        "ingest.bad_statement": {
            "en": "Invalid xAPI statement: {reason}.",
            "ja": "xAPI ステートメントが不正です: {reason}。",
        },
        "ingest.field_count": {
            "en": "The row has {found} fields but the header has {expected}. Check "
            "the quoting and delimiters of this line.",
            "ja": "この行の項目数は {found} ですが、見出しは {expected} 列です。"
            "この行の引用符と区切り文字を確認してください。",
        },
        "ingest.summary_title": {
            "en": "Import of {table} from {file}",
            "ja": "{file} から {table} へのインポート",
        },
        "ingest.count": {"en": "count", "ja": "件数"},
        "ingest.rejected_header": {
            "en": "{count} rejected rows:",
            "ja": "取り込めなかった行: {count} 件",
        },
        "ingest.rejected_more": {
            "en": "... and {count} more. All rejected rows are stored in the table "
            "rejected_rows with batch_id {batch_id!r}.",
            "ja": "... ほか {count} 件。取り込めなかった行はすべて rejected_rows "
            "テーブルに batch_id {batch_id!r} で保存されています。",
        },
        "ingest.rejected_stored": {
            "en": "Rejected rows are stored in the table rejected_rows with "
            "batch_id {batch_id!r}.",
            "ja": "取り込めなかった行は rejected_rows テーブルに batch_id "
            "{batch_id!r} で保存されています。",
        },
    }
)

__all__ = ["text"]
