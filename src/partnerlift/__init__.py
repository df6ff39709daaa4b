"""partnerlift: find out which partner support goes with sales, and repeat it.

The Python API mirrors the command line::

    import partnerlift as pl

    workspace = pl.create_workspace("acme", timezone="Asia/Tokyo", locale="en")
    db = pl.Database(workspace.database_path)
    pl.import_file(db, workspace, "events", "events.csv")
    scores = pl.score_partners(db, pl.load_model("model.yaml"), zone=workspace.zone)
"""

from __future__ import annotations

__version__ = "0.1.0"

from partnerlift.analysis import Finding, Study, analyze, load_study
from partnerlift.errors import (
    ConfigError,
    InputError,
    InsufficientDataError,
    NotFoundError,
    PartnerliftError,
    PartnerliftWarning,
    Problem,
    SchemaError,
    SmallSampleWarning,
    StatisticalWarning,
)
from partnerlift.ingest import ImportResult, import_file
from partnerlift.interfaces.report import build_report
from partnerlift.scoring import (
    Rule,
    ScoreModel,
    evaluate_rules,
    explain_partner,
    load_model,
    score_partners,
)
from partnerlift.settings import Settings, Workspace, create_workspace, open_workspace
from partnerlift.simulation import SimulatedProgram, simulate_program, write_program
from partnerlift.store import Database

__all__ = [
    "ConfigError",
    "Database",
    "Finding",
    "ImportResult",
    "InputError",
    "InsufficientDataError",
    "NotFoundError",
    "PartnerliftError",
    "PartnerliftWarning",
    "Problem",
    "Rule",
    "SchemaError",
    "ScoreModel",
    "Settings",
    "SimulatedProgram",
    "SmallSampleWarning",
    "StatisticalWarning",
    "Study",
    "Workspace",
    "__version__",
    "analyze",
    "build_report",
    "create_workspace",
    "evaluate_rules",
    "explain_partner",
    "import_file",
    "load_model",
    "load_study",
    "open_workspace",
    "score_partners",
    "simulate_program",
    "write_program",
]
