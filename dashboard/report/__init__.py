"""The report package for a reporting period: PDF, self-contained HTML and a ZIP of every file.

A grant reporter picks a period (quarter, half year, fiscal year or custom
dates) and one program or all, and gets what a funder's performance report
asks for: a cover (program, grant id, period, as-of date, validation status of
the data), the measures table with N and 95% intervals, key charts, the
definition of every measure taken from the metric registry, the suppression
note, the limitations, and the command that reproduces the package.

Every number comes from :func:`dashboard.metrics.engine.compute_metrics`
(suppression with complementary suppression at ``min_cell_size``, default
11) and the engine's counts; this module selects rows and formats them.
Text from the data (program and agency names) is neutralised against
spreadsheet formulas everywhere and HTML-escaped in the HTML report.

PDF fonts: DejaVu Sans from the Debian package ``fonts-dejavu-core``
(``/usr/share/fonts/truetype/dejavu``) or matplotlib's bundled copy when
either is installed, so any Unicode text prints; otherwise fpdf2's built-in
Helvetica, with text folded to Latin-1 (typographic dashes and quotes
replaced by their ASCII forms, anything else by ``?``). Nothing is fetched.

Modules, each importing only those before it: ``periods``, ``measures``,
``content``, ``formatting``, ``html_page``, ``pdf``, ``package``. This package
re-exports their public names.
"""

from __future__ import annotations

from dashboard.report.periods import (  # noqa: F401
    PERIOD_FORMS,
    ReportingPeriod,
    check_start_month,
    fiscal_year_bounds,
    parse_period,
)
from dashboard.report.measures import (  # noqa: F401
    LIMITATIONS_DIFFERENCING,
    MEASURES_COLUMNS,
    OPERATIONS_COLUMNS,
    OPERATIONS_MEASURES,
    OPERATIONS_NOTE,
    REPORT_MEASURES,
    REPORT_METRIC_IDS,
    ReportChart,
    ReportContent,
    ReportMeasure,
    ReportResult,
    suppression_note,
)
from dashboard.report.content import (  # noqa: F401
    COUNT_DEFINITIONS,
    PAPER_SIZES,
    ParticipantFilters,
    build_content,
    measures_table,
    operations_table,
    report_command,
    reported_measures,
    validation_status,
)
from dashboard.report.formatting import (  # noqa: F401
    COHORT_HEADERS,
    MEASURE_HEADERS,
    OPERATIONS_HEADERS,
    cohort_cells,
    count_text,
    measure_cells,
    operations_cells,
    pct,
    readable_table,
)
from dashboard.report.html_page import (  # noqa: F401
    render_html,
)
from dashboard.report.pdf import (  # noqa: F401
    FONT_DIRS,
    find_dejavu,
    render_pdf,
    to_latin1,
)
from dashboard.report.package import (  # noqa: F401
    ZIP_DATE,
    build_report,
    package_files,
    report_stem,
)
