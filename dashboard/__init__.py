"""Partnership Pilot Dashboard: the engine, importable without Streamlit."""

from dashboard.memory import tune_polars_allocator

__version__ = "0.1.0"

# before anything imports polars: its allocator reads this setting once (dashboard/memory.py)
tune_polars_allocator()
