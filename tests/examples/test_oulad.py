"""The OULAD example against a plain pandas count of the raw files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oulad"
# The example ships copies of the OULAD files; the hand count reads those copies,
# and a test below checks them against the originals where those are at hand.
RAW = EXAMPLE / "data"
ORIGINALS = Path(__file__).resolve().parents[3] / "shared" / "data" / "oulad"
PASSED = {"Pass", "Distinction"}


def expected_groups() -> dict[str, dict[str, float]]:
    """Count, per activity type, who clicked in days -10 to +2 and who passed."""
    students = pd.read_csv(RAW / "studentInfo.csv")
    students = students[
        (students.code_module == "AAA") & (students.code_presentation == "2013J")
    ]
    clicks = pd.read_csv(RAW / "studentVle_head13905.csv")
    clicks = clicks[clicks.date.between(-10, 2) & (clicks.sum_click > 0)]
    sites = pd.read_csv(RAW / "vle.csv")
    clicks = clicks.merge(sites[["id_site", "activity_type"]], on="id_site")
    passed = students.set_index("id_student").final_result.isin(PASSED)

    groups = {}
    for activity, rows in clicks.groupby("activity_type"):
        clicked = students.id_student.isin(rows.id_student)
        with_ids = students.id_student[clicked]
        without_ids = students.id_student[~clicked]
        groups[activity] = {
            "n_with": len(with_ids),
            "n_without": len(without_ids),
            "value_with": passed[with_ids].mean(),
            "value_without": passed[without_ids].mean(),
        }
    return groups


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> dict[str, dict]:
    workspace = tmp_path_factory.mktemp("oulad") / "ws"
    environment = dict(
        os.environ, PARTNERLIFT=str(Path(sys.executable).parent / "partnerlift")
    )

    run = subprocess.run(
        ["bash", str(EXAMPLE / "run.sh"), str(EXAMPLE / "data"), str(workspace)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    analysis = subprocess.run(
        [
            environment["PARTNERLIFT"],
            "--workspace",
            str(workspace),
            "analyze",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    payload = json.loads(analysis.stdout)
    return {finding["behavior"]: finding for finding in payload["findings"]}


@pytest.mark.skipif(
    not ORIGINALS.exists(), reason="the original OULAD files are absent"
)
def test_oulad_copies_match_originals():
    for name in ("studentInfo.csv", "vle.csv", "studentVle_head13905.csv"):
        assert (RAW / name).read_bytes() == (ORIGINALS / name).read_bytes(), name


def test_oulad_has_383_students_and_nine_types():
    groups = expected_groups()

    assert len(groups) == 9
    assert all(group["n_with"] + group["n_without"] == 383 for group in groups.values())


def test_oulad_group_sizes_match_pandas(findings):
    for activity, expected in expected_groups().items():
        finding = findings[activity]
        assert finding["outcome"] == "win_rate", activity
        assert finding["n_with"] == expected["n_with"], activity
        assert finding["n_without"] == expected["n_without"], activity


def test_oulad_pass_rates_match_pandas(findings):
    for activity, expected in expected_groups().items():
        finding = findings[activity]
        assert finding["value_with"] == pytest.approx(expected["value_with"]), activity
        assert finding["value_without"] == pytest.approx(expected["value_without"]), (
            activity
        )
