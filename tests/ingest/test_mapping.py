from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from partnerlift.errors import ConfigError, SchemaError
from partnerlift.ingest import import_file, load_mapping


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


CRM_DEALS = (
    "Opportunity,Account,Opened,Stage,Amount,Close Date\n"
    'o1,acme,2024/04/01,Closed Won,"1.234,5",2024/05/01\n'
    "o2,acme,2024/04/02,Closed Lost,,2024/05/02\n"
    'o3,beta,2024/04/03,Negotiation,"10.000",\n'
)

CRM_MAPPING = """\
columns:
  deal_id: Opportunity
  partner_id: Account
  created_at: {column: Opened, date_format: "%Y/%m/%d"}
  closed_at: {column: Close Date, date_format: "%Y/%m/%d"}
  status:
    column: Stage
    values: {Closed Won: won, Closed Lost: lost, Negotiation: open}
  amount: {column: Amount, number: {thousands: ".", decimal: ","}}
  currency: {constant: EUR}
"""


@pytest.fixture
def crm_deals(database, workspace, tmp_path):
    data = write(tmp_path, "crm.csv", CRM_DEALS)
    mapping = write(tmp_path, "crm.yaml", CRM_MAPPING)
    result = import_file(database, workspace, "deals", data, mapping=mapping)
    rows = database.query("SELECT * FROM deals ORDER BY deal_id")
    return result, rows


def test_mapping_renames_columns(crm_deals):
    result, rows = crm_deals

    assert result.inserted == 3
    assert rows["deal_id"].tolist() == ["o1", "o2", "o3"]
    assert rows["partner_id"].tolist() == ["acme", "acme", "beta"]


def test_mapping_maps_values(crm_deals):
    _, rows = crm_deals

    assert rows["status"].tolist() == ["won", "lost", "open"]


def test_mapping_sets_constant(crm_deals):
    _, rows = crm_deals

    assert rows["currency"].tolist() == ["EUR", "EUR", "EUR"]


def test_mapping_reads_date_format(crm_deals):
    _, rows = crm_deals

    # 2024/04/01 is local midnight in Tokyo (UTC+9): 2024-03-31 15:00 UTC.
    assert rows["created_at"][0] == datetime(2024, 3, 31, 15, 0)
    assert rows["created_local"][0] == datetime(2024, 4, 1, 0, 0)


def test_mapping_reads_number_format(crm_deals):
    _, rows = crm_deals

    # "1.234,5" with '.' for thousands and ',' for decimals is 1234.5.
    assert rows["amount"][0] == 1234.5
    assert rows["amount"][2] == 10000.0


def test_day_offset_counts_from_base_date(database, workspace, tmp_path):
    data = write(
        tmp_path,
        "clicks.csv",
        "id_student,id_site,date,sum_click\n1,s1,-10,2\n1,s1,0,1\n2,s2,3,4\n",
    )
    mapping = write(
        tmp_path,
        "clicks.yaml",
        "base_date: 2013-10-01\n"
        "columns:\n"
        "  partner_id: id_student\n"
        "  asset_id: id_site\n"
        "  occurred_at: {column: date, day_offset: true}\n"
        "  quantity: sum_click\n"
        "  action: {constant: viewed}\n",
    )

    result = import_file(database, workspace, "events", data, mapping=mapping)
    rows = database.query("SELECT * FROM events ORDER BY occurred_at")

    # Day -10 is 2013-09-21, day 3 is 2013-10-04; local midnight in Tokyo is 15:00
    # UTC on the day before.
    assert result.inserted == 3
    assert rows["occurred_local"].tolist() == [
        datetime(2013, 9, 21),
        datetime(2013, 10, 1),
        datetime(2013, 10, 4),
    ]
    assert rows["occurred_at"][0] == datetime(2013, 9, 20, 15, 0)
    assert rows["quantity"].tolist() == [2.0, 1.0, 4.0]
    assert rows["action"].tolist() == ["viewed", "viewed", "viewed"]


def test_filter_keeps_matching_rows(database, workspace, tmp_path):
    data = write(
        tmp_path,
        "info.csv",
        "code_module,code_presentation,id_student\n"
        "AAA,2013J,1\nAAA,2014J,2\nBBB,2013J,3\nAAA,2013J,4\nCCC,2013J,5\n",
    )
    mapping = write(
        tmp_path,
        "info.yaml",
        "filter:\n"
        "  code_module: [AAA, CCC]\n"
        "  code_presentation: 2013J\n"
        "columns:\n"
        "  partner_id: id_student\n",
    )

    result = import_file(database, workspace, "partners", data, mapping=mapping)
    rows = database.query("SELECT partner_id FROM partners ORDER BY 1")

    # Students 1, 4 (AAA 2013J) and 5 (CCC 2013J) match; 2 and 3 do not.
    assert rows["partner_id"].tolist() == ["1", "4", "5"]
    assert result.filtered == 2
    assert result.read == result.inserted + result.filtered


def test_strict_value_map_rejects_unmapped(database, workspace, tmp_path):
    data = write(
        tmp_path,
        "d.csv",
        "id,acct,opened,stage\n1,a,2024-04-01,Won\n2,a,2024-04-01,Lost\n",
    )
    mapping = write(
        tmp_path,
        "d.yaml",
        "columns:\n"
        "  deal_id: id\n"
        "  partner_id: acct\n"
        "  created_at: opened\n"
        "  status: {column: stage, values: {Won: won}, strict: true}\n",
    )

    result = import_file(database, workspace, "deals", data, mapping=mapping)

    assert result.inserted == 1
    assert result.problems[0].value == "Lost"
    assert result.problems[0].line == 3


def test_unknown_mapping_key_names_line(database, workspace, tmp_path):
    data = write(tmp_path, "p.csv", "id\np1\n")
    mapping = write(
        tmp_path, "p.yaml", "columns:\n  partner_id: id\nrenames:\n  x: y\n"
    )

    with pytest.raises(ConfigError) as raised:
        import_file(database, workspace, "partners", data, mapping=mapping)

    assert raised.value.problems[0].line == 3
    assert raised.value.problems[0].file == str(mapping)


def test_wrong_spec_type_names_line(database, workspace, tmp_path):
    data = write(tmp_path, "p.csv", "id\np1\n")
    mapping = write(
        tmp_path,
        "p.yaml",
        "columns:\n  partner_id: id\n  joined_at: {column: id, day_offset: maybe}\n",
    )

    with pytest.raises(ConfigError) as raised:
        import_file(database, workspace, "partners", data, mapping=mapping)

    assert raised.value.problems[0].line == 3


def test_unknown_field_names_line(database, workspace, tmp_path):
    data = write(tmp_path, "p.csv", "id\np1\n")
    mapping = write(tmp_path, "p.yaml", "columns:\n  partner_id: id\n  colour: id\n")

    with pytest.raises(ConfigError, match="mapping") as raised:
        import_file(database, workspace, "partners", data, mapping=mapping)

    assert raised.value.problems[0].line == 3
    assert raised.value.problems[0].field == "colour"


def test_missing_source_column_names_both(database, workspace, tmp_path):
    data = write(tmp_path, "p.csv", "id,name\np1,a\n")
    mapping = write(tmp_path, "p.yaml", "columns:\n  partner_id: partner_code\n")

    with pytest.raises(SchemaError) as raised:
        import_file(database, workspace, "partners", data, mapping=mapping)

    problem = raised.value.problems[0]
    assert problem.field == "partner_id"
    assert problem.value == "partner_code"
    assert problem.line == 2
    assert str(data) in problem.reason
    assert database.query("SELECT count(*) AS n FROM partners")["n"][0] == 0


def test_filtered_assets_without_tags(database, workspace, tmp_path):
    data = write(
        tmp_path,
        "vle.csv",
        "id_site,code_module,activity_type\n1,AAA,forumng\n2,BBB,url\n3,AAA,url\n",
    )
    mapping = write(
        tmp_path,
        "vle.yaml",
        "filter: {code_module: AAA}\n"
        "columns:\n  asset_id: id_site\n  kind: activity_type\n",
    )

    result = import_file(database, workspace, "assets", data, mapping=mapping)
    rows = database.query("SELECT asset_id, kind, tags FROM assets ORDER BY 1")

    # Sites 1 and 3 are in module AAA.
    assert result.inserted == 2
    assert rows["kind"].tolist() == ["forumng", "url"]
    assert rows["tags"].isna().all()


def test_event_without_partner_or_user_rejected(database, workspace, tmp_path):
    data = write(
        tmp_path,
        "e.csv",
        "occurred_at,partner_id,user_id,action\n2024-04-01,p1,,viewed\n2024-04-01,,,viewed\n",
    )

    result = import_file(database, workspace, "events", data)

    assert result.rejected == 1
    assert result.problems[0].line == 3
    assert result.problems[0].value is None


def test_misspelled_nested_key_is_one_problem(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns:\n  status:\n    column: st\n    valeus: {Won: won}\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as raised:
        load_mapping(path, "deals")

    problems = raised.value.problems
    assert len(problems) == 1
    assert problems[0].line == 4
    assert problems[0].reason == "unknown key 'valeus'"
