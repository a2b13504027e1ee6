"""The contract module is the single source: its document, schema and rule ids agree."""

from __future__ import annotations

from pathlib import Path

from dashboard import contract
from dashboard.contract_docs import render_contract_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-contract.md"


def test_committed_contract_document_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render_contract_markdown(), (
        "docs/data-contract.md is out of date: run "
        "`python -m dashboard.contract_docs > docs/data-contract.md`"
    )


def test_tables_come_parents_first() -> None:
    seen: set[str] = set()
    for table in contract.TABLES:
        for col in table.foreign_keys:
            assert col.references in seen, f"{table.name}.{col.name} refers to a later table"
        seen.add(table.name)


def test_row_rules_name_real_columns_and_ids_are_unique() -> None:
    ids: list[str] = []
    for table in contract.TABLES:
        names = set(table.column_names)
        for rule in table.row_rules:
            cols = [getattr(rule, a) for a in ("later", "earlier", "column", "when_column") if hasattr(rule, a)]
            assert set(cols) <= names, (table.name, rule)
            ids.append(f"{table.name}/{rule.id}")
    assert len(ids) == len(set(ids))


def test_every_rule_is_described_in_words() -> None:
    participants = contract.TABLES_BY_NAME["participants"]
    assert "one of: low, moderate, high" in contract.describe_rule("enum:risk_level", "participants")
    assert contract.describe_rule("fk:program_id", "participants") == "program_id does not match any programs row"
    for rule in participants.row_rules:
        assert contract.describe_rule(rule.id, "participants") == rule.message
    assert "10..100" in contract.describe_rule("range:age_at_enrollment", "participants")


def test_lexical_patterns_take_ascii_digits_only() -> None:
    import re

    # Arabic-Indic digits are digits to \d but not to the contract: "digits" means 0-9.
    assert re.fullmatch(contract.INT_PATTERN, "34") and re.fullmatch(contract.INT_PATTERN, "34.00")
    for bad in ("\u0663\u0664", "34.5", "+34", "3.4e1", "41y"):
        assert not re.fullmatch(contract.INT_PATTERN, bad), bad
    assert re.fullmatch(contract.DATE_PATTERN, "2024-03-05")
    for bad in ("\u0662\u0660\u0662\u0664-03-05", "2024/03/05", "2024-1-5", "20240305"):
        assert not re.fullmatch(contract.DATE_PATTERN, bad), bad
