"""Every shell command in the code blocks of the README and docs/*.md runs as written on a fresh copy of the repository.

A command that cannot run here says so in its trailing comment with one of the MARKERS (the internet, a long
training run, a server that does not return, data the reader brings); it is skipped with that reason. The
`python -m se_models ...` commands run one after another in one interpreter started in the fresh copy (what `-m`
does, by runpy), so torch and the rest are imported once, not once a command; any other command runs in a shell."""
from __future__ import annotations

import json
import os
import re
import selectors
import shlex
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
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_readme")]  # one worker: one copy, one interpreter
TIMEOUT = 600  # seconds a command may take


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
MARK = "@@readme-runner@@ "  # starts the runner's answer line, told apart from anything a command prints itself

# Reads one command line (JSON: argv after `python -m se_models`) at a time, runs it as `python -m se_models ARGV`
# would (runpy, module __main__, sys.argv set), and answers one line: the exit code and the command's own output.
RUNNER = r"""
import contextlib, io, json, runpy, sys, traceback
for line in sys.stdin:
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = ["se_models", *json.loads(line)]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_module("se_models", run_name="__main__", alter_sys=True)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
    print(MARK + json.dumps({"code": code, "err": err.getvalue()[-3000:]}), flush=True)
""".replace("MARK", repr(MARK))


class Runner:
    """The interpreter the `python -m se_models` commands run in, in the fresh copy (its se_models, its files)."""

    def __init__(self, cwd: Path):
        self.cwd, self.proc = cwd, None

    def run(self, argv: list[str]) -> tuple[int, str]:
        """(exit code, stderr) of `python -m se_models ARGV`; fails the test after TIMEOUT seconds."""
        if self.proc is None or self.proc.poll() is not None:
            env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
            self.proc = subprocess.Popen([sys.executable, "-c", RUNNER], cwd=self.cwd, env=env, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.proc.stdin.write(json.dumps(argv) + "\n")
        self.proc.stdin.flush()
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while sel.select(timeout=TIMEOUT):
                line = self.proc.stdout.readline()
                if not line:
                    pytest.fail(f"the interpreter running `python -m se_models {shlex.join(argv)}` exited")
                if line.startswith(MARK):
                    answer = json.loads(line[len(MARK):])
                    return answer["code"], answer["err"]
        self.close()
        pytest.fail(f"`python -m se_models {shlex.join(argv)}` took over {TIMEOUT} s")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def runner(fresh_copy):
    r = Runner(fresh_copy)
    yield r
    r.close()


@pytest.mark.parametrize("command, reason", COMMANDS, ids=[c[:70] for c, _ in COMMANDS])
def test_readme_command_runs_as_written(command, reason, runner, fresh_copy):
    if reason:
        pytest.skip(f"marked in the README: {reason}")
    argv = shlex.split(command)
    plain = not set(command) & set("|&;<>$`")  # no pipe, list, redirection or substitution: one process
    if plain and argv[:3] in (["python", "-m", "se_models"], ["python3", "-m", "se_models"]):
        code, err = runner.run(argv[3:])
    else:  # anything else runs in a shell, with this test's interpreter for `python`
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
        command = re.sub(r"^python(3)?\b", lambda _: shlex.quote(sys.executable), command)
        done = subprocess.run(command, shell=True, cwd=fresh_copy, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
        code, err = done.returncode, done.stderr[-3000:]
    assert code == 0, f"{command}\n--- stderr ---\n{err}"
    assert "Traceback" not in err, err


def test_the_runner_reports_a_failing_command(runner):
    """The shared interpreter says so when a command fails (argparse's exit 2, and an exception's traceback)."""
    code, err = runner.run(["no-such-command"])
    assert code == 2 and "invalid choice" in err
    code, err = runner.run(["predict", "no/such/image.png"])
    assert code != 0 and "no/such/image.png" in err
