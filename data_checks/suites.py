"""Great Expectations suites built from the data contract, one per table.

Each expectation carries the contract rule id it enforces in ``meta["rule"]``
(``required:agency_name``, ``date_format:start_date``,
``date_order:end_date>=start_date``...), so a GX result can be turned back
into the rule ids the loader, the quarantine and the docs use. The suites run
on the *validation frame* of :mod:`dashboard.validation` (lexical column
``<col>`` and typed twin ``<col>__v``), converted to pandas: GX does not accept
polars frames and cannot validate DuckDB tables (see STACK-NOTES).

Which frame column each rule reads, and why:

- required, format and enum checks read the lexical column (trimmed, empty ->
  null, enums/booleans lowercased);
- ranges, dates after the as-of, date orders and "must be empty" rules read the
  typed column, where a value that failed its format is null, so it fails no
  other rule on that column;
- conditions ("when exit_date is set", "when status is completed") read the
  lexical column of the condition; "the first day of a month" reads the
  lexical date where its typed twin is set (a real date).

Great Expectations is imported lazily (it costs seconds), only by the
functions that build or run suites.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from dashboard import contract
from dashboard.contract import (
    DATE_PATTERN,
    DECIMAL_PATTERN,
    FALSE_WORDS,
    INT_PATTERN,
    TRUE_WORDS,
    AtLeastOne,
    DateOrder,
    FirstOfMonth,
    NullUnless,
    NullWhen,
    RequiredWhen,
    Table,
)
from dashboard.validation import FORMAT_RULE_KIND, chars_name, has_typed, nuls_name, typed_name, value_name

if TYPE_CHECKING:  # pragma: no cover
    import great_expectations as gx
    import pandas as pd
    from great_expectations.expectations.row_conditions import Condition

SUITE_PREFIX = "contract_v1"


def suite_name(table: str) -> str:
    return f"{SUITE_PREFIX}.{table}"


@dataclass(frozen=True)
class ExpectationSpec:
    """A GX expectation described without importing GX: class name, kwargs, rule id."""

    expectation: str
    kwargs: dict[str, Any]
    rule: str
    #: row condition as (column, "set" | "null" | "in" | "not_in", values)
    condition: tuple[str, str, tuple[str, ...]] | None = None


def expectation_specs(table: Table, as_of: dt.date) -> list[ExpectationSpec]:
    """Every expectation for ``table``, derived from the contract, in rule order."""
    specs: list[ExpectationSpec] = []
    for col in table.columns:
        name = col.name
        if col.required:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToNotBeNull", {"column": name}, contract.rule_id(contract.RULE_REQUIRED, name)
                )
            )
        # storage rules, read from the small measures of the validation frame (not every distinct value)
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": nuls_name(name), "max_value": 0},
                contract.rule_id(contract.RULE_NUL_CHARACTER, name),
            )
        )
        limit = contract.max_length(table, col)
        if limit is not None:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": chars_name(name), "max_value": limit},
                    contract.rule_id(contract.RULE_TOO_LONG, name),
                )
            )
        if not has_typed(col):
            continue
        fmt = contract.rule_id(FORMAT_RULE_KIND[col.type], name)
        typed = typed_name(name)
        if col.type == "date":
            # the shape (exactly YYYY-MM-DD) ...
            specs.append(ExpectationSpec("ExpectColumnValuesToMatchRegex", {"column": name, "regex": DATE_PATTERN}, fmt))
            # ... and a real calendar day (2024-02-30 has the shape but is no date)
            specs.append(
                ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": typed}, fmt, (name, "set", ()))
            )
        elif col.type == "int":
            specs.append(ExpectationSpec("ExpectColumnValuesToMatchRegex", {"column": name, "regex": INT_PATTERN}, fmt))
            # digits too many for a 64-bit integer
            specs.append(
                ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": typed}, fmt, (name, "set", ()))
            )
        elif col.type == "decimal":
            specs.append(
                ExpectationSpec("ExpectColumnValuesToMatchRegex", {"column": name, "regex": DECIMAL_PATTERN}, fmt)
            )
            # digits too many for NUMERIC(18, 2)
            specs.append(
                ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": typed}, fmt, (name, "set", ()))
            )
        elif col.type == "bool":
            words = sorted(TRUE_WORDS | FALSE_WORDS)
            specs.append(ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": name, "value_set": words}, fmt))
        elif col.type == "enum":
            specs.append(
                ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": name, "value_set": list(col.enum)}, fmt)
            )
        if col.type == "int" and (col.min_value is not None or col.max_value is not None):
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": typed, "min_value": col.min_value, "max_value": col.max_value},
                    contract.rule_id(contract.RULE_RANGE, name),
                )
            )
        if col.type == "date" and not col.may_follow_as_of:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": typed, "max_value": dt.datetime.combine(as_of, dt.time())},
                    contract.rule_id(contract.RULE_AFTER_AS_OF, name),
                )
            )
    for rule in table.row_rules:
        specs.append(_row_rule_spec(table, rule))
    return specs


def _condition(when_column: str, values: tuple[str, ...], *, negate: bool) -> tuple[str, str, tuple[str, ...]]:
    if not values:
        return (when_column, "null" if negate else "set", ())
    return (when_column, "not_in" if negate else "in", values)


def _row_rule_spec(table: Table, rule: contract.RowRule) -> ExpectationSpec:
    if isinstance(rule, DateOrder):
        return ExpectationSpec(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {
                "column_A": typed_name(rule.later),
                "column_B": typed_name(rule.earlier),
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
            rule.id,
        )
    if isinstance(rule, RequiredWhen):
        return ExpectationSpec(
            "ExpectColumnValuesToNotBeNull",
            {"column": rule.column},
            rule.id,
            _condition(rule.when_column, rule.values, negate=False),
        )
    if isinstance(rule, NullUnless):
        return ExpectationSpec(
            "ExpectColumnValuesToBeNull",
            {"column": value_name(table.column(rule.column))},
            rule.id,
            _condition(rule.when_column, rule.values, negate=True),
        )
    if isinstance(rule, NullWhen):
        return ExpectationSpec(
            "ExpectColumnValuesToBeNull",
            {"column": value_name(table.column(rule.column))},
            rule.id,
            _condition(rule.when_column, rule.values, negate=False),
        )
    if isinstance(rule, FirstOfMonth):
        # a real date (typed value set) written YYYY-MM-DD whose day is 01
        return ExpectationSpec(
            "ExpectColumnValuesToMatchRegex",
            {"column": rule.column, "regex": r"-01$"},
            rule.id,
            (typed_name(rule.column), "set", ()),
        )
    if isinstance(rule, AtLeastOne):
        if len(rule.columns) != 2:  # pragma: no cover - the contract has pairs only
            raise AssertionError(f"{rule.id}: the suites express at-least-one over two columns")
        first, second = rule.columns
        return ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": first}, rule.id, (second, "null", ()))
    raise AssertionError(f"unknown row rule {rule!r}")  # pragma: no cover


def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


GROUP = "__group"


def spec_columns(spec: ExpectationSpec) -> tuple[str, ...]:
    """The validation-frame columns one expectation reads (its own and its condition's)."""
    cols = [spec.kwargs[k] for k in ("column", "column_A", "column_B") if k in spec.kwargs]
    if spec.condition is not None and spec.condition[0] not in cols:
        cols.append(spec.condition[0])
    return tuple(cols)


def expectation_groups(specs: Sequence[ExpectationSpec]) -> list[tuple[str, ...]]:
    """The distinct column tuples the expectations read, in first-use order."""
    groups: list[tuple[str, ...]] = []
    for spec in specs:
        cols = spec_columns(spec)
        if cols not in groups:
            groups.append(cols)
    return groups


SET_MARK = "(set)"
NULL_TESTS = ("ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToBeNull")


def nullness_only_columns(specs: Sequence[ExpectationSpec]) -> set[str]:
    """Columns every expectation reads only as "null or not" (identifiers, for one).

    Their distinct values would be as many as the rows; their nullness is all
    the rules can see, so the profile keeps only that (null or ``(set)``).
    """
    read: set[str] = set()
    by_value: set[str] = set()
    for spec in specs:
        for key in ("column", "column_A", "column_B"):
            if key in spec.kwargs:
                read.add(spec.kwargs[key])
                if key != "column" or spec.expectation not in NULL_TESTS:
                    by_value.add(spec.kwargs[key])
        if spec.condition is not None:
            read.add(spec.condition[0])
            if spec.condition[1] not in ("set", "null"):
                by_value.add(spec.condition[0])
    return read - by_value


def project(frame: pl.DataFrame, nullness_only: set[str]) -> pl.DataFrame:
    """``frame`` with the nullness-only columns reduced to null / ``(set)``."""
    return frame.with_columns(
        [
            pl.when(pl.col(c).is_null()).then(pl.lit(None, pl.String)).otherwise(pl.lit(SET_MARK)).alias(c)
            for c in sorted(nullness_only)
        ]
    )


PAIR_ORDER = "ExpectColumnPairValuesAToBeGreaterThanB"


def pair_order_groups(specs: Sequence[ExpectationSpec]) -> set[int]:
    """Indexes (into :func:`expectation_groups`) of the groups read only by
    unconditional date-order expectations ("A on or after B").

    Such a rule sees a pair of dates only through their difference (and which
    of them is missing), so the profile keeps one real pair per distinct
    difference (:func:`group_key`): a few thousand pairs where a million-row
    file has hundreds of thousands of distinct ones.
    """
    groups = expectation_groups(specs)
    readers: dict[int, list[ExpectationSpec]] = {}
    for spec in specs:
        readers.setdefault(groups.index(spec_columns(spec)), []).append(spec)
    return {
        i for i, group_specs in readers.items()
        if len(groups[i]) == 2 and all(s.expectation == PAIR_ORDER and s.condition is None for s in group_specs)
    }


def group_key(cols: Sequence[str], by_difference: bool) -> list[pl.Expr]:
    """What makes two rows the same for a group's rules: the values themselves,
    or for a date-order pair (``by_difference``) the later date minus the
    earlier one and which of the two is missing."""
    if not by_difference:
        return [pl.col(c) for c in cols]
    later, earlier = cols
    return [
        (pl.col(later) - pl.col(earlier)).alias("__difference"),
        pl.col(later).is_null().alias("__later_missing"),
        pl.col(earlier).is_null().alias("__earlier_missing"),
    ]


def profile_frame(
    frame: pl.DataFrame, groups: Sequence[tuple[str, ...]], by_difference: Collection[int] = ()
) -> pl.DataFrame:
    """Every distinct value (or tuple of values) the expectations read, tagged by group.

    Every single-row rule is a function of the columns it reads, so checking
    each distinct tuple once checks every row: a row breaks a rule exactly when
    its tuple does (columns read only for nullness are first reduced by
    :func:`project`). Stacking the tuples of all groups (``GROUP`` says which)
    lets one GX batch and one suite per table cover the whole file at the cost
    of its distinct values instead of its rows (docs/performance.md). For the
    groups in ``by_difference`` (:func:`pair_order_groups`) the first real
    tuple of each distinct :func:`group_key` stands for all rows that share it.
    """
    lazy = frame.lazy()
    parts = []
    for i, cols in enumerate(groups):
        part = lazy.select(cols)
        if i in by_difference:
            key = group_key(cols, True)
            names = [k.meta.output_name() for k in key]
            part = part.with_columns(key).unique(subset=names, keep="first", maintain_order=True).select(cols)
        else:
            part = part.unique(maintain_order=True)
        parts.append(part.with_columns(pl.lit(i, pl.Int32).alias(GROUP)))
    # one query plan: the groups are worked on in parallel
    return pl.concat(pl.collect_all(parts), how="diagonal_relaxed")


def to_pandas(profile: pl.DataFrame) -> pd.DataFrame:
    """The profile frame as pandas (dates as ``datetime64``): GX does not take polars."""
    return profile.with_columns(pl.col(pl.Date).cast(pl.Datetime("ms"))).to_pandas()


def build_suite(table: Table, as_of: dt.date) -> gx.ExpectationSuite:
    """The GX ExpectationSuite for ``table``, run on :func:`profile_frame` of its file.

    Each expectation is restricted (``row_condition``) to its own group of the
    profile frame, and to its rule's condition where it has one.
    """
    gx = _gx()
    from great_expectations.expectations.row_conditions import Column as GXColumn

    specs = expectation_specs(table, as_of)
    groups = expectation_groups(specs)
    expectations = []
    for spec in specs:
        kwargs = dict(spec.kwargs)
        condition: Condition = GXColumn(GROUP) == groups.index(spec_columns(spec))
        if spec.condition is not None:
            column, op, values = spec.condition
            c = GXColumn(column)
            own = {
                "set": lambda: c.is_not_null(),
                "null": lambda: c.is_null(),
                "in": lambda: c.is_in(values),
                "not_in": lambda: c.is_not_in(values),
            }[op]()
            condition = condition & own
        kwargs["row_condition"] = condition
        expectations.append(getattr(gx.expectations, spec.expectation)(**kwargs, meta={"rule": spec.rule}))
    # given all at once: adding one by one re-serialises the suite each time (quadratic)
    suite = gx.ExpectationSuite(name=suite_name(table.name), expectations=expectations)
    return suite


@dataclass(frozen=True)
class Profile:
    """What one table's suite runs over: the distinct values of its file (see
    :func:`profile_frame`), with what is needed to map them back to rows."""

    table: Table
    frame: pl.DataFrame
    groups: list[tuple[str, ...]]
    nullness_only: set[str]
    by_difference: set[int]


def profile_of(table: Table, as_of: dt.date, frame: pl.DataFrame) -> Profile:
    """The profile of ``table``'s validation frame. Plain polars, so the loader
    builds it itself and hands GX (in its own thread) only the small profile."""
    specs = expectation_specs(table, as_of)
    groups = expectation_groups(specs)
    nullness = nullness_only_columns(specs)
    pairs = pair_order_groups(specs)
    return Profile(table, profile_frame(project(frame, nullness), groups, pairs), groups, nullness, pairs)


class SuiteRunner:
    """One ephemeral GX context for a whole extract: a pandas data source, one
    asset per table, the suites, and (optionally) HTML data docs in a folder."""

    _shared: tuple[Any, Any] | None = None
    _suites: dict[tuple[int, str, dt.date], Any] = {}

    def __init__(self, as_of: dt.date, docs_dir: Path | None = None) -> None:
        self.as_of = as_of
        self.docs_dir = docs_dir.resolve() if docs_dir is not None else None
        docs_dir = self.docs_dir
        if docs_dir is None and SuiteRunner._shared is not None:
            # creating a context costs about a second: loads in one process share one
            self.context, self.source = SuiteRunner._shared
            return
        gx = _gx()
        self.context = gx.get_context(mode="ephemeral")
        _quiet(self.context)
        self.source = self.context.data_sources.add_pandas("partner_extract")
        if docs_dir is None:
            SuiteRunner._shared = (self.context, self.source)
        else:
            # The docs list rejected values as delivered: a folder only its owner can open (0700).
            from dashboard.private_files import private_directory

            private_directory(docs_dir)
            self.context.add_data_docs_site(
                site_name="partnership_data_docs",
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def validate(self, table: Table, frame: pl.DataFrame) -> TableCheck:
        """Run ``table``'s suite over the profile of its validation frame."""
        return self.validate_profile(profile_of(table, self.as_of, frame))

    def validate_profile(self, profile: Profile) -> TableCheck:
        """Run the suite of ``profile``'s table over it (see :func:`profile_of`)."""
        gx = _gx()
        table = profile.table
        cache_key = (id(self.context), table.name, self.as_of)
        suite = SuiteRunner._suites.get(cache_key)
        if suite is None:
            suite = self.context.suites.add_or_update(build_suite(table, self.as_of))
            SuiteRunner._suites[cache_key] = suite
        if table.name in self._asset_names():
            asset = self.source.get_asset(table.name)
            batch_def = asset.get_batch_definition("whole")
        else:
            asset = self.source.add_dataframe_asset(name=table.name)
            batch_def = asset.add_batch_definition_whole_dataframe("whole")
        # COMPLETE lists the unexpected profile rows: at most the distinct bad values
        result_format: dict[str, Any] = {"result_format": "COMPLETE"}
        pandas_frame = to_pandas(profile.frame)
        if self.docs_dir is None:
            batch = batch_def.get_batch(batch_parameters={"dataframe": pandas_frame})
            result = batch.validate(suite, result_format=result_format)
        else:
            definition = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"validate_{table.name}", data=batch_def, suite=suite)
            )
            checkpoint = self.context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=f"check_{table.name}",
                    validation_definitions=[definition],
                    actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
                    result_format=result_format,
                )
            )
            outcome = checkpoint.run(batch_parameters={"dataframe": pandas_frame})
            result = next(iter(outcome.run_results.values()))
        return TableCheck(
            table=table, result=result, profile=profile.frame, groups=profile.groups,
            nullness_only=profile.nullness_only, by_difference=profile.by_difference,
        )

    def _asset_names(self) -> set[str]:
        return {a.name for a in self.source.assets}

    def docs_index(self) -> Path | None:
        if self.docs_dir is None:
            return None
        index = self.docs_dir / "index.html"
        return index if index.exists() else None


def _quiet(context: Any) -> None:
    """No tqdm bars from GX: the loader prints its own progress lines."""
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    except Exception:  # pragma: no cover - older/newer GX without this config
        pass


@dataclass
class TableCheck:
    """One table's GX result with what is needed to map it back to the file's rows."""

    table: Table
    result: Any
    profile: pl.DataFrame
    groups: list[tuple[str, ...]]
    nullness_only: set[str]
    by_difference: set[int]

    @property
    def success(self) -> bool:
        return bool(self.result.success)

    def failed_rules(self) -> set[str]:
        """Rule ids with at least one unexpected value."""
        return {
            r.expectation_config.meta["rule"]
            for r in self.result.results
            if int(r.result.get("unexpected_count") or 0) > 0
        }

    def unexpected_values(self) -> dict[str, int]:
        """``rule id -> distinct unexpected values`` (a value counted once per expectation)."""
        counts: dict[str, int] = {}
        for r in self.result.results:
            rule = r.expectation_config.meta["rule"]
            counts[rule] = counts.get(rule, 0) + int(r.result.get("unexpected_count") or 0)
        return counts

    def rows_by_rule(self, frame: pl.DataFrame) -> dict[str, set[int]]:
        """``rule id -> row positions of frame`` whose values GX found unexpected.

        The unexpected profile rows (distinct tuples) are joined back to the
        validation frame on the group's :func:`group_key` (its columns, or a
        date pair's difference), nulls matching nulls.
        """
        out: dict[str, set[int]] = {}
        positions = project(frame, self.nullness_only).with_row_index("__pos")
        for r in self.result.results:
            rule = r.expectation_config.meta["rule"]
            index = [int(i) for i in (r.result.get("unexpected_index_list") or [])]
            out.setdefault(rule, set())
            if not index:
                continue
            bad = self.profile[index]
            group = int(bad[GROUP][0])
            key = group_key(self.groups[group], group in self.by_difference)
            names = [k.meta.output_name() for k in key]
            hit = positions.with_columns(key).join(
                bad.select(key).unique(), on=names, how="semi", nulls_equal=True
            )
            out[rule].update(hit["__pos"].to_list())
        return out

    def rules_by_row(self, frame: pl.DataFrame, rule_order: Sequence[str]) -> list[list[str]]:
        """Per row of ``frame``, the rule ids GX found broken, in ``rule_order``."""
        rows = self.rows_by_rule(frame)
        out: list[list[str]] = [[] for _ in range(frame.height)]
        for rule in rule_order:
            for position in sorted(rows.get(rule, ())):
                out[position].append(rule)
        return out
