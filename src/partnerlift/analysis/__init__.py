"""Analysis: which support behaviours go with partner outcomes.

Each behaviour is measured in an exposure window and compared with outcomes in the
window that follows it, with rates and counts, score intervals, a Mantel-Haenszel
adjusted ratio and Benjamini-Hochberg q-values.
"""

from __future__ import annotations

from partnerlift.analysis.findings import Finding, analyze
from partnerlift.analysis.study import Study, load_study

__all__ = ["Finding", "Study", "analyze", "load_study"]
