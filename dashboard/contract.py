"""The data contract (versions 1 and 2) as code: the single source of truth.

Every table, column, type, enum and rule that partners must respect is declared
here once. The SQL schema (``store.py``), the Great Expectations suites
(``data_checks/``), the sample generator and ``docs/data-contract.md`` are all
derived from these declarations, so adding a column means changing this file
only.

Rule ids are stable strings (``required:agency_name``, ``fk:program_id``...);
they appear in load reports, the quarantine table and the docs, so stewards
can count and look them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: The newest contract version this program reads (docs/data-contract.md).
CONTRACT_VERSION = 2
#: Every ``contract_version`` a manifest may declare: version 2 only adds optional
#: tables, so a version 1 extract stays valid and loads exactly as before.
SUPPORTED_CONTRACT_VERSIONS: tuple[int, ...] = (1, 2)

ColumnType = Literal["str", "date", "bool", "int", "enum", "decimal"]

# Tables in load order: every parent comes before its children.
AGENCY_TYPES = (
    "law_enforcement",
    "probation",
    "parole",
    "corrections",
    "court",
    "reentry_provider",
    "community_org",
    "social_services",
)
PROGRAM_MODELS = (
    "reentry_law_enforcement",
    "release_planning",
    "probation_community_resources",
    "probation_parole_coordination",
    "community_policing_social_services",
)
AGREEMENT_TYPES = ("mou", "moa", "data_sharing")
COHORTS = ("pilot", "comparison")
SUPERVISION_TYPES = ("probation", "parole", "post_release", "none")
RISK_LEVELS = ("low", "moderate", "high")
SEXES = ("female", "male", "other", "unknown")
EXIT_REASONS = ("completed", "revoked", "absconded", "transferred", "deceased", "other")
SERVICE_TYPES = (
    "housing",
    "employment",
    "mental_health",
    "substance_use",
    "education",
    "benefits",
    "identification",
    "mentoring",
    "family",
    "other",
)
REFERRAL_STATUSES = (
    "pending",
    "accepted",
    "in_service",
    "completed",
    "declined",
    "no_show",
    "closed_unsuccessful",
)
SUPERVISION_EVENT_TYPES = (
    "office_check_in",
    "home_visit",
    "drug_test",
    "electronic_monitoring",
    "treatment_session",
    "curfew_check",
    "court_appearance",
)
SUPERVISION_OUTCOMES = ("compliant", "non_compliant", "missed", "excused")
VIOLATION_TYPES = ("technical", "new_offense")
VIOLATION_RESPONSES = ("warning", "graduated_sanction", "revocation_filed", "revoked")
RECIDIVISM_EVENT_TYPES = ("arrest", "conviction", "incarceration", "revocation")
OFFENSE_CATEGORIES = ("violent", "property", "drug", "public_order", "technical", "other")
CONTACT_TYPES = ("crisis_call", "welfare_check", "outreach", "warrant_service", "other")
CONTACT_OUTCOMES = (
    "resolved_on_scene",
    "referred_to_services",
    "transported_to_treatment",
    "arrest",
    "no_action",
)
# Contract version 2. The order of the employment and housing values matters:
# when two checks on the same date disagree, the value listed first wins
# (docs/metrics.md, status at W).
EMPLOYMENT_STATUSES = ("full_time", "part_time", "unemployed", "not_in_labor_force")
HOUSING_STATUSES = ("stable", "transitional", "homeless", "institutional")
COST_CATEGORIES = ("personnel", "services", "technology", "training", "other")
RESPONDENT_TYPES = ("participant", "resident", "staff", "partner")
SURVEY_QUESTIONS = ("trust", "safety", "satisfaction", "coordination")

#: Decimals (money, full-time equivalents) are stored exactly with this many
#: digits in all and this many after the point (NUMERIC(18, 2)).
DECIMAL_PRECISION = 18
DECIMAL_SCALE = 2


@dataclass(frozen=True)
class Column:
    """One contract column.

    ``references`` names the parent table whose key this column must match.
    ``may_follow_as_of`` marks the dates allowed after the as-of date.
    ``min_value``/``max_value`` bound whole numbers; on a decimal column
    ``min_value`` 0 documents that the lexical rule admits no sign (so no
    separate range rule can fire).
    """

    name: str
    type: ColumnType
    required: bool
    description: str
    enum: tuple[str, ...] = ()
    references: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    may_follow_as_of: bool = False


@dataclass(frozen=True)
class DateOrder:
    """``later`` must be on or after ``earlier`` when both are set."""

    later: str
    earlier: str

    @property
    def id(self) -> str:
        return f"date_order:{self.later}>={self.earlier}"

    @property
    def message(self) -> str:
        return f"{self.later} is before {self.earlier}"


@dataclass(frozen=True)
class RequiredWhen:
    """``column`` must be set when ``when_column`` is in ``values``.

    With ``values`` empty the condition is "``when_column`` is set".
    """

    column: str
    when_column: str
    values: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        cond = "set" if not self.values else "|".join(self.values)
        return f"required_when:{self.column}:{self.when_column}={cond}"

    @property
    def message(self) -> str:
        if not self.values:
            return f"{self.column} is required when {self.when_column} is set"
        return f"{self.column} is required when {self.when_column} is {' or '.join(self.values)}"


@dataclass(frozen=True)
class NullUnless:
    """``column`` must be null unless ``when_column`` is in ``values``.

    With ``values`` empty the condition is "``when_column`` is set".
    """

    column: str
    when_column: str
    values: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        cond = "set" if not self.values else "|".join(self.values)
        return f"null_unless:{self.column}:{self.when_column}={cond}"

    @property
    def message(self) -> str:
        if not self.values:
            return f"{self.column} must be empty when {self.when_column} is empty"
        return f"{self.column} must be empty unless {self.when_column} is {' or '.join(self.values)}"


@dataclass(frozen=True)
class NullWhen:
    """``column`` must be null when ``when_column`` is in ``values``."""

    column: str
    when_column: str
    values: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"null_when:{self.column}:{self.when_column}={'|'.join(self.values)}"

    @property
    def message(self) -> str:
        return f"{self.column} must be empty when {self.when_column} is {' or '.join(self.values)}"


@dataclass(frozen=True)
class FirstOfMonth:
    """``column`` (a date) must be the first day of a calendar month when set."""

    column: str

    @property
    def id(self) -> str:
        return f"first_of_month:{self.column}"

    @property
    def message(self) -> str:
        return f"{self.column} is not the first day of a month (write the month as YYYY-MM-01)"


@dataclass(frozen=True)
class AtLeastOne:
    """At least one of ``columns`` must be set."""

    columns: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"at_least_one:{'|'.join(self.columns)}"

    @property
    def message(self) -> str:
        return f"none of {' and '.join(self.columns)} is set; at least one is required"


RowRule = DateOrder | RequiredWhen | NullUnless | NullWhen | FirstOfMonth | AtLeastOne


@dataclass(frozen=True)
class Table:
    """One contract table.

    ``key`` is the key column; a table keyed on several columns (``staffing``:
    agency and month) lists them in ``composite_key``, and ``key`` is then only
    the name under which the loader carries the combined key (in quarantine
    and load issues: the parts joined by :data:`KEY_PART_SEPARATOR`).
    ``since`` is the contract version that added the table.
    """

    name: str
    key: str
    description: str
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...] = field(default_factory=tuple)
    optional_table: bool = False
    composite_key: tuple[str, ...] = ()
    since: int = 1

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The columns whose values together identify a row."""
        return self.composite_key or (self.key,)

    @property
    def has_composite_key(self) -> bool:
        return bool(self.composite_key)

    def is_key_column(self, name: str) -> bool:
        return name in self.key_columns

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def foreign_keys(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.references)


def _c(
    name: str,
    type_: ColumnType,
    required: bool,
    description: str,
    **kw: object,
) -> Column:
    return Column(name, type_, required, description, **kw)  # type: ignore[arg-type]


TABLES: tuple[Table, ...] = (
    Table(
        "agencies",
        "agency_id",
        "Every agency that takes part: law enforcement, supervision, courts, providers.",
        (
            _c("agency_id", "str", True, "Agency identifier, unique."),
            _c("agency_name", "str", True, "Agency name as it should appear in reports."),
            _c("agency_type", "enum", True, "Kind of agency.", enum=AGENCY_TYPES),
            _c("jurisdiction", "str", False, "City, county or state served."),
        ),
    ),
    Table(
        "programs",
        "program_id",
        "Each partnership pilot program.",
        (
            _c("program_id", "str", True, "Program identifier, unique."),
            _c("program_name", "str", True, "Program name."),
            _c("program_model", "enum", True, "Partnership model.", enum=PROGRAM_MODELS),
            _c("lead_agency_id", "str", True, "Lead agency.", references="agencies"),
            _c("start_date", "date", True, "Date the program started."),
            _c("end_date", "date", False, "Planned or actual end; may be after the as-of date.", may_follow_as_of=True),
            _c("grant_id", "str", False, "Funder award number, used in report bundles."),
        ),
        (DateOrder("end_date", "start_date"),),
    ),
    Table(
        "agreements",
        "agreement_id",
        "MOUs, MOAs and data-sharing agreements between a program and a partner agency.",
        (
            _c("agreement_id", "str", True, "Agreement identifier, unique."),
            _c("program_id", "str", True, "Program the agreement serves.", references="programs"),
            _c("agency_id", "str", True, "Partner agency.", references="agencies"),
            _c("agreement_type", "enum", True, "Kind of agreement.", enum=AGREEMENT_TYPES),
            _c("signed_date", "date", True, "Date signed."),
            _c("expires_date", "date", False, "Expiry; may be after the as-of date.", may_follow_as_of=True),
        ),
        (DateOrder("expires_date", "signed_date"),),
    ),
    Table(
        "participants",
        "participant_id",
        "One row per person per program enrollment, under a pseudonymous id.",
        (
            _c("participant_id", "str", True, "Pseudonymous participant id, unique."),
            _c("program_id", "str", True, "Program enrolled in.", references="programs"),
            _c("supervising_agency_id", "str", False, "Supervising agency.", references="agencies"),
            _c("cohort", "enum", True, "Pilot or comparison group.", enum=COHORTS),
            _c("enrollment_date", "date", True, "Date of enrollment."),
            _c("release_date", "date", False, "Release from custody; empty for people never incarcerated."),
            _c("reentry_plan_date", "date", False, "Date a written release/reentry plan was completed."),
            _c("supervision_type", "enum", True, "Supervision the person is under.", enum=SUPERVISION_TYPES),
            _c("risk_level", "enum", True, "Assessed risk level.", enum=RISK_LEVELS),
            _c("sex", "enum", False, "Sex.", enum=SEXES),
            _c("race_ethnicity", "str", False, "Race/ethnicity as recorded by the partner."),
            _c("age_at_enrollment", "int", False, "Age in whole years at enrollment (10 to 100).", min_value=10, max_value=100),
            _c("exit_date", "date", False, "Date the person left the program."),
            _c("exit_reason", "enum", False, "Why the person left; required when exit_date is set.", enum=EXIT_REASONS),
        ),
        (
            DateOrder("exit_date", "enrollment_date"),
            RequiredWhen("exit_reason", "exit_date"),
            NullUnless("exit_reason", "exit_date"),
        ),
    ),
    Table(
        "referrals",
        "referral_id",
        "Referrals of participants to service providers.",
        (
            _c("referral_id", "str", True, "Referral identifier, unique."),
            _c("participant_id", "str", True, "Participant referred.", references="participants"),
            _c("referring_agency_id", "str", True, "Agency that made the referral.", references="agencies"),
            _c("provider_agency_id", "str", True, "Agency providing the service.", references="agencies"),
            _c("service_type", "enum", True, "Service referred to.", enum=SERVICE_TYPES),
            _c("referral_date", "date", True, "Date of referral."),
            _c("accepted_date", "date", False, "Date the provider accepted the referral."),
            _c("service_start_date", "date", False, "Date the service started."),
            _c("completed_date", "date", False, "Date the service was completed."),
            _c("status", "enum", True, "Current status.", enum=REFERRAL_STATUSES),
        ),
        (
            DateOrder("accepted_date", "referral_date"),
            DateOrder("service_start_date", "referral_date"),
            DateOrder("service_start_date", "accepted_date"),
            DateOrder("completed_date", "service_start_date"),
            RequiredWhen("accepted_date", "status", ("accepted", "in_service", "completed")),
            RequiredWhen("service_start_date", "status", ("in_service", "completed")),
            RequiredWhen("completed_date", "status", ("completed",)),
            NullUnless("completed_date", "status", ("completed",)),
            NullWhen("accepted_date", "status", ("pending",)),
            NullWhen("service_start_date", "status", ("pending",)),
        ),
    ),
    Table(
        "supervision_events",
        "event_id",
        "Contacts and conditions checked by probation, parole and law enforcement.",
        (
            _c("event_id", "str", True, "Event identifier, unique."),
            _c("participant_id", "str", True, "Participant supervised.", references="participants"),
            _c("agency_id", "str", True, "Agency that recorded the event.", references="agencies"),
            _c("event_date", "date", True, "Date of the event."),
            _c("event_type", "enum", True, "Kind of contact or condition.", enum=SUPERVISION_EVENT_TYPES),
            _c("required", "bool", True, "Whether the event was a required condition."),
            _c("outcome", "enum", True, "Outcome.", enum=SUPERVISION_OUTCOMES),
        ),
    ),
    Table(
        "violations",
        "violation_id",
        "Violations of supervision conditions.",
        (
            _c("violation_id", "str", True, "Violation identifier, unique."),
            _c("participant_id", "str", True, "Participant.", references="participants"),
            _c("agency_id", "str", True, "Agency that recorded the violation.", references="agencies"),
            _c("violation_date", "date", True, "Date of the violation."),
            _c("violation_type", "enum", True, "Technical or new offense.", enum=VIOLATION_TYPES),
            _c("response", "enum", True, "Agency response.", enum=VIOLATION_RESPONSES),
        ),
    ),
    Table(
        "recidivism_events",
        "event_id",
        "Arrests, convictions, incarcerations and revocations after enrollment or release.",
        (
            _c("event_id", "str", True, "Event identifier, unique."),
            _c("participant_id", "str", True, "Participant.", references="participants"),
            _c("event_date", "date", True, "Date of the event."),
            _c("event_type", "enum", True, "Kind of event.", enum=RECIDIVISM_EVENT_TYPES),
            _c("offense_category", "enum", False, "Offense category.", enum=OFFENSE_CATEGORIES),
            _c("source_agency_id", "str", False, "Agency that reported the event.", references="agencies"),
        ),
    ),
    Table(
        "police_contacts",
        "contact_id",
        "Community policing and co-response contacts (optional table).",
        (
            _c("contact_id", "str", True, "Contact identifier, unique."),
            _c("agency_id", "str", True, "Police agency.", references="agencies"),
            _c("program_id", "str", False, "Program, when the contact was part of one.", references="programs"),
            _c("participant_id", "str", False, "Participant, when known.", references="participants"),
            _c("contact_date", "date", True, "Date of the contact."),
            _c("contact_type", "enum", True, "Kind of contact.", enum=CONTACT_TYPES),
            _c("co_responder", "bool", True, "A clinician or social worker attended."),
            _c("outcome", "enum", True, "Outcome of the contact.", enum=CONTACT_OUTCOMES),
        ),
        optional_table=True,
    ),
    # --- contract version 2: reintegration, operations and community voice ---------
    Table(
        "reintegration_checks",
        "check_id",
        "A case manager's or provider's record of where a participant stands on employment and housing "
        "(optional table, contract version 2).",
        (
            _c("check_id", "str", True, "Check identifier, unique."),
            _c("participant_id", "str", True, "Participant checked.", references="participants"),
            _c("agency_id", "str", True, "Agency that recorded the check.", references="agencies"),
            _c("check_date", "date", True, "Date of the check."),
            _c("employment", "enum", False, "Employment status on that date.", enum=EMPLOYMENT_STATUSES),
            _c("housing", "enum", False, "Housing status on that date.", enum=HOUSING_STATUSES),
        ),
        (AtLeastOne(("employment", "housing")),),
        optional_table=True,
        since=2,
    ),
    Table(
        "program_costs",
        "cost_id",
        "What a pilot program spent over a period (optional table, contract version 2).",
        (
            _c("cost_id", "str", True, "Cost record identifier, unique."),
            _c("program_id", "str", True, "Program the money was spent on.", references="programs"),
            _c("period_start", "date", True, "First day the amount covers."),
            _c("period_end", "date", True, "Last day the amount covers; may be after the as-of date.",
               may_follow_as_of=True),
            _c("amount", "decimal", True, "Amount spent, in currency units (0 or more, at most two decimals).",
               min_value=0),
            _c("category", "enum", False, "Kind of spending.", enum=COST_CATEGORIES),
        ),
        (DateOrder("period_end", "period_start"),),
        optional_table=True,
        since=2,
    ),
    Table(
        "staffing",
        "staffing_key",
        "Supervising officers of an agency, one row per agency per month (optional table, contract version 2).",
        (
            _c("agency_id", "str", True, "Supervising agency.", references="agencies"),
            _c("month", "date", True, "The month, written as its first day (YYYY-MM-01)."),
            _c("officers_fte", "decimal", True,
               "Supervising officers in full-time equivalents (0 or more, at most two decimals).", min_value=0),
        ),
        (FirstOfMonth("month"),),
        optional_table=True,
        composite_key=("agency_id", "month"),
        since=2,
    ),
    Table(
        "surveys",
        "response_id",
        "One answer to one survey question, from a resident, participant, staff member or partner "
        "(optional table, contract version 2).",
        (
            _c("response_id", "str", True, "Response identifier, unique."),
            _c("survey_date", "date", True, "Date of the answer."),
            _c("respondent_type", "enum", True, "Who answered.", enum=RESPONDENT_TYPES),
            _c("question", "enum", True, "Question answered.", enum=SURVEY_QUESTIONS),
            _c("score", "int", True, "Answer from 1 to 5 (5 = most favourable).", min_value=1, max_value=5),
            _c("program_id", "str", False, "Program the answer is about, when known.", references="programs"),
            _c("agency_id", "str", False, "Agency the answer is about, when known.", references="agencies"),
            _c("participant_id", "str", False,
               "Participant who answered; only for respondent_type participant.", references="participants"),
        ),
        (NullUnless("participant_id", "respondent_type", ("participant",)),),
        optional_table=True,
        since=2,
    ),
)

#: Joins the parts of a composite key into the one record key shown to stewards
#: (``A01 | 2024-03-01`` for a staffing row).
KEY_PART_SEPARATOR = " | "

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)

# Tables whose rows draw a warning when dated outside the participant's
# enrollment (before enrollment_date or after exit_date), with the date column.
ENROLLMENT_WINDOW_WARNINGS: dict[str, str] = {
    "supervision_events": "event_date",
    "violations": "violation_date",
    "referrals": "referral_date",
    "reintegration_checks": "check_date",
}

# --- rule ids shared by every layer ------------------------------------------------
# Column-level rules are "<kind>:<column>"; row rules carry their own ids above.
RULE_MISSING_COLUMN = "missing_column"
RULE_REQUIRED = "required"  # required:<column>
RULE_DATE_FORMAT = "date_format"  # date_format:<column>
RULE_BOOL_FORMAT = "bool_format"
RULE_INT_FORMAT = "int_format"
RULE_DECIMAL_FORMAT = "decimal_format"
RULE_ENUM = "enum"
RULE_RANGE = "range"
RULE_AFTER_AS_OF = "after_as_of"
RULE_FK = "fk"  # fk:<column>
RULE_PARENT_REJECTED = "parent_rejected"  # parent_rejected:<column>
RULE_DUPLICATE_CONFLICT = "duplicate_key_conflict"
WARN_BEFORE_ENROLLMENT = "warn:before_enrollment"
WARN_AFTER_EXIT = "warn:after_exit"
WARN_NO_SUPERVISION_EVENTS = "warn:no_supervision_events"
WARN_UNKNOWN_COLUMN = "warn:unknown_column"
# Rules that keep both databases storing exactly the same rows (docs/data-contract.md,
# "How values are read"): PostgreSQL cannot store a NUL character in text, and an
# identifier is indexed, so its length is bounded; DuckDB would take both.
RULE_NUL_CHARACTER = "nul_character"  # nul_character:<column>
RULE_TOO_LONG = "too_long"  # too_long:<column>
RULE_DUPLICATE_COLUMN = "duplicate_column"  # the whole file: two headers read as one column

#: Longest identifier (a key or a reference), in characters: room for a SHA-512
#: hex digest, and far inside PostgreSQL's limit on an index entry (2,704 bytes).
MAX_CODE_LENGTH = 128
#: Longest free-text value (names, jurisdiction, grant id, race/ethnicity), in characters.
MAX_TEXT_LENGTH = 5000

TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # ASCII digits only (\d would admit other scripts)
INT_PATTERN = r"^[0-9]+(?:\.0+)?$"
# Decimals: digits with an optional fraction of one or two digits; no sign,
# exponent, thousands separator or currency symbol.
DECIMAL_PATTERN = r"^[0-9]+(?:\.[0-9]{1,2})?$"


def max_length(table: Table, col: Column) -> int | None:
    """The most characters a text column's value may have (None: other types,
    whose values are bounded by their format or their list of values)."""
    if col.type != "str":
        return None
    return MAX_CODE_LENGTH if col.name in table.key_columns or col.references else MAX_TEXT_LENGTH


def rule_id(kind: str, column: str) -> str:
    """The id of a column-level rule, e.g. ``rule_id("required", "agency_name")``."""
    return f"{kind}:{column}"


def describe_rule(rule: str, table: str | None = None) -> str:
    """A sentence a data steward understands for a rule id."""
    kind, _, rest = rule.partition(":")
    t = TABLES_BY_NAME.get(table) if table else None
    if kind == "required":
        return f"{rest} is required but empty"
    if kind == "date_format":
        return f"{rest} is not a date written YYYY-MM-DD"
    if kind == "bool_format":
        return f"{rest} is not true/false/1/0"
    if kind == "int_format":
        return f"{rest} is not a whole number"
    if kind == "decimal_format":
        return (
            f"{rest} is not a number written with digits and at most two decimal places (such as 12, 12.5 "
            "or 12.50; no sign, exponent, thousands separator or currency symbol, and not below 0)"
        )
    if kind == "enum":
        allowed = ", ".join(t.column(rest).enum) if t else "the contract's values"
        return f"{rest} is not one of: {allowed}"
    if kind == "range":
        if t:
            c = t.column(rest)
            return f"{rest} is outside {c.min_value}..{c.max_value}"
        return f"{rest} is out of range"
    if kind == "after_as_of":
        return f"{rest} is after the extract's as-of date"
    if kind == "fk":
        parent = t.column(rest).references if t else "its parent table"
        return f"{rest} does not match any {parent} row"
    if kind == "parent_rejected":
        parent = t.column(rest).references if t else "its parent"
        return f"{rest} points to a row of {parent} that was rejected"
    if kind == RULE_DUPLICATE_CONFLICT:
        return "the key appears more than once with different values; no copy can be trusted"
    if kind == RULE_MISSING_COLUMN:
        return f"the file lacks required column(s) {rest}" if rest else "the file lacks a required column"
    if kind == RULE_NUL_CHARACTER:
        return f"{rest} contains a NUL character (byte 0), which no database column can store; remove it"
    if kind == RULE_TOO_LONG:
        limit = max_length(t, t.column(rest)) if t else None
        most = f"{limit} characters" if limit else "the stored length"
        return f"{rest} is longer than {most}"
    if kind == RULE_DUPLICATE_COLUMN:
        return (
            f"the file has two or more columns read as one contract column: {rest}; keep one of them"
            if rest
            else "the file has two or more columns read as one contract column; keep one of them"
        )
    if kind == "warn":
        return {
            "before_enrollment": "dated before the participant's enrollment",
            "after_exit": "dated after the participant's exit",
            "no_supervision_events": "participant has no supervision events",
            "unknown_column": "unknown column ignored",
        }.get(rest.split(":")[0], rest)
    if t:
        for r in t.row_rules:
            if r.id == rule:
                return r.message
    return rule
