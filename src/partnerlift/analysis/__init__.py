"""Analysis: which support behaviours go with partner outcomes.

Each behaviour, at each of its thresholds, is measured in an exposure window and
compared with outcomes in the window that follows it: rates with score intervals,
deal-level win rates with partner-clustered errors, time to the first deal with
Kaplan-Meier curves, and revenue as a ratio of means. Each comparison is adjusted for
partner covariates, carries an E-value, a negative control and the smallest effect it
could detect, and gets a Benjamini-Hochberg q-value across the whole run. A behaviour
that can start at any time is a time-varying covariate of a Cox model instead.
"""

from __future__ import annotations

from partnerlift.analysis.findings import Finding, analyze
from partnerlift.analysis.study import Study, load_study

__all__ = ["Finding", "Study", "analyze", "load_study"]
