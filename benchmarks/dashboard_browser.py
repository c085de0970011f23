"""Browser-level timings of the dashboard in headless Chromium: cold start beside Streamlit's floors, every view's
first visit and its common changes, Image view re-renders, Classes view statistics, and a change of Grad-CAM layer on
SE-ResNet-50 (random weights, 224 px).

Run from the repository root:  OMP_NUM_THREADS=1 python benchmarks/dashboard_browser.py [--only PART]
  PART: cold | views | image | classes | zoo | floor (without --only: views, image, classes, zoo, floor)
  --only cold [--rounds 3]: a fresh server per start, to the first chart drawn, rounds alternated in one run between
    a bare Streamlit + plotly app, the floor every PyTorch app pays (the same importing torch + timm and running a
    tiny ResNet: benchmarks/streamlit_floor_app.py) and this app; with --against DIR, that checkout's app too.
Against another checkout (git worktree add /tmp/old COMMIT), rounds alternated in one run:
  OMP_NUM_THREADS=1 python benchmarks/dashboard_browser.py --against /tmp/old             (the layer change)
  OMP_NUM_THREADS=1 python benchmarks/dashboard_browser.py --only views --against /tmp/old [--rounds 3]
    (every view's first visit, a fresh server of each checkout per round, the order reversed every other round)
Each timing runs from the user's action to the moment the changed chart or image is drawn and the script is idle."""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

import se_models  # noqa: E402
from se_models.data.datasets import sample_images  # noqa: E402
from se_models.models.registry import load_card  # noqa: E402
from tests.browserhelp import CHROMIUM, CHROMIUM_ARGS, IDLE, ROOT, open_view, streamlit_server  # noqa: E402

GRADCAM_SRC = ("(Array.from(document.querySelectorAll('[data-testid=\"stImage\"]'))"
               ".find(e => e.innerText.includes('Evidence for')) || {}).querySelector?.('img')?.src")


def timed(page, action, done_js: str, arg=None) -> float:
    """Seconds from the action's last step (a key press) until done_js holds and the script is idle.

    `action` may return a callable: the preparation (opening a select, typing) is then left out of the timing."""
    commit = action()
    t = time.perf_counter()
    if callable(commit):
        commit()
    page.wait_for_function(done_js, arg=arg, timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    return time.perf_counter() - t


def choose(page, label: str, option: str):
    """Open the selectbox labelled `label` and type `option`; returns the key press that commits the choice."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.keyboard.type(option)  # the select filters as one types; Enter takes the first match
    page.get_by_role("option", name=option, exact=True).wait_for(timeout=10_000)
    return lambda: page.keyboard.press("Enter")


def image_view(browser, url: str) -> dict:
    t = time.perf_counter()
    page = open_view(browser, url, "image", min_charts=3)
    first_paint = time.perf_counter() - t
    slider = page.locator('[data-testid="stSlider"] [tabindex="0"]').first  # the opacity slider
    opacity = []
    for _ in range(5):
        before = page.evaluate(GRADCAM_SRC)
        slider.focus()
        opacity.append(timed(page, lambda: page.keyboard.press("ArrowRight"),
                             f"s => ({GRADCAM_SRC}) && ({GRADCAM_SRC}) !== s", before))
    blocks = list(se_models.load_model(se_models.DEFAULT_MODEL).se_blocks)
    title_is = "b => Array.from(document.querySelectorAll('.js-plotly-plot .gtitle'))" \
               ".some(t => t.textContent.startsWith(b + ':'))"
    block_change = [timed(page, lambda name=name: choose(page, "SE block", name), title_is, name)
                    for name in blocks[:3]]
    block_again = [timed(page, lambda name=name: choose(page, "SE block", name), title_is, name)
                   for name in blocks[:3]]
    page.close()
    return {"Image view, first paint (cold server)": [first_paint], "Image view, opacity change (warm)": opacity,
            "Image view, SE block change (first time per block)": block_change,
            "Image view, SE block change (block seen before)": block_again}


def classes_view(browser, url: str) -> dict:
    # the first bundled model that ships sample images (CIFAR-10 images may not be shipped)
    name = next(m for m in se_models.list_models() if sample_images(load_card(m).dataset))
    labels = load_card(name).labels[:5]
    query = f"classes&model={name}&source=bundled&" + "&".join(f"classes={c}" for c in labels)
    caption = "Array.from(document.querySelectorAll('[data-testid=\"stCaptionContainer\"]'))"
    # the class curves' own caption (the ablation panel below has a "Data: " caption of its own, on the test split)
    data = f"({caption}.find(c => c.innerText.includes('images per class')) || {{innerText: ''}}).innerText"
    live = f"{data}.includes('Data: ') && !{data}.includes('test split')"
    reference = f"{data}.includes('Data: ') && {data}.includes('test split')"
    t = time.perf_counter()
    page = open_view(browser, url, query, min_charts=2)
    page.wait_for_function(live, timeout=120_000)
    cold = time.perf_counter() - t
    to_reference = timed(page, lambda: choose(page, "Data", "Reference statistics (instant)"), reference)
    cached = timed(page, lambda: choose(page, "Data", "Bundled samples"), live)
    page.close()
    what = "Classes view, bundled samples, 5 classes x 50 images + untrained control"
    return {f"{what}: cold (page load + compute)": [cold], "Classes view, switch to reference statistics":
            [to_reference], f"{what}: switching back (cached)": [cached]}


ZOO_MODEL = "seresnet50.a1_in1k"


STAGES = ["stage 2 · SE_2_3", "stage 3 · SE_3_4", "stage 4 · SE_4_6", "stage 5 · SE_5_3"]
SHOWN_AT = ("b => Array.from(document.querySelectorAll('[data-testid=\"stImage\"]'))"
            ".some(e => e.innerText.includes('Evidence for') && e.innerText.includes(' at ' + b))")


def zoo_page(browser, url: str):
    """The Image view of SE-ResNet-50 (random weights), drawn and idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}?view=image&model={ZOO_MODEL}&weights=random", wait_until="domcontentloaded")
    # loading SE-ResNet-50 and its first analysis on a cold server can take minutes on a busy CPU
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=600_000)
    page.wait_for_function(IDLE, timeout=600_000)
    return page


def layer_changes(page, labels=STAGES[:3] + STAGES[::-1]) -> list[float]:
    """Changes of Grad-CAM layer, one per label: by default seven through all four stages, from the deepest."""
    return [timed(page, lambda label=label: choose(page, "Grad-CAM layer", label), SHOWN_AT, label.split()[-1])
            for label in labels]


def gradcam_layer_change(browser, url: str) -> dict:
    """SE-ResNet-50 with random weights at 224 px: every stage's map comes from the cached analysis, so a change of
    Grad-CAM layer reruns only the main map's part of the page and runs no model."""
    t = time.perf_counter()
    page = zoo_page(browser, url)
    first_paint = time.perf_counter() - t
    changes = layer_changes(page)
    page.close()
    return {f"{ZOO_MODEL} (random weights), Image view first paint": [first_paint],
            f"{ZOO_MODEL} (random weights), Grad-CAM layer change": changes}


def layer_change_against(browser, other: Path, rounds: int = 3) -> dict:
    """The same layer changes on this checkout and on `other` (another checkout, say a git worktree of an older
    commit), one server each, their rounds alternated in one browser: both measured in the same machine state."""
    with streamlit_server() as here, streamlit_server(cwd=other) as there:
        pages = {"this checkout": zoo_page(browser, here), str(other): zoo_page(browser, there)}
        times: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(rounds):
            for name, page in pages.items():
                page.bring_to_front()
                times[name] += layer_changes(page)
    return {f"{ZOO_MODEL}, Grad-CAM layer change, {name}, {rounds} rounds alternated": ts for name, ts in times.items()}


def streamlit_floor(browser, _url: str) -> dict:
    """The same change on benchmarks/streamlit_floor_app.py, a fragment that only swaps an encoded image: what
    Streamlit's round trip and Chromium's drawing cost on this machine, whatever the app does."""
    with streamlit_server("benchmarks/streamlit_floor_app.py") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 1",
                               timeout=120_000)
        page.wait_for_function(IDLE, timeout=120_000)
        changes = layer_changes(page, STAGES[1:] + STAGES[-2::-1] + STAGES[1:2])  # seven changes from SE_2_3
        page.close()
    return {"Streamlit's floor: a fragment swapping one encoded image, same change": changes}


FIRST_CHART = "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1"
FLOOR_APP = "benchmarks/streamlit_floor_app.py"


def cold_start(browser, rounds: int, against: Path | None = None) -> dict:
    """From `streamlit run` to the first chart drawn in a new page at 1280x720, a fresh server each time: a bare
    Streamlit + plotly app, the floor of any PyTorch app (+ torch, timm and a tiny ResNet), this app (and the app of
    the checkout `against`), alternated within each round, the order reversed every other round."""
    apps = {"bare Streamlit + plotly": (FLOOR_APP, ROOT, {"SE_FLOOR": "bare"}),
            "floor: + torch, timm, a tiny ResNet": (FLOOR_APP, ROOT, {"SE_FLOOR": "torch"}),
            "this app (Image view)": ("dashboard/app.py", ROOT, {})}
    if against:
        apps[f"{against} (Image view)"] = ("dashboard/app.py", against, {})
    times: dict[str, list[float]] = {name: [] for name in apps}
    for r in range(rounds):
        for name in (list(apps) if r % 2 == 0 else list(apps)[::-1]):
            script, cwd, env = apps[name]
            t = time.perf_counter()
            with streamlit_server(script, cwd=cwd, **env) as url:
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(url, wait_until="domcontentloaded")
                page.wait_for_function(FIRST_CHART, timeout=300_000)
                times[name].append(time.perf_counter() - t)
                page.close()
        print(f"round {r + 1}: " + ", ".join(f"{n} {ts[-1]:.2f} s" for n, ts in times.items()), flush=True)
    floor, app = times["floor: + torch, timm, a tiny ResNet"], times["this app (Image view)"]
    over = [a - f for a, f in zip(app, floor)]
    return {**{f"cold start to the first chart, {n}, {rounds} rounds alternated": ts for n, ts in times.items()},
            "cold start: this app minus the floor, per round": over}


# view -> (its heading, or for the lesson its step's title; plotly charts it draws at least)
VIEW_DONE = {"image": ("One image through the SE blocks", 3), "methods": ("Methods: one image through every lens", 0),
             "lesson": ("1 · Squeeze, excite, scale", 1), "compare": ("Compare two models", 3),
             "classes": ("Excitations across classes", 2), "about": ("About squeeze-and-excitation", 0)}
NAV_TITLES = {"image": "Image", "methods": "Methods", "lesson": "Lesson", "compare": "Compare", "classes": "Classes",
              "about": "About"}


ALL_DRAWN = "Array.from(document.querySelectorAll('.js-plotly-plot')).every(g => g.querySelector('.main-svg'))"
# what the page's plotly charts show: their traces (name, length, first values) and titles
CHARTS_SIG = ("Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => JSON.stringify([(g.data || [])"
              ".map(t => [t.name, (t.x || []).length, Array.from(t.x || []).slice(0, 3), Array.from(t.y || [])"
              ".slice(0, 3)]), g.layout && g.layout.title && g.layout.title.text])).join('|')")


def drawn(heading: str, charts: int) -> str:
    """JS: the view (or step) titled `heading` is on the page with its charts drawn, and the script is idle."""
    return (f"Array.from(document.querySelectorAll('h2, h3')).some(h => h.textContent.includes({heading!r}))"
            f" && document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts} && {ALL_DRAWN}"
            f" && {IDLE}")


def chart_change(page, action) -> float:
    """Seconds from the action until some chart shows something else, every chart is drawn and the script is idle."""
    before = page.evaluate(CHARTS_SIG)
    return timed(page, action, f"s => ({CHARTS_SIG}) !== s && {ALL_DRAWN}", before)


def visit(page, view: str) -> float:
    """A click on the view's link in the top navigation, until the view is drawn and idle."""
    heading, charts = VIEW_DONE[view]
    link = page.locator('[data-testid="stTopNavLink"]').filter(has_text=NAV_TITLES[view]).first
    return timed(page, link.click, drawn(heading, charts))


def click(page, role: str, name: str):
    """The element of ARIA `role` named `name` (exactly), clicked: a button, or a segment ("radio")."""
    return lambda: page.get_by_role(role, name=name, exact=True).first.click()


def views(browser, url: str) -> dict:
    """Every view's first visit after the Image view (as a class meets them: one server, one browser page), the
    lesson's steps, the common changes of Compare and Classes, and back to the Image view."""
    t = time.perf_counter()
    page = open_view(browser, url, "image", width=1280, height=720, min_charts=3)
    out = {"Image view, first paint (cold server)": [time.perf_counter() - t]}
    for view in ("methods", "lesson"):
        out[f"{NAV_TITLES[view]}, first visit"] = [visit(page, view)]
    for step in range(2, 7):  # Next, through the lesson
        title = f"{step} · "
        out[f"Lesson, Next to step {step}"] = [timed(page, click(page, "button", "Next"), drawn(title, 0))]
    out["Compare, first visit"] = [visit(page, "compare")]
    variable = "50 most class-dependent"  # the Channels control's second segment
    out["Compare, channels: 50 most class-dependent"] = [chart_change(page, click(page, "radio", variable))]
    out["Compare, another SE block"] = [chart_change(page, lambda: choose(page, "SE block", "SE_3_1"))]
    out["Classes, first visit (reference statistics)"] = [visit(page, "classes")]
    out["Classes, channels: 50 most class-dependent"] = [chart_change(page, click(page, "radio", variable))]
    out["Classes, Mean ± std (Fig. 7) on"] = [
        chart_change(page, lambda: page.get_by_text("Mean ± std (Fig. 7)", exact=True).first.click())]
    out["About, first visit"] = [visit(page, "about")]
    out["back to Image"] = [visit(page, "image")]
    page.close()
    return out


def views_against(browser, other: Path, rounds: int) -> dict:
    """views() on this checkout and on `other`, a fresh server of each per round (each round's visits are first
    visits to a new server, as in the one-checkout run), alternated, the order reversed every other round."""
    trees = {"this checkout": ROOT, str(other): other}
    times: dict[str, list[float]] = {}
    for r in range(rounds):
        for name in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
            print(f"round {r + 1}: {name}", flush=True)
            with streamlit_server(cwd=trees[name]) as url:
                for what, ts in views(browser, url).items():
                    times.setdefault(f"{what} — {name}", []).extend(ts)
    return dict(sorted(times.items()))


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    against = Path(sys.argv[sys.argv.index("--against") + 1]) if "--against" in sys.argv else None
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    parts = {"views": views, "image": image_view, "classes": classes_view, "zoo": gradcam_layer_change,
             "floor": streamlit_floor}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        results = {}
        if only == "cold":
            results.update(cold_start(browser, rounds, against))
        elif only == "views" and against:
            results.update(views_against(browser, against, rounds))
        elif against:
            results.update(layer_change_against(browser, against))
        else:
            with streamlit_server() as url:
                for name, part in parts.items():
                    if only in (None, name):
                        results.update(part(browser, url))
        browser.close()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load}; {os.cpu_count()} CPUs")
    for name, values in results.items():
        spread = (f" (median of {len(values)}: {' / '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else "")
        print(f"{name}: {statistics.median(values):.2f} s{spread}")


if __name__ == "__main__":
    main()
