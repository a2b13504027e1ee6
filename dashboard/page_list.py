"""The dashboard's pages, declared once: the entry script's navigation and the tests read this list.

Each page is one thin file in ``pages/`` (README.md, "Pages"). ``group`` says
who the page is for and which tests check its numbers: ``outcomes`` (the
director pages of docs/metrics.md, checked against the metric engine in
tests/test_pages.py), ``operations`` (costs, caseloads, surveys; contract
version 2), ``steward`` (data quality), ``report`` and ``admin`` (the access
log, listed for admins only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Group = Literal["outcomes", "operations", "steward", "report", "admin"]


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the repository root, as st.Page and AppTest.switch_page take it
    title: str
    icon: str
    group: Group
    default: bool = False

    @property
    def url_path(self) -> str:
        """The page's path in the browser's address ("" for the default page)."""
        return "" if self.default else Path(self.path).stem

    @property
    def admin_only(self) -> bool:
        return self.group == "admin"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", "outcomes", default=True),
    PageSpec("pages/pilot_evaluation.py", "Pilot evaluation", ":material/balance:", "outcomes"),
    PageSpec("pages/recidivism.py", "Recidivism", ":material/replay:", "outcomes"),
    PageSpec("pages/reintegration.py", "Reintegration", ":material/work:", "outcomes"),
    PageSpec("pages/referrals.py", "Referrals", ":material/send:", "outcomes"),
    PageSpec("pages/compliance.py", "Compliance", ":material/task_alt:", "outcomes"),
    PageSpec("pages/partnerships.py", "Partnerships", ":material/handshake:", "outcomes"),
    PageSpec("pages/community_policing.py", "Community policing", ":material/local_police:", "outcomes"),
    PageSpec("pages/operations.py", "Operations", ":material/payments:", "operations"),
    PageSpec("pages/community_voice.py", "Community voice", ":material/forum:", "operations"),
    PageSpec("pages/equity.py", "Equity", ":material/diversity_3:", "outcomes"),
    PageSpec("pages/data_status.py", "Data status", ":material/database:", "outcomes"),
    PageSpec("pages/data_quality.py", "Data quality", ":material/fact_check:", "steward"),
    PageSpec("pages/report.py", "Report", ":material/description:", "report"),
    PageSpec("pages/access_log.py", "Access log", ":material/policy:", "admin"),
)


def visible_pages(role: str) -> list[PageSpec]:
    """The pages listed in the navigation for ``role`` (the access log for admins only; the engine
    refuses it to anyone else as well)."""
    return [p for p in PAGES if not p.admin_only or role == "admin"]


def paths(*groups: Group) -> list[str]:
    """The paths of the pages in ``groups`` (every page when none is named), in navigation order."""
    return [p.path for p in PAGES if not groups or p.group in groups]
