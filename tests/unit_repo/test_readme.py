"""The README states what the tests check: its bad-input table is the test table itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("bad_input_table", ROOT / "scripts" / "bad-input-table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_lists_every_bad_input_case():
    generator = load_generator()
    readme = (ROOT / "README.md").read_text()
    assert generator.table() in readme, "README's bad-input table is stale: run scripts/bad-input-table.py --write"


def test_readme_states_the_number_of_cases():
    generator = load_generator()
    readme = (ROOT / "README.md").read_text()
    assert "**%d wrong inputs**" % len(generator.CASES) in readme
