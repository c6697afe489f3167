"""The apps depend one way: onboarding → integrations → cdp. The sandbox org imports nothing of the app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module))
            elif isinstance(node, ast.Import):
                found.update((str(path.relative_to(ROOT)), alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("cdp", ("integrations", "onboarding", "salesforce_sandbox")),
        ("integrations", ("onboarding", "salesforce_sandbox")),
        ("salesforce_sandbox", ("cdp", "integrations", "onboarding")),
    ],
)
def test_an_app_imports_only_the_apps_beneath_it(package, forbidden):
    wrong = sorted(
        (path, module) for path, module in _imported_modules(package) if module.split(".")[0] in forbidden
    )
    assert wrong == []
