"""Time the dashboard's redraws on the sample extract, through Streamlit's AppTest.

Usage (from the repository root)::

    python bench/bench_dashboard.py [--repeat 3]

Loads ``sample_data/`` into a temporary embedded database, then, for every
page, times (median of ``--repeat``):

- ``first``: the page under new filters (nothing cached for them yet);
- ``again``: the same page and filters once more (served from the caches);
- ``switch``: a filter change on the page (a new program), the user's
  "redraw after a filter change".

AppTest runs the script in-process, so the times are the server-side script
time, without the browser's drawing. Nothing here asserts a time; the issue's
target is "well under a second" for a filter change.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = (
    "overview", "pilot_evaluation", "recidivism", "referrals", "compliance",
    "partnerships", "community_policing", "equity", "data_status",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from dashboard import store
    from dashboard.ingest import load_extract

    with tempfile.TemporaryDirectory() as tmp:
        url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        engine = store.make_engine(url)
        load_extract(REPO / "sample_data", engine)
        engine.dispose()
        os.environ["DATABASE_URL"] = url
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300)
        start = time.perf_counter()
        at.run()
        print(f"cold start (read tables, overview): {time.perf_counter() - start:.2f} s")
        programs = ["P01", "P02", "P03", "P04", "P05", "P06", "P07"]
        print(f"{'page':<22}{'first':>8}{'again':>8}{'switch':>8}   (seconds, median of {args.repeat})")
        for n, page in enumerate(PAGES):
            first, again, switch = [], [], []
            for r in range(args.repeat):
                program = programs[(n * args.repeat + r) % len(programs)]
                at.switch_page(f"pages/{page}.py")
                at.multiselect(key="filter_program").set_value([program])
                t = time.perf_counter()
                at.run()
                first.append(time.perf_counter() - t)
                t = time.perf_counter()
                at.run()
                again.append(time.perf_counter() - t)
                at.multiselect(key="filter_program").set_value([programs[(n * args.repeat + r + 3) % len(programs)]])
                t = time.perf_counter()
                at.run()
                switch.append(time.perf_counter() - t)
                assert not at.exception, [e.value for e in at.exception]
            print(f"{page:<22}{statistics.median(first):>8.2f}{statistics.median(again):>8.2f}"
                  f"{statistics.median(switch):>8.2f}")


if __name__ == "__main__":
    main()
