"""What a cold start loads: the Image view's first paint imports only what it draws; the rest waits for its view."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from se_models.config import PROJECT
from tests.apphelp import APP

# slow: a fresh interpreter imports the whole app; one worker builds the module-scoped probe once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_startup")]

# libraries the Image view's first paint does not use: the Methods view's lenses (captum) and similarity (scipy),
# the statistics' probe (scikit-learn), matplotlib (the app draws with plotly and its own jet table), PNG export
# (kaleido), and st.table's pandas and pyarrow (the teaching panel's table is Markdown)
NOT_AT_FIRST_PAINT = ["captum", "sklearn", "scipy", "matplotlib", "kaleido", "pandas", "pyarrow"]

# Run in a fresh interpreter (sys.modules of the test process says nothing about a cold start): the app under
# AppTest on the Image view, what it has imported; then another view opened, and one more run of the app, after which
# that view's module must sit in the collector's frozen generation (gc.get_objects() lists only unfrozen objects).
PROBE = r"""
import gc, json, sys
from streamlit.testing.v1 import AppTest

app, view, heavy = sys.argv[1], sys.argv[2], sys.argv[3:]


def run(name):
    at = AppTest.from_file(app, default_timeout=300)
    at.query_params["view"] = name
    at.run()
    return at, [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


at, errors = run("image")
out = {"errors": errors, "heavy": sorted(m for m in heavy if m in sys.modules),
       "views": sorted(m for m in sys.modules if m.startswith("dashboard.views.")), "frozen": gc.get_freeze_count()}
from dashboard.state import warm  # noqa: E402

warm.start().join(timeout=300)  # the warm-up the first run started, a few seconds after it
out["warmed"] = sorted(m for m in heavy if m in sys.modules)
at, errors = run(view)
module = sys.modules.get("dashboard.views." + view)
out["other"] = {"errors": errors, "heavy": sorted(m for m in heavy if m in sys.modules),
                "frozen_before_next_run": not any(o is module for o in gc.get_objects())}
at.run()
out["other"]["frozen_after_next_run"] = not any(o is module for o in gc.get_objects())
print(json.dumps(out))
"""


def first_paint(view: str = "methods", heavy: list[str] = NOT_AT_FIRST_PAINT) -> dict:
    """The probe above in a fresh interpreter, its JSON: the Image view's first paint, then `view`'s."""
    out = subprocess.run([sys.executable, "-c", PROBE, APP, view, *heavy], cwd=PROJECT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cold():
    return first_paint()


def test_image_first_paint_imports_no_library_it_does_not_draw_with(cold):
    assert not cold["errors"], cold["errors"]
    assert cold["heavy"] == [], f"imported before the first chart: {cold['heavy']}"
    # the other views' modules are imported on their first visit (debug: the hidden self-check, a few lines)
    assert cold["views"] == ["dashboard.views.debug", "dashboard.views.image"], cold["views"]


def test_the_later_views_libraries_load_in_the_background_after_the_first_paint(cold):
    """Imported by the warm-up thread the first run started, not by the first paint (checked above)."""
    assert {"captum", "scipy"} <= set(cold["warmed"]), cold["warmed"]
    # never pandas (scikit-learn brings it): Streamlit reads it from sys.modules during a run, half imported or not
    assert not {"pandas", "sklearn"} & set(cold["warmed"]), cold["warmed"]
    assert "kaleido" not in cold["warmed"]  # PNG export waits for its button (captum itself brings matplotlib)


def test_another_view_imports_its_libraries_on_its_visit_and_they_are_frozen_at_the_next_run(cold):
    """The check above can fail: the Methods view does load captum and scipy. What a run imported is frozen at the
    start of the next run (Streamlit's collection after every run then skips it), not before."""
    other = cold["other"]
    assert not other["errors"], other["errors"]
    assert {"captum", "scipy"} <= set(other["heavy"]), other["heavy"]
    assert not other["frozen_before_next_run"]
    assert other["frozen_after_next_run"]
    assert cold["frozen"] > 100_000  # torch, timm and the app's own modules, frozen at the first run


def test_the_command_line_imports_no_library_before_a_command_uses_it():
    """Every command is registered by importing its module; none of those imports may pull in captum, scipy,
    scikit-learn or matplotlib (a second or more each), which only the commands that run them import."""
    probe = ("import json, sys; import se_models.cli; "
             f"print(json.dumps(sorted(m for m in {NOT_AT_FIRST_PAINT!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
