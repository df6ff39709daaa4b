"""Texts of the errors about workspace settings, YAML files, time zones and dates."""

from __future__ import annotations

from partnerlift.settings.messages import register

register(
    {
        "settings.unknown_zone": {
            "en": "{where}unknown time zone {name!r}. Use an IANA name such as "
            "'Asia/Tokyo', 'UTC' or 'Europe/Berlin'.",
            "ja": "{where}タイムゾーン {name!r} は不明です。'Asia/Tokyo'、'UTC'、"
            "'Europe/Berlin' のような IANA の名前を使ってください。",
        },
        "settings.invalid_date": {
            "en": "Invalid {source} {value!r}: expected a date such as '2024-04-01'.",
            "ja": "{source} {value!r} が不正です。'2024-04-01' のような日付を"
            "書いてください。",
        },
        "settings.unknown_locale": {
            "en": "{source}, field 'locale': unknown locale {value!r}. Use 'ja' or "
            "'en'.",
            "ja": "{source}、項目 'locale': 言語 {value!r} は不明です。'ja' か 'en' "
            "を使ってください。",
        },
        "settings.invalid_currency": {
            "en": "{source}, field 'currency': invalid currency {value!r}. Use an "
            "ISO 4217 code such as 'JPY', 'USD' or 'EUR'.",
            "ja": "{source}、項目 'currency': 通貨 {value!r} が不正です。'JPY'、"
            "'USD'、'EUR' のような ISO 4217 のコードを使ってください。",
        },
        "settings.unknown_engine": {
            "en": "{source}, field 'engine': unknown engine {value!r}. Use one of: "
            "{engines}.",
            "ja": "{source}、項目 'engine': エンジン {value!r} は不明です。次の"
            "いずれかを使ってください: {engines}。",
        },
        "settings.field_of": {
            "en": "{source}, field {field!r}",
            "ja": "{source}、項目 {field!r}",
        },
        "settings.command_line": {
            "en": "command-line options",
            "ja": "コマンドラインのオプション",
        },
        "settings.no_workspace": {
            "en": "No workspace at {root!r}: {settings_file} not found. Run "
            "'partnerlift init {root}' first, or pass --workspace.",
            "ja": "{root!r} にワークスペースがありません ({settings_file} が"
            "見つかりません)。先に 'partnerlift init {root}' を実行するか、"
            "--workspace を指定してください。",
        },
        "settings.invalid_toml": {
            "en": "{path}: invalid TOML: {error}.",
            "ja": "{path}: TOML として不正です: {error}。",
        },
        "settings.unknown_setting": {
            "en": "{path}: unknown setting {name!r}. Known settings: {known}.",
            "ja": "{path}: 設定 {name!r} は不明です。使える設定: {known}。",
        },
        "settings.file_not_found": {
            "en": "File not found: {path!r}.",
            "ja": "ファイル {path!r} が見つかりません。",
        },
        "settings.not_utf8": {
            "en": "{path} is not UTF-8 text: {reason} at byte {byte}. Save the file "
            "as UTF-8.",
            "ja": "{path} は UTF-8 のテキストではありません ({byte} バイト目: "
            "{reason})。ファイルを UTF-8 で保存してください。",
        },
        "settings.invalid_yaml": {
            "en": "{path} is not valid YAML.",
            "ja": "{path} は YAML として不正です。",
        },
        "settings.invalid_yaml_reason": {
            "en": "invalid YAML: {error}",
            "ja": "YAML として不正です: {error}",
        },
        "settings.unknown_key": {
            "en": "unknown key {key!r}",
            "ja": "不明なキー {key!r} です",
        },
        "settings.empty_value_hint": {
            "en": ". The value is empty; in YAML, quote text that has a comma",
            "ja": "。値が空です。YAML ではカンマを含む文字列を引用符で囲んでください",
        },
        "settings.invalid_file": {
            "en": "Invalid {what} in {path}.",
            "ja": "{path} の{what}が不正です。",
        },
        "settings.what.mapping file": {
            "en": "mapping file",
            "ja": "マッピングファイル",
        },
        "settings.what.score model": {
            "en": "score model",
            "ja": "スコアモデル",
        },
        "settings.what.study": {
            "en": "study",
            "ja": "分析設定",
        },
    }
)
