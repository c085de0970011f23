"""Every shell command in the code blocks of the README and docs/*.md runs as written on a fresh copy of the repository.

A command that cannot run here says so in its trailing comment with one of the MARKERS (the internet, a long
training run, a server that does not return, data the reader brings); it is skipped with that reason."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from se_models.config import PROJECT

ROOT = PROJECT
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKERS = ("needs the internet", "long", "starts the app", "runs the test suite", "needs your own data")
SHELLS = ("bash", "sh", "shell", "console")
pytestmark = pytest.mark.slow


def readme_commands(text: str) -> list[tuple[str, str | None]]:
    """(command, reason to skip or None) for every command line of the README's shell code blocks; lines ending in
    a backslash continue on the next; a trailing `# comment` is not part of the command."""
    out = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S):
        if lang not in SHELLS:
            continue
        for line in re.sub(r"\s*\\\n\s*", " ", body).splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            command, _, comment = line.partition(" # ") if " # " in line else (line, "", "")
            reason = next((m for m in MARKERS if re.search(rf"\b{m}\b", comment)), None)
            out.append((command.strip(), reason))
    return out


def test_commands_are_found_with_their_markers():
    text = ("```bash\npython -m se_models models   # the bundled models\npython -m se_models stats --data x \\\n"
            "    --json s.json   # needs your own data\n# a comment line\n```\n```python\nimport se_models\n```\n")
    assert readme_commands(text) == [("python -m se_models models", None),
                                     ("python -m se_models stats --data x --json s.json", "needs your own data")]


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    """The repository's tracked files (what a clone holds), copied to a scratch folder: commands that write files
    write them there."""
    dest = tmp_path_factory.mktemp("clone")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    files = [f for f in listed.stdout.split("\0") if f] if listed.returncode == 0 else []
    if not files:  # not a git checkout (an unpacked archive): everything but caches
        shutil.copytree(ROOT, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"))
        return dest
    for f in files:
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    return dest


COMMANDS = list(dict.fromkeys(c for doc in DOCS for c in readme_commands(doc.read_text())))  # each command once


@pytest.mark.parametrize("command, reason", COMMANDS, ids=[c[:70] for c, _ in COMMANDS])
def test_readme_command_runs_as_written(command, reason, fresh_copy):
    if reason:
        pytest.skip(f"marked in the README: {reason}")
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    command = re.sub(r"^python(3)?\b", lambda _: shlex_quote(sys.executable), command)  # this test's interpreter
    done = subprocess.run(command, shell=True, cwd=fresh_copy, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}\n--- stderr ---\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
