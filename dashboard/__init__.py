"""Partnership Pilot Dashboard: the engine, importable without Streamlit."""

__version__ = "0.1.0"
