from __future__ import annotations

from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from partnerlift.errors import InputError, SchemaError
from partnerlift.ingest import import_file, read_source

DEALS_HEADER = "deal_id,partner_id,created_at,status,amount\n"


def deal_amounts(database) -> dict[str, float]:
    rows = database.query("SELECT deal_id, amount FROM deals ORDER BY deal_id")
    return dict(zip(rows["deal_id"], rows["amount"], strict=True))


def test_tsv_partners_import(database, workspace, tmp_path):
    path = tmp_path / "partners.tsv"
    path.write_text(
        "partner_id\tname\ttier\tregion\n"
        "P-0001\t株式会社山田商事\tGold\t関東\n"
        "P-0002\tSmith, Jones & Co.\tSilver\tKansai\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "partners", path)
    names = database.query("SELECT name FROM partners ORDER BY partner_id")["name"]

    assert result.inserted == 2
    # A comma inside a tab-separated cell is part of the value.
    assert names.tolist() == ["株式会社山田商事", "Smith, Jones & Co."]


def test_excel_unicode_text_is_utf16(database, workspace, tmp_path):
    # Excel's "Unicode text (*.txt)" export: UTF-16 LE with a byte order mark,
    # tab-separated, CRLF line ends, a multi-line cell in double quotes.
    content = (
        "partner_id\tname\tregion\r\n"
        "P-0001\t髙橋システム\t関東\r\n"
        'P-0002\t"山﨑商会\r\n大阪支店"\t関西\r\n'
        "P-0003\tABC Partners\t九州\r\n"
    )
    path = tmp_path / "partners.txt"
    path.write_bytes(content.encode("utf-16"))

    result = import_file(database, workspace, "partners", path)
    rows = database.query("SELECT partner_id, name FROM partners ORDER BY 1")

    assert result.encoding == "utf-16"
    assert result.inserted == 3
    assert rows["name"].tolist() == [
        "髙橋システム",
        "山﨑商会\r\n大阪支店",
        "ABC Partners",
    ]


def test_utf16_without_bom_is_detected(tmp_path):
    path = tmp_path / "partners.txt"
    path.write_bytes("partner_id\tname\r\nP-0001\tAcme\r\n".encode("utf-16-le"))

    source = read_source(path)

    assert source.encoding == "utf-16-le"
    assert source.columns == ["partner_id", "name"]


def test_utf16_quoted_line_break_keeps_lines(database, workspace, tmp_path):
    content = (
        "deal_id\tpartner_id\tcreated_at\tstatus\tstage\r\n"
        'D1\tP1\t2024-04-01\twon\t"first\r\nsecond"\r\n'
        "D2\tP1\t2024-04-01\tpending\tx\r\n"
    )
    path = tmp_path / "deals.txt"
    path.write_bytes(content.encode("utf-16"))

    result = import_file(database, workspace, "deals", path)

    # D1 spans lines 2 and 3, so D2 is on line 4.
    assert result.problems[0].line == 4
    assert result.problems[0].value == "pending"


def test_json_array_of_events(database, workspace, tmp_path):
    path = tmp_path / "events.json"
    path.write_text(
        "[\n"
        '  {"occurred_at": "2024-04-01T10:00:00+09:00", "partner_id": "P1",\n'
        '   "action": "viewed", "asset_id": "A1", "page": 3},\n'
        '  {"occurred_at": "2024-04-02", "partner_id": "P1", "action": ""},\n'
        '  "not an object",\n'
        '  {"occurred_at": "2024-04-03", "partner_id": "P2", "action": "downloaded"}\n'
        "]\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "events", path)
    pages = database.query("SELECT properties['page'] AS page FROM events")["page"]

    assert result.read == 4
    assert result.inserted == 2
    # The objects start on lines 2, 4, 5 and 6; line 4 lacks the action.
    assert [problem.line for problem in result.problems] == [4, 5]
    assert sorted(pages.dropna().tolist()) == ["3"]


def test_broken_json_array_names_line(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(
        '[\n  {"occurred_at": "2024-04-01", "action": "viewed"},\n'
        '  {"occurred_at": "2024-04-02", "action": }\n]\n',
        encoding="utf-8",
    )

    with pytest.raises(InputError, match="line 3"):
        read_source(path)


def test_xlsx_deals_import(database, workspace, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["商談ID", "パートナー", "作成日", "ステータス", "金額", "完了日"])
    sheet.append([1001, "P-0001", datetime(2024, 4, 1), "won", 1234567, 45412])
    sheet.append([1002, "P-0002", "2024/04/15", "open", 98000.0, None])
    sheet.append([None, None, None, None, None, None])
    sheet.append([1003, "P-0002", datetime(2024, 5, 1, 14, 30), "lost", None, None])
    path = tmp_path / "deals.xlsx"
    workbook.save(path)
    mapping = tmp_path / "deals.yaml"
    mapping.write_text(
        "columns:\n  deal_id: 商談ID\n  partner_id: パートナー\n  created_at: 作成日\n"
        "  status: ステータス\n  amount: 金額\n  closed_at: 完了日\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "deals", path, mapping=mapping)
    rows = database.query("SELECT * FROM deals ORDER BY deal_id")

    assert result.read == 3
    assert result.inserted == 3
    assert rows["deal_id"].tolist() == ["1001", "1002", "1003"]
    assert rows["amount"].tolist()[:2] == [1234567.0, 98000.0]
    # 2024-04-01 00:00 in Tokyo is 2024-03-31 15:00 UTC.
    assert rows["created_at"][0] == datetime(2024, 3, 31, 15, 0)
    assert rows["created_local"][2] == datetime(2024, 5, 1, 14, 30)
    # Excel serial 45292 is 2024-01-01, so 45412 (120 days later) is 2024-04-30.
    assert rows["closed_local"][0] == datetime(2024, 4, 30)


def test_xlsx_rows_keep_sheet_lines(database, workspace, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([None])
    sheet.append(["partner_id", "joined_at"])
    sheet.append(["P1", "2024-04-01"])
    sheet.append(["P2", "not a date"])
    path = tmp_path / "partners.xlsx"
    workbook.save(path)

    result = import_file(database, workspace, "partners", path)

    # The header is on row 2 of the sheet, so P2 is on row 4.
    assert result.problems[0].line == 4
    assert result.problems[0].field == "joined_at"


def test_xlsx_duplicate_header_is_error(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["partner_id", "name", "name"])
    path = tmp_path / "partners.xlsx"
    workbook.save(path)

    with pytest.raises(SchemaError, match="'name' appears twice"):
        read_source(path)


def test_csv_duplicate_header_imports_nothing(database, workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,partner_id,created_at,status,amount,amount\n"
        "D1,P1,2024-04-01,won,100,200\n",
        encoding="utf-8",
    )

    with pytest.raises(SchemaError, match="'amount' appears twice"):
        import_file(database, workspace, "deals", path)

    assert database.query("SELECT count(*) AS n FROM deals")["n"][0] == 0


def test_old_xls_gets_clear_error(tmp_path):
    path = tmp_path / "deals.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")

    with pytest.raises(InputError, match=r"Save the file as \.xlsx"):
        read_source(path)


def test_amounts_as_exports_write_them(database, workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        DEALS_HEADER + 'D1,P1,2024-04-01,won,"1,234,567"\n'
        'D2,P1,2024-04-01,won,"¥1,234,567"\n'
        'D3,P1,2024-04-01,won,"￥1,234,567"\n'
        "D4,P1,2024-04-01,won,１２３４５６７\n"
        'D5,P1,2024-04-01,won,"１，２３４，５６７円"\n'
        "D6,P1,2024-04-01,won,▲5000\n"
        "D7,P1,2024-04-01,won,1234.5\n"
        'D8,P1,2024-04-01,won,"1,23,4"\n'
        "D9,P1,2024-04-01,won,\u22121200\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "deals", path)
    amounts = deal_amounts(database)

    assert [amounts[f"D{number}"] for number in range(1, 6)] == [1_234_567.0] * 5
    # ▲ is the accounting minus sign in Japanese statements.
    assert amounts["D6"] == -5000.0
    # U+2212 is the minus sign of typeset documents.
    assert amounts["D9"] == -1200.0
    assert amounts["D7"] == 1234.5
    # Commas that do not group by three are not thousands separators.
    assert result.problems[0].value == "1,23,4"


def test_german_amounts_with_mapping_locale(database, workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id;partner_id;created_at;status;amount\n"
        "D1;P1;2024-04-01;won;1.234,56\n"
        "D2;P1;2024-04-01;won;€ 12.000\n"
        "D3;P1;2024-04-01;won;0,5\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "de.yaml"
    mapping.write_text("locale: de-DE\n", encoding="utf-8")

    import_file(database, workspace, "deals", path, mapping=mapping)
    amounts = deal_amounts(database)

    assert amounts == {"D1": 1234.56, "D2": 12000.0, "D3": 0.5}


def test_unknown_mapping_locale_is_error(tmp_path):
    from partnerlift.errors import ConfigError
    from partnerlift.ingest import load_mapping

    mapping = tmp_path / "xx.yaml"
    mapping.write_text("locale: xx\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="Unknown number locale 'xx'"):
        load_mapping(mapping, "deals")


def test_cp932_backslash_is_yen(database, workspace, tmp_path):
    # In CP932 the yen sign is the byte 0x5C, which Python decodes as a backslash.
    content = (
        "deal_id,partner_id,created_at,status,amount,stage\n"
        'D1,髙橋システム,2024/04/01,won,"\\1,234,567",受注\n'
        "D2,山﨑商会,2024/04/02,won,\\98000,受注\n"
    )
    path = tmp_path / "deals.csv"
    path.write_bytes(content.encode("cp932"))

    result = import_file(database, workspace, "deals", path)
    amounts = deal_amounts(database)
    partners = database.query("SELECT partner_id FROM deals ORDER BY deal_id")

    assert result.encoding == "cp932"
    assert amounts == {"D1": 1_234_567.0, "D2": 98_000.0}
    assert partners["partner_id"].tolist() == ["髙橋システム", "山﨑商会"]


def test_backslash_in_utf8_amount_is_rejected(database, workspace, tmp_path):
    # The partner name makes the file UTF-8, where a backslash is no yen sign.
    path = tmp_path / "deals.csv"
    path.write_text(
        DEALS_HEADER + "D1,山田商事,2024-04-01,won,\\500\n", encoding="utf-8"
    )

    result = import_file(database, workspace, "deals", path)

    assert result.rejected == 1
    assert result.problems[0].field == "amount"


def test_ascii_backslash_is_yen(database, workspace, tmp_path):
    # A CP932 export without Japanese characters is plain ASCII.
    path = tmp_path / "deals.csv"
    path.write_bytes(
        (DEALS_HEADER + 'D1,P1,2024-04-01,won,"\\1,234,567"\n').encode("cp932")
    )

    result = import_file(database, workspace, "deals", path)

    assert result.encoding == "ascii"
    assert deal_amounts(database) == {"D1": 1_234_567.0}


@pytest.mark.parametrize("name", ["﨑山", "德永", "﨑①", "莉子", "Office 遙子"])
@pytest.mark.parametrize("second", [None, "髙橋"])
def test_cp932_valid_as_utf8_by_chance(database, workspace, tmp_path, name, second):
    # 﨑山 is the bytes ED 95 8E 52 in CP932, which are also valid UTF-8 (핎R).
    # Alone, the whole file is valid UTF-8; with 髙橋 (FB FC), only its line is.
    path = tmp_path / "deals.csv"
    content = DEALS_HEADER + f'D1,{name},2024-04-01,won,"\\500,000"\n'
    if second:
        content += f'D2,{second},2024-04-01,won,"\\1,000"\n'
    path.write_bytes(content.encode("cp932"))

    result = import_file(database, workspace, "deals", path)
    partners = database.query("SELECT partner_id FROM deals ORDER BY deal_id")

    assert result.encoding == "cp932"
    assert result.rejected == 0
    expected = [name, second] if second else [name]
    assert partners["partner_id"].tolist() == expected
    assert deal_amounts(database)["D1"] == 500_000.0


@pytest.mark.parametrize(
    "name",
    [
        "ACME 한국",
        "황 Consulting",
        "Busan 회사",
        "Café Société",
        "Αθήνα",
        "株式会社ABC",
    ],
)
def test_utf8_valid_as_cp932_stays_utf8(database, workspace, tmp_path, name):
    # Each name in UTF-8 is also valid CP932: 황 (ED 99 A9) reads 嶹ｩ, for example.
    path = tmp_path / "partners.csv"
    path.write_bytes(f"partner_id,name\np1,{name}\n".encode())
    name.encode().decode("cp932")

    result = import_file(database, workspace, "partners", path)
    stored = database.query("SELECT name FROM partners")["name"].tolist()

    assert result.encoding == "utf-8"
    assert stored == [name]


DATES = {
    # value: the local wall-clock time it stands for in Tokyo
    "2024/04/01": datetime(2024, 4, 1),
    "2024/4/1 9:05": datetime(2024, 4, 1, 9, 5),
    "2024-04-01T10:00:00+09:00": datetime(2024, 4, 1, 10, 0),
    "45383": datetime(2024, 4, 1),
    "45383.75": datetime(2024, 4, 1, 18, 0),
    "令和6年4月1日": datetime(2024, 4, 1),
    "令和元年5月1日": datetime(2019, 5, 1),
    "平成31年4月30日": datetime(2019, 4, 30),
    "平成元年1月8日": datetime(1989, 1, 8),
    "R6.4.1": datetime(2024, 4, 1),
    "H30/12/25": datetime(2018, 12, 25),
    "令和６年４月１日": datetime(2024, 4, 1),
    "2024年4月1日": datetime(2024, 4, 1),
    "20240401": datetime(2024, 4, 1),
}


def test_dates_as_exports_write_them(database, workspace, tmp_path):
    lines = [f"D{number:02d},P1,{value},open\n" for number, value in enumerate(DATES)]
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,partner_id,created_at,status\n" + "".join(lines))

    result = import_file(database, workspace, "deals", path)
    local = database.query("SELECT deal_id, created_local FROM deals ORDER BY deal_id")[
        "created_local"
    ]

    assert result.rejected == 0
    # Serial 45292 is 2024-01-01; January to March 2024 have 31 + 29 + 31 = 91
    # days, so 45383 is 2024-04-01 and .75 of a day is 18:00. Reiwa 1 is 2019
    # (from 1 May), Heisei 1 is 1989 (from 8 January).
    for (value, expected), stored in zip(DATES.items(), local, strict=True):
        assert stored == expected, value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("平成31年5月1日", id="after-heisei"),
        pytest.param("令和1年4月30日", id="before-reiwa"),
        pytest.param("2024/02/30", id="no-such-day"),
        pytest.param("2024", id="year-is-not-serial"),
        pytest.param("04/01/2024", id="month-first"),
    ],
)
def test_impossible_dates_are_rejected(database, workspace, tmp_path, value):
    path = tmp_path / "deals.csv"
    path.write_text(
        f"deal_id,partner_id,created_at,status\nD1,P1,{value},open\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "deals", path)

    assert result.rejected == 1
    assert result.problems[0].field == "created_at"


SALESFORCE_FOOTER = (
    '"Opportunity Name","Account Name","Amount","Stage"\n'
    '"Big Deal","Acme, Inc.","1,200,000","Closed Won"\n'
    '"Note Deal","Beta ""KK""","300","Prospecting"\n'
    '""\n'
    '""\n'
    '"Grand Totals (2 records)"\n'
    '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    '"Confidential Information - Do Not Distribute"\n'
    '"Generated By:  Taro Yamada  4/1/2024 9:30 AM"\n'
    '"Acme, Inc."\n'
)


def test_report_footer_is_skipped_and_counted(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(SALESFORCE_FOOTER, encoding="utf-8")

    source = read_source(path)

    assert source.read == 2
    # Five one-field lines follow the two blank lines.
    assert source.footer == 5
    assert source.frame["Account Name"].tolist() == ["Acme, Inc.", 'Beta "KK"']


def test_footer_without_blank_line_by_word(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text("partner_id,name\nP1,Acme\n総計 (1 件)\n", encoding="utf-8")

    source = read_source(path)

    assert source.read == 1
    assert source.footer == 1


def test_short_last_row_is_not_footer(database, workspace, tmp_path):
    path = tmp_path / "partners.csv"
    path.write_text("partner_id,name\nP1,Acme\nP2\n", encoding="utf-8")

    result = import_file(database, workspace, "partners", path)

    assert result.footer == 0
    assert result.rejected == 1


def test_footer_count_stored_with_batch(database, workspace, tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(SALESFORCE_FOOTER, encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  partner_id: Account Name\n", encoding="utf-8")

    result = import_file(database, workspace, "partners", path, mapping=mapping)
    batch = database.query("SELECT read, inserted, footer FROM import_batches")

    assert result.footer == 5
    assert batch["footer"][0] == 5
    assert batch["read"][0] == 2


def test_far_timestamps_rejected_or_open(database, workspace, tmp_path):
    # 2999 and 1600 are outside 1900-2199; 9999-12-31 in valid_to means no end.
    events = tmp_path / "events.csv"
    events.write_text(
        "occurred_at,partner_id,action\n"
        "2999-01-01T00:00:00Z,p1,viewed\n"
        "1600-01-01,p1,viewed\n"
        "2024-04-01,p1,viewed\n",
        encoding="utf-8",
    )
    users = tmp_path / "users.csv"
    users.write_text(
        "user_id,partner_id,valid_from,valid_to\nu1,p1,2024-01-01,9999-12-31\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "events", events)
    import_file(database, workspace, "users", users)
    valid_to = database.query("SELECT valid_to FROM users")["valid_to"].tolist()

    assert result.inserted == 1
    assert [problem.line for problem in result.problems] == [2, 3]
    assert all("out of range" in problem.reason for problem in result.problems)
    assert pd.isna(valid_to[0])


@pytest.mark.parametrize("name", ["events.jsonl", "events.json"])
def test_lone_surrogate_rejected(database, workspace, tmp_path, name):
    # The first record writes a lone high surrogate, the second a proper pair
    # (U+1F600).
    start = '{"occurred_at": "2024-04-01", "partner_id": "p1", "action": '
    good = start + '"a\\ud83d\\ude00"}'
    bad = start + '"probe\\ud800"}'
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text(f"{bad}\n{good}\n", encoding="utf-8")
    else:
        path.write_text(f"[\n{bad},\n{good}\n]\n", encoding="utf-8")

    result = import_file(database, workspace, "events", path)
    actions = database.query("SELECT action FROM events")["action"].tolist()

    assert result.rejected == 1
    assert "stands alone" in result.problems[0].reason
    assert actions == ["a\U0001f600"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.jsonl", ""),
        ("empty.json", "[]"),
        ("header.csv", "occurred_at,partner_id,action\n"),
    ],
)
def test_empty_files_import_nothing(database, workspace, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    result = import_file(database, workspace, "events", path)

    assert result.read == 0
    assert result.inserted == 0


def test_totals_row_with_amounts_is_footer(database, workspace, tmp_path):
    # Salesforce puts the sum of the Amount column in the totals row.
    path = tmp_path / "deals.csv"
    path.write_text(
        DEALS_HEADER
        + "D1,P1,2024-04-01,won,1000\n"
        + "D2,P1,2024-04-02,open,2000\n"
        + '"Grand Totals (2 records)","","","","3,000"\n'
        + '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n',
        encoding="utf-8",
    )

    result = import_file(database, workspace, "deals", path)

    assert result.read == 2
    assert result.inserted == 2
    assert result.footer == 2


def test_folder_given_as_file(database, workspace, tmp_path):
    with pytest.raises(InputError, match="is a folder, not a file"):
        import_file(database, workspace, "events", tmp_path)
