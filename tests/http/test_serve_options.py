from __future__ import annotations

import pytest
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--port", "0"),
        ("--port", "65536"),
        ("--max-body-bytes", "0"),
        ("--max-items", "0"),
    ],
)
def test_serve_rejects_out_of_range(workspace, option, value):
    result = CliRunner().invoke(
        app, ["--workspace", str(workspace.root), "serve", option, value]
    )

    # Exit code 2 is a usage error: the server did not start.
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output


def test_serve_help_names_no_docs_page():
    result = CliRunner().invoke(app, ["serve", "--help"])

    assert result.exit_code == 0
    assert "/openapi.json" in result.output
    assert "docs at /docs" not in result.output
