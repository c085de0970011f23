"""The house as a tool sees it: the import contracts hold, every module says its job, the library's top is small."""
from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from se_models.config import PROJECT

ROOT = PROJECT


def test_the_import_contracts_hold():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is missing: pip install -r requirements-dev.txt")
    done = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    kept = [line for line in done.stdout.splitlines() if line.rstrip().endswith(" KEPT")]
    assert len(kept) >= 3, done.stdout


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("package", ["se_models", "dashboard"])
def test_every_module_says_its_job_in_a_docstring(package):
    missing = [str(p.relative_to(ROOT)) for p in _modules(package)
               if not (ast.get_docstring(ast.parse(p.read_text())) or "").strip()]
    assert not missing, f"modules without a docstring: {missing}"


def test_the_library_is_subpackages_with_a_small_top():
    top = [p.name for p in (ROOT / "se_models").glob("*.py")]
    subpackages = [p.name for p in (ROOT / "se_models").iterdir() if (p / "__init__.py").is_file()]
    assert len(top) <= 6, top
    assert len(subpackages) >= 5, subpackages


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def test_no_private_name_crosses_a_module():
    """`from x import _name`, or `module._name` through an imported project module: a private name used outside
    its home."""
    offenders = []
    for path in _modules("se_models") + _modules("dashboard") + _modules("tests"):
        tree = ast.parse(path.read_text())
        modules = set()  # local names bound to project modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("se_models", "dashboard"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        offenders.append(f"{path.name}: from {node.module} import {a.name}")
                    if _is_module(f"{node.module}.{a.name}"):
                        modules.add(a.asname or a.name)
            elif isinstance(node, ast.Import):
                modules |= {a.asname or a.name.split(".")[0] for a in node.names
                            if a.name.split(".")[0] in ("se_models", "dashboard")}
        offenders += [f"{path.name}:{n.lineno}: {n.value.id}.{n.attr}" for n in ast.walk(tree)
                      if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules
                      and n.attr.startswith("_") and not n.attr.startswith("__")]
    assert not offenders, offenders


def imports_of_test_modules(source: str) -> list[str]:
    """The test modules (and conftest) a test file imports from: fixtures come by name from conftest.py, helpers from
    the helper modules (fakes, probes, apphelp, browserhelp), never from another test file."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            if node.level == 0 and parts[0] != "tests":
                continue
            inner = parts[1:] if node.level == 0 else parts  # the module inside tests/
            names = inner[:1] or [a.name for a in node.names]  # `from tests import test_x` / `from . import test_x`
            found += [n for n in names if n == "conftest" or n.startswith("test_")]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names
                      if a.name.split(".")[0] == "tests" and len(a.name.split(".")) > 1
                      and (a.name.split(".")[1] == "conftest" or a.name.split(".")[1].startswith("test_"))]
    return found


def test_no_test_file_imports_from_another_test_file():
    planted = ("from tests.test_app import app\nfrom .conftest import pattern\nfrom tests import test_browser\n"
               "import tests.test_epochs\nfrom tests.fakes import pattern\nfrom . import probes\nimport pytest\n")
    assert imports_of_test_modules(planted) == ["test_app", "conftest", "test_browser", "tests.test_epochs"]
    offenders = {p.name: found for p in sorted((ROOT / "tests").glob("*.py"))
                 if (found := imports_of_test_modules(p.read_text()))}
    assert not offenders, offenders
