"""Texts of the errors about a whole input file: a missing file, an unreadable
encoding, a bad header, a mapping that does not fit the file, an unknown batch."""

from __future__ import annotations

from partnerlift.settings.messages import register

register(
    {
        "ingest.file_not_found": {
            "en": "File not found: {path!r}. Check the path.",
            "ja": "ファイル {path!r} が見つかりません。パスを確認してください。",
        },
        "ingest.path_is_folder": {
            "en": "{path!r} is a folder, not a file. Give the path of the file to "
            "import.",
            "ja": "{path!r} はフォルダーで、ファイルではありません。インポートする"
            "ファイルのパスを指定してください。",
        },
        "ingest.xls_unsupported": {
            "en": "{path}: old Excel workbooks (.xls) are not supported. Save the "
            "file as .xlsx or as CSV UTF-8 in Excel and import it again.",
            "ja": "{path}: 古い形式の Excel ブック (.xls) には対応していません。"
            "Excel で .xlsx か CSV UTF-8 として保存し、もう一度インポートして"
            "ください。",
        },
        "ingest.unknown_encoding": {
            "en": "Could not detect the text encoding. Save the file as UTF-8 and "
            "import it again.",
            "ja": "文字コードを判定できません。ファイルを UTF-8 で保存し、もう一度"
            "インポートしてください。",
        },
        "ingest.unknown_encoding_of": {
            "en": "{path}: could not detect the text encoding. Save the file as "
            "UTF-8 and import it again.",
            "ja": "{path}: 文字コードを判定できません。ファイルを UTF-8 で保存し、"
            "もう一度インポートしてください。",
        },
        "ingest.mixed_encodings": {
            "en": "{path} mixes text encodings: line {utf8_line} is UTF-8 but line "
            "{other_line} is not. Save the whole file in one encoding (UTF-8, or "
            "CP932 from Excel) and import it again, or, if it is all CP932, say so "
            "with --encoding cp932.",
            "ja": "{path} には複数の文字コードが混在しています。{utf8_line} 行目は "
            "UTF-8 ですが、{other_line} 行目は UTF-8 ではありません。ファイル全体を"
            "一つの文字コード (UTF-8、または Excel の CP932) で保存し、もう一度"
            "インポートしてください。すべて CP932 なら --encoding cp932 を指定して"
            "ください。",
        },
        "ingest.no_header": {
            "en": "{path}: the file has no header row. Add the column names.",
            "ja": "{path}: 見出し行がありません。列名の行を追加してください。",
        },
        "ingest.no_header_sheet": {
            "en": "{path}: the first sheet has no header row. Add the column names.",
            "ja": "{path}: 最初のシートに見出し行がありません。列名の行を追加して"
            "ください。",
        },
        "ingest.repeated_column": {
            "en": "{path}: the column {column!r} appears twice in the header. "
            "Rename one of them and import the file again. Nothing was imported.",
            "ja": "{path}: 列名 {column!r} が見出しに 2 回出てきます。どちらかの"
            "名前を変えて、もう一度インポートしてください。何もインポートして"
            "いません。",
        },
        "ingest.repeated_column_reason": {
            "en": "The column name is repeated.",
            "ja": "列名が重複しています。",
        },
        "ingest.invalid_json": {
            "en": "{path}: invalid JSON at line {line}, column {column}: {error}. "
            "Fix the file or export it again.",
            "ja": "{path}: {line} 行目 {column} 文字目の JSON が不正です ({error})。"
            "ファイルを直すか、もう一度エクスポートしてください。",
        },
        "ingest.invalid_json_separator": {
            "en": "{path}: invalid JSON at line {line}: expected ',' or ']' after an "
            "element. Fix the file or export it again.",
            "ja": "{path}: {line} 行目の JSON が不正です。要素の後には ',' か ']' が"
            "必要です。ファイルを直すか、もう一度エクスポートしてください。",
        },
        "ingest.invalid_json_separator_reason": {
            "en": "Expected ',' or ']'.",
            "ja": "',' か ']' が必要です。",
        },
        "ingest.invalid_workbook": {
            "en": "{path}: not a valid Excel workbook ({error}). Save it again as "
            ".xlsx in Excel or export it as CSV.",
            "ja": "{path}: Excel ブックとして読めません ({error})。Excel で .xlsx "
            "として保存し直すか、CSV でエクスポートしてください。",
        },
        "ingest.missing_required_column": {
            "en": "{path}: missing required column {column!r} for {table}. The file "
            "has the columns: {columns}. Rename a column or map one with "
            "--mapping. Nothing was imported.",
            "ja": "{path}: {table} に必須の列 {column!r} がありません。ファイルの列は "
            "{columns} です。列名を変えるか、--mapping で対応づけてください。"
            "何もインポートしていません。",
        },
        "ingest.missing_required_column_reason": {
            "en": "Missing required column.",
            "ja": "必須の列がありません。",
        },
        "ingest.partner_or_user_column": {
            "en": "partner_id or user_id",
            "ja": "partner_id か user_id",
        },
        "ingest.mapping_column_not_found": {
            "en": "Column {column!r} not found in {file}. Its columns are: {columns}.",
            "ja": "列 {column!r} が {file} にありません。このファイルの列は "
            "{columns} です。",
        },
        "ingest.mapping_columns_missing": {
            "en": "The mapping file {mapping} names columns that {file} does not "
            "have. Fix the column names in the mapping.",
            "ja": "マッピングファイル {mapping} に、{file} にない列が書かれています。"
            "マッピングの列名を直してください。",
        },
        "ingest.mapping_other_table": {
            "en": "The mapping is for {mapped}, not {table}. Import it with "
            "'partnerlift import {mapped}'.",
            "ja": "このマッピングは {table} ではなく {mapped} 用です。"
            "'partnerlift import {mapped}' でインポートしてください。",
        },
        "ingest.mapping_unknown_field": {
            "en": "Unknown field of {table}. Use one of: {fields}.",
            "ja": "{table} にない項目です。次のいずれかを使ってください: {fields}。",
        },
        "ingest.mapping_time_format_field": {
            "en": "day_offset and date_format apply to timestamp fields only.",
            "ja": "day_offset と date_format は日時の項目にだけ使えます。",
        },
        "ingest.mapping_number_field": {
            "en": "number applies to number fields only.",
            "ja": "number は数値の項目にだけ使えます。",
        },
        "ingest.mapping_needs_base_date": {
            "en": "day_offset needs base_date at the top level.",
            "ja": "day_offset には最上位の base_date が必要です。",
        },
        "ingest.mapping_invalid": {
            "en": "Invalid mapping file {path}.",
            "ja": "マッピングファイル {path} が不正です。",
        },
        "ingest.mapping_not_found": {
            "en": "Mapping {name!r} not found: it is neither a file nor a profile. "
            "Give a file path or one of the profiles: {profiles}.",
            "ja": "マッピング {name!r} が見つかりません。ファイルでもプロファイルでも"
            "ありません。ファイルのパスか、次のプロファイルのいずれかを指定して"
            "ください: {profiles}。",
        },
        "ingest.batch_not_found": {
            "en": "Import batch {batch_id!r} not found. Run 'partnerlift imports' to "
            "list the batches.",
            "ja": "インポートバッチ {batch_id!r} が見つかりません。"
            "'partnerlift imports' でバッチの一覧を確認してください。",
        },
    }
)
