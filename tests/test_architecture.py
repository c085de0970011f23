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
