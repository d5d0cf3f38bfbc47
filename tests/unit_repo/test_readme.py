"""The docs state what the tests check: docs/bad-inputs.md's table is the test table itself; the README stays short."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BAD_INPUTS = ROOT / "docs" / "bad-inputs.md"


def load_generator():
    spec = importlib.util.spec_from_file_location("bad_input_table", ROOT / "scripts" / "lib" / "bad-input-table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bad_inputs_doc_lists_every_bad_input_case():
    generator = load_generator()
    doc = BAD_INPUTS.read_text()
    assert generator.table() in doc, "docs/bad-inputs.md's table is stale: run scripts/lib/bad-input-table.py --write"


def test_bad_inputs_doc_states_the_number_of_cases():
    generator = load_generator()
    doc = BAD_INPUTS.read_text()
    assert "**%d wrong inputs**" % len(generator.CASES) in doc


def test_readme_is_short_and_links_the_bad_inputs():
    readme = (ROOT / "README.md").read_text()
    # 10 kB: the day-2 operations each have a short section with their figures in the README (issue 12)
    assert len(readme.encode()) <= 10000, "README.md is %d bytes: move detail into docs/" % len(readme.encode())
    assert "docs/bad-inputs.md" in readme


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings (outside code blocks)."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", text, flags=re.M)
    }


def test_relative_links_resolve():
    """Every relative link in README.md, docs/*.md and roles/*/README.md points to a file (and heading) that exists."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "roles").glob("*/README.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            path, _, anchor = target.partition("#")
            if re.match(r"[a-z]+:", path):
                continue
            linked = (page.parent / path) if path else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
                broken.append("%s -> %s" % (page.relative_to(ROOT), target))
    assert not broken, broken
