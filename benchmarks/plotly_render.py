"""How long headless Chromium takes to draw the Classes view's Fig. 6 figure, drawn four ways: every invisible click
marker drawn (SVG), one marker a line drawn (`maxdisplayed=1`, what the app does), lines without markers (not
clickable), and WebGL (`scattergl`). The figure is the app's own (`figures.class_curves`, the default model's
reference statistics, selectable), without and with the Fig. 7 band; the ways alternate within each round.

Run from the repository root:  OMP_NUM_THREADS=1 python benchmarks/plotly_render.py [--rounds 6]
Each timing is Plotly.newPlot until two animation frames later, plotly.js from the plotly package, 1280x720."""
from __future__ import annotations

import copy
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plotly  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

import se_models  # noqa: E402
from se_models.plots import figures  # noqa: E402
from se_models.stats.stored import reference_path  # noqa: E402
from tests.browserhelp import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
RENDER = """async (f) => {
  const el = document.getElementById('g'); Plotly.purge(el);
  const t0 = performance.now();
  await Plotly.newPlot(el, f.data, f.layout);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0; }"""


def ways(spread: bool) -> dict[str, dict]:
    """The app's figure as plotly JSON, and the three other ways of drawing it."""
    stats = se_models.ExcitationStats.load(reference_path())
    app = json.loads(figures.class_curves(stats, spread=spread, selectable=True).to_json())
    every, lines, gl = copy.deepcopy(app), copy.deepcopy(app), copy.deepcopy(app)
    for a, b, c in zip(every["data"], lines["data"], gl["data"]):
        if a.get("mode") == "lines+markers":
            a["marker"].pop("maxdisplayed")
            b["mode"] = "lines"
            c["type"] = "scattergl"
    band = ", Fig. 7 band" if spread else ""
    return {f"every marker drawn (SVG){band}": every, f"one marker a line (the app){band}": app,
            f"lines only, not clickable{band}": lines, f"WebGL (scattergl){band}": gl}


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 6
    figs = {**ways(False), **ways(True)}
    times: dict[str, list[float]] = {name: [] for name in figs}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_content('<div id="g" style="width:1000px"></div>')
        page.add_script_tag(path=str(PLOTLY_JS))
        for r in range(rounds + 1):  # round 0 warms the page up and is not counted
            for name in (list(figs) if r % 2 else list(figs)[::-1]):
                ms = page.evaluate(RENDER, figs[name])
                if r:
                    times[name].append(ms / 1000)
        browser.close()
    print(f"plotly.js as shipped with plotly {plotly.__version__} (Python), {rounds} rounds alternated")
    for name, ts in times.items():
        print(f"{name}: {statistics.median(ts):.2f} s (median of {len(ts)}: {' / '.join(f'{t:.2f}' for t in ts)})")


if __name__ == "__main__":
    main()
