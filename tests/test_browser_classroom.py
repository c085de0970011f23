"""Many users at once: several browser pages on ONE streamlit server (the browser tests' own, conftest.server), each
doing something else, each getting its own result; afterwards the shared models carry no hooks (checked through the
server's hidden debug page)."""
from __future__ import annotations

import json

import pytest

import se_models
from se_models.data.datasets import photos
from tests.browserhelp import ARTIFACTS, assert_no_error, full_screenshot, wait_done

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEFAULT = se_models.DEFAULT_MODEL
FASHION = "se_resnet20_fashion_mnist"


def two_photos_told_apart() -> list[tuple[str, str]]:
    """Two demo photos the default model gives different classes, with those classes (computed here)."""
    m = se_models.load_model(DEFAULT)
    seen: dict[str, str] = {}
    for p in photos():
        label = m.labels[se_models.analyze_image(m, se_models.load_image(p["path"])).predicted]
        if label not in seen.values():
            seen[p["file"]] = label
        if len(seen) == 2:
            return list(seen.items())
    pytest.fail("fewer than two demo photos with different predictions")


def legend(page) -> set[str]:
    """The legend of the page's first chart (the class curves)."""
    return set(page.locator(".js-plotly-plot").first.locator(".legend .legendtext")
               .evaluate_all("els => els.map(e => e.textContent)"))


def test_several_users_at_once_each_get_their_own_result(browser, server):
    (photo_a, class_a), (photo_b, class_b) = two_photos_told_apart()
    jobs = {
        "image_a": f"view=image&photos={photo_a}",
        "image_b": f"view=image&photos={photo_b}",
        "classes_live": f"view=classes&model={FASHION}&source=bundled&classes=Bag&classes=Trouser",
        "switch": "view=image",
    }
    pages = {name: browser.new_page(viewport={"width": 1280, "height": 720}) for name in jobs}
    try:
        for name, query in jobs.items():  # all four sessions start before any has finished
            pages[name].goto(f"{server}?{query}", wait_until="commit")
        switch = pages["switch"]
        wait_done(switch, "document.querySelectorAll('.js-plotly-plot').length >= 1")
        switch.get_by_role("combobox", name="Model").click()
        switch.get_by_role("option", name="CIFAR-10 · untrained").click()  # while the others still compute

        evidence = "document.body.innerText.includes('Evidence for “{}”')"
        wait_done(pages["image_a"], evidence.format(class_a))
        wait_done(pages["image_b"], evidence.format(class_b))
        wait_done(pages["classes_live"], "Array.from(document.querySelectorAll('.js-plotly-plot .gtitle'))"
                                         ".some(t => t.textContent.includes('per channel and class'))")
        wait_done(switch, "document.body.innerText.includes('Untrained control: random weights')")

        for name, page in pages.items():
            assert_no_error(page)
            full_screenshot(page, ARTIFACTS / f"browser_many_{name}.png")
        a, b = pages["image_a"].inner_text("body"), pages["image_b"].inner_text("body")
        assert f"Evidence for “{class_a}”" in a and f"Evidence for “{class_b}”" not in a
        assert f"Evidence for “{class_b}”" in b and f"Evidence for “{class_a}”" not in b
        assert legend(pages["classes_live"]) == {"Bag", "Trouser", "all"}
        assert "images per class: Bag 50, Trouser 50" in pages["classes_live"].inner_text("body")
        assert f"model={DEFAULT}%3Acontrol" in switch.url or f"model={DEFAULT}:control" in switch.url
        assert "Untrained control" not in a and "Untrained control" not in b  # the switch stayed in its session
    finally:
        for page in pages.values():
            page.close()

    keys = [DEFAULT, DEFAULT + ":control", FASHION, FASHION + ":control"]
    page = browser.new_page()
    try:
        page.goto(f"{server}?debug=hooks&" + "&".join(f"keys={k}" for k in keys), wait_until="domcontentloaded")
        page.wait_for_selector('[data-testid="stCode"]', timeout=60_000)
        counts = json.loads(page.locator('[data-testid="stCode"]').inner_text())
        assert counts == {k: 0 for k in keys}
    finally:
        page.close()


def test_uploads_without_the_sessions_xsrf_token_are_refused(server):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{server}_stcore/upload_file/some-session/some-file", method="PUT",
                                     data=b"--x\r\n\r\n--x--\r\n",
                                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 403 and b"XSRF" in err.value.read()
