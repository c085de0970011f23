"""Browser-level timings of the dashboard in headless Chromium: first paint, Image view re-renders, Classes view,
and a change of Grad-CAM layer on SE-ResNet-50 (random weights, 224 px).

Run from the repository root:  OMP_NUM_THREADS=1 python benchmarks/dashboard_browser.py [--only image|classes|zoo|floor]
Against another checkout (git worktree add /tmp/old COMMIT), the layer change only, rounds alternated:
  OMP_NUM_THREADS=1 python benchmarks/dashboard_browser.py --against /tmp/old
Each timing runs from the user's action to the moment the changed chart or image is drawn and the script is idle."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

import se_models  # noqa: E402
from se_models.data.datasets import sample_images  # noqa: E402
from se_models.models.registry import load_card  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, open_view, streamlit_server  # noqa: E402

# idle: the script has finished (the state Streamlit's front end keeps on its root; the running-man widget alone
# shows up only after a delay, so a short run could pass for idle before its charts were drawn)
IDLE = ("document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')")
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


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    against = Path(sys.argv[sys.argv.index("--against") + 1]) if "--against" in sys.argv else None
    parts = {"image": image_view, "classes": classes_view, "zoo": gradcam_layer_change, "floor": streamlit_floor}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        results = {}
        if against:
            results.update(layer_change_against(browser, against))
        else:
            with streamlit_server() as url:
                for name, part in parts.items():
                    if only in (None, name):
                        results.update(part(browser, url))
        browser.close()
    for name, values in results.items():
        spread = f" (median of {len(values)}, max {max(values):.2f} s)" if len(values) > 1 else ""
        print(f"{name}: {statistics.median(values):.2f} s{spread}")


if __name__ == "__main__":
    main()
