"""Seeded synthetic extracts: the demo data, benchmark input and test fixtures.

``generate_extract`` writes one file per contract table plus ``manifest.json``.
Everything is derived from :mod:`dashboard.contract`: the column lists, their
order, and the enum values (every weight table below is checked against the
contract's enum, so a value added to the contract without a weight here fails
loudly instead of silently never appearing).

The data are fictional but shaped like a real multi-agency pilot:

* a dozen agencies covering every ``agency_type``; seven programs covering
  every ``program_model``, some grant-funded, each with a lead agency;
  agreements in force, expiring within 90 days of the as-of date, expired and
  open-ended;
* participants in pilot and comparison cohorts at three risk levels with
  different base rates, and a **planted pilot effect**: the pilot cohort's
  re-arrest hazard is ``PILOT_HAZARD_RATIO`` times the comparison's, its
  referrals complete more often and its required supervision events are more
  often compliant;
* ``release_date`` only for parole and post-release supervision (people under
  probation or no supervision were never released from custody in this
  enrollment), reentry plans mostly completed before release;
* every referral status with the dates its status requires, every supervision
  outcome, violation type and response, all four recidivism event types
  (mostly after the index date, a few on or before it), and police contacts
  with and without a co-responder.

Every generated row satisfies every contract rule, so the clean extract loads
with zero rejections. The only warnings are a rare, seeded handful of
supervision events dated a few days after the participant's exit (a final
court appearance), as real extracts have.

All dates are placed relative to the as-of date, so any as-of date gives a
valid extract. Generation is vectorised (numpy draws, polars frames): a
million participants (about 10.5 million rows) are written in well under a
minute on two cores with under 2 GB of memory (``bench/bench_generate.py``).

``write_messy_extract`` writes ``sample_data/messy/``: a small extract with
every defect the contract forbids planted on purpose, its expected load
result (``planted.json``) and a README listing every planted row.

Modules, each importing only those above it: ``common`` (defaults, weights,
random streams, series builders) <- ``reference`` (agencies, programs,
agreements) <- ``people`` (participants, referrals, supervision) <- ``events``
(violations, recidivism, police contacts) and ``version2`` (the contract
version 2 tables) <- ``extract`` (the clean extract) <- ``messy`` <-
``messy_files`` (the messy extract).
"""

from __future__ import annotations

from dashboard.sample.common import (
    DEFAULT_AS_OF,
    DEFAULT_PARTICIPANTS,
    DEFAULT_SEED,
    FORMATS,
    GENERATOR_NAME,
    GENERATOR_VERSION,
    PILOT_HAZARD_RATIO,
)
from dashboard.sample.extract import generate_extract, generate_tables
from dashboard.sample.messy_files import write_messy_extract

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_PARTICIPANTS",
    "DEFAULT_SEED",
    "FORMATS",
    "GENERATOR_NAME",
    "GENERATOR_VERSION",
    "PILOT_HAZARD_RATIO",
    "generate_extract",
    "generate_tables",
    "write_messy_extract",
]
