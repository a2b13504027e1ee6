"""The file formats and chart groupings the exports offer (see ``docs/exports.md``).

Shared by the writers (:mod:`dashboard.export`) and the command line's
options (:mod:`dashboard.cli`); a leaf module, so building the command line's
``--help`` imports neither polars nor Altair.
"""

from __future__ import annotations

from collections.abc import Mapping

CHART_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
TABLE_FORMATS: tuple[str, ...] = ("csv", "xlsx")

CHART_GROUPINGS: Mapping[str, tuple[str, str | None]] = {
    "program": ("program_id", None),
    "agency": ("agency_id", None),
    "cohort": ("cohort", None),
    "program-cohort": ("program_id", "cohort"),
}
"""``export chart --by``: the category key and the optional series key (bars side by side)."""
