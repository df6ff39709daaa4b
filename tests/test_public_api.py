"""The public names of the package and the completeness of the text catalogue."""

from __future__ import annotations

import importlib
import pkgutil

import partnerlift
from partnerlift.settings.messages import CATALOGUE

# Everything a user may import from the top-level package, written out by hand so
# that adding or dropping a public name is a deliberate change.
EXPECTED_PUBLIC = {
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
}


def test_all_lists_public_names():
    public = {name for name in dir(partnerlift) if not name.startswith("_")}
    # Subpackages and the __future__ import are attributes too, but not API.
    modules = {"analysis", "errors", "ingest", "interfaces", "scoring", "settings"}
    modules |= {"simulation", "store", "playbooks", "annotations"}

    assert set(partnerlift.__all__) == EXPECTED_PUBLIC
    assert public - modules == EXPECTED_PUBLIC - {"__version__"}


def test_every_message_has_both_languages():
    for module in pkgutil.walk_packages(partnerlift.__path__, "partnerlift."):
        if module.name != "partnerlift.__main__":
            importlib.import_module(module.name)

    assert len(CATALOGUE) > 50
    for message_id, entry in CATALOGUE.items():
        assert entry["en"].strip(), message_id
        assert entry["ja"].strip(), message_id
