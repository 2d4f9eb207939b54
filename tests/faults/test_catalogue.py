"""tests/faults/catalogue.py names every fault test, and only tests that exist (no database)."""

import ast
from pathlib import Path

from tests.faults.catalogue import FAULTS

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]


def _fault_tests() -> set[str]:
    found = set()
    for module in sorted(HERE.glob("test_*.py")):
        if module.name == Path(__file__).name:
            continue
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                found.add(f"{module.relative_to(PROJECT)}::{node.name}")
    return found


def test_the_catalogue_lists_every_fault_test_once_with_how_and_what_is_expected():
    listed = [entry["test"] for entry in FAULTS]
    assert len(listed) == len(set(listed))
    assert set(listed) == _fault_tests()
    for entry in FAULTS:
        assert set(entry) == {"fault", "how", "expected", "test"}
        assert all(isinstance(value, str) and value.strip() for value in entry.values()), entry
