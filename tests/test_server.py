"""The classroom server, round 2: typed model keys inside the roots, memory and work budgets, files that are not
regular, hostile URL values, one-line errors, and no server path on screen."""
from __future__ import annotations

import gc
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import se_models
from dashboard.safety import access
from dashboard.safety import roots as paths
from dashboard.state.modelkeys import BadModelName, ModelKey, timm_option
from se_models.errors import (
    CheckpointError,
    ImageError,
    ModelTooLarge,
    NoSEBlocksError,
    PathNotAllowed,
    UnknownClassError,
)
from se_models.models.checkpoint import read_state_dict
from tests.fakes import pattern, png_bytes, zip_bytes

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
ROOT = str(Path(__file__).resolve().parent.parent)
FASHION = "se_resnet20_fashion_mnist"


def app(monkeypatch, roots: str | None, **params) -> AppTest:
    if roots is None:
        monkeypatch.delenv(paths.ENV, raising=False)
    else:
        monkeypatch.setenv(paths.ENV, roots)
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning, *at.exception)]


def curve_classes(at: AppTest) -> set[str]:
    curves = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "per channel and class" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    return {t.get("name") for t in curves["data"]}


def class_zip(*classes: str) -> bytes:
    kinds = ("circle", "stripes", "square")
    return zip_bytes({f"{cls}/{i}.png": png_bytes(pattern(kinds[k % 3], size=28, seed=i))
                      for k, cls in enumerate(classes) for i in range(3)})


# ---- #24: a second zip is its own data --------------------------------------------------------------------------
def test_a_second_uploaded_zip_shows_its_own_statistics(monkeypatch):
    """Every zip unpacked into the same session folder, whose path keyed the cached statistics: the second zip
    showed the first one's classes."""
    at = app(monkeypatch, "", view="classes", model=FASHION, source="folder", per_class="3", live_control="off")
    at.file_uploader(key="folder_zip").set_value([("first.zip", class_zip("Bag", "Trouser"), "application/zip")]).run()
    assert not at.exception and not at.error, messages(at)
    assert curve_classes(at) == {"Bag", "Trouser", "all"}
    at.file_uploader(key="folder_zip").set_value([("second.zip", class_zip("Coat", "Dress"), "application/zip")]).run()
    assert not at.exception and not at.error, messages(at)
    assert curve_classes(at) == {"Coat", "Dress", "all"}
    assert any(c.value.startswith("Data: second.zip") for c in at.caption)


# ---- the model key: no file outside the roots, from the URL, the name box or the debug page ---------------------
def untouched_file(tmp_path: Path) -> Path:
    """A weights-like file outside the roots whose access time any read would move (atime older than mtime)."""
    secret = tmp_path / "outside" / "secret.safetensors"
    secret.parent.mkdir()
    secret.write_bytes(b"\0" * 64)
    os.utime(secret, (1_000_000, time.time()))
    return secret


@pytest.mark.parametrize("model", [FASHION, "legacy_seresnet50.in1k", "timm:regnety_002"])
def test_a_link_cannot_load_weights_from_outside_the_roots(monkeypatch, tmp_path, model):
    secret = untouched_file(tmp_path)
    (tmp_path / "allowed").mkdir()
    seen = set()
    for path in (str(secret), str(tmp_path / "outside" / "missing.safetensors")):  # the same words either way
        for key in (f"{model}:file:{path}", f"{model}:file:1-2:{path}", f"{model}:file:1:{path}"):
            at = app(monkeypatch, str(tmp_path / "allowed"), model=key, weights="file")
            assert not at.exception, messages(at)
            seen.update(e.value for e in at.error)
            assert paths.REFUSED in [e.value for e in at.error], messages(at)
    assert seen == {paths.REFUSED}
    assert secret.stat().st_atime == 1_000_000  # never opened, not even read for a header


def test_a_link_inside_the_roots_fills_the_weights_box(monkeypatch, tmp_path):
    import timm
    from safetensors.torch import save_file

    save_file(timm.create_model("regnety_002").state_dict(), str(tmp_path / "w.safetensors"))
    at = app(monkeypatch, str(tmp_path), model=f"timm:regnety_002:file:{tmp_path / 'w.safetensors'}")
    assert not at.exception and not at.error, messages(at)
    assert at.radio(key="weights").value == "file"
    assert any("w.safetensors" in c.value for c in at.caption)
    assert_no_server_path(at, str(tmp_path))


@pytest.mark.parametrize("typed", ["x:file:1:/etc/passwd", "hf-hub:timm/regnety_002", "local-dir:/etc",
                                   "../../etc/passwd", "regnety_002\x00", "é" * 5])
def test_the_timm_name_box_takes_model_names_only(monkeypatch, typed):
    at = app(monkeypatch, "")
    at.text_input(key="timm_name").input(typed).run()
    assert not at.exception
    assert any("timm model name only" in e.value for e in at.error), messages(at)
    assert at.selectbox(key="model").value == se_models.DEFAULT_MODEL  # nothing was selected, nothing loaded


def test_a_link_with_a_long_timm_name_is_refused(monkeypatch):
    at = app(monkeypatch, "", model="timm:" + "a" * 101)  # the box takes 100 characters; a link could carry more
    assert not at.exception and any("timm model name only" in e.value for e in at.error), messages(at)
    assert at.selectbox(key="model").value == se_models.DEFAULT_MODEL


def test_the_debug_page_checks_its_keys_against_the_roots(monkeypatch, tmp_path):
    secret = untouched_file(tmp_path)
    monkeypatch.setenv("SE_EXPLORER_DEBUG", "1")
    at = app(monkeypatch, str(tmp_path / "outside" / "nothing"), debug="hooks",
             keys=[se_models.DEFAULT_MODEL, f"legacy_seresnet50.in1k:file:{secret}"])
    assert not at.exception and [e.value for e in at.error] == [paths.REFUSED]
    assert secret.stat().st_atime == 1_000_000


def test_model_keys_are_typed_and_checked_when_made(tmp_path):
    (tmp_path / "w.safetensors").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    roots = (tmp_path.resolve(),)
    assert ModelKey.from_option("a") == ModelKey.own("a") and ModelKey.from_option("a:control") == ModelKey.control("a")
    assert ModelKey.control("a").is_control and ModelKey.control("a").load_weights == "random"
    assert ModelKey.own("a").load_weights is None and str(ModelKey.control("a")) == "a:control"
    key = ModelKey.local("timm:x", tmp_path / "w.safetensors", roots)
    assert key.load_weights == str((tmp_path / "w.safetensors").resolve()) and key.stamp
    assert str(key) == "timm:x:file:w.safetensors"  # shown and exported by the file's name, never its folder
    assert ModelKey.from_text(f"timm:x:file:{tmp_path / 'w.safetensors'}", roots) == key
    for text in ("timm:x:file:/etc/passwd", "timm:x:file:relative.safetensors", f"timm:x:file:{tmp_path}/../x"):
        with pytest.raises(PathNotAllowed, match="outside the folders"):
            ModelKey.from_text(text, roots)
    for inside in (tmp_path / "missing", tmp_path / "sub", tmp_path / ("n" * 5000)):
        with pytest.raises(PathNotAllowed, match="No file|cannot be"):
            ModelKey.local("timm:x", inside, roots)
    with pytest.raises(PathNotAllowed):
        ModelKey.from_option("timm:x:file:/etc/passwd")
    (tmp_path / "w.safetensors").write_bytes(b"xy")  # a rewritten file is another key: it loads afresh
    assert ModelKey.local("timm:x", tmp_path / "w.safetensors", roots) != key
    assert timm_option(" timm:regnety_002 ") == "timm:regnety_002" == timm_option("regnety_002")
    assert timm_option("legacy_seresnet50.in1k") == "legacy_seresnet50.in1k" and timm_option("  ") == ""
    with pytest.raises(BadModelName):
        timm_option("regnety_002:file:1:/etc/passwd")


# ---- memory: images, models --------------------------------------------------------------------------------------
def rss_mb() -> float:
    """This process's resident memory now (Linux: /proc/self/statm, in pages)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 ** 2


def big_grey_png(seed: int, side: int = 6000) -> bytes:
    """A 6000 x 6000 grey PNG of a few tens of kB (smooth gradients compress well): 36 MP decoded."""
    from PIL import Image

    x = np.linspace(0, 255, side, dtype=np.float32)
    return png_bytes(Image.fromarray(((x[None, :] + x[:, None] * (seed + 1)) % 256).astype(np.uint8), "L"))


@pytest.mark.slow  # decodes four 6000x6000 PNGs
def test_huge_images_and_a_huge_model_stay_within_the_budget(monkeypatch):
    from se_models import config

    # four are enough: kept decoded at full size they would take 4 x 103 MiB, over IMAGE_CACHE_MB (256 MB)
    uploads = [(f"huge{i}.png", big_grey_png(i), "image/png") for i in range(4)]
    at = app(monkeypatch, "")
    gc.collect()
    before = rss_mb()
    at.file_uploader(key="uploads").set_value(uploads).run()
    assert not at.exception and not at.error, messages(at)
    assert any("huge0.png" in c.value for c in at.caption)  # decoded, predicted, drawn
    at.text_input(key="timm_name").input("regnety_1280").run()  # 645 M parameters: 2.4 GB as float32
    at.radio(key="weights").set_value("random").run()
    assert any("over the limit of 100 M" in e.value for e in at.error), messages(at)
    gc.collect()
    grown = rss_mb() - before
    print(f"RSS before {before:.0f} MB, after four 6000x6000 PNGs and timm:regnety_1280: +{grown:.0f} MB")
    assert len(uploads) * 6000 * 6000 * 3 / 1024 ** 2 > config.IMAGE_CACHE_MB  # kept whole, they would fail it
    assert grown < config.IMAGE_CACHE_MB, grown  # unbounded, it was 108 MB of decoded RGB an image, and 2.4 GB more


def test_models_are_held_within_their_byte_budget():
    from dashboard.state.cache import ModelStore

    store = ModelStore(budget_bytes=1)  # fits one model at a time: the least recently used goes
    a = store.get(ModelKey.own(FASHION))
    assert store.get(ModelKey.own(FASHION)) is a and list(store.sizes()) == [FASHION]
    store.get(ModelKey.control(FASHION))
    assert list(store.sizes()) == [FASHION + ":control"]
    assert store.sizes()[FASHION + ":control"] == sum(t.numel() * t.element_size()
                                                     for t in (*a.model.parameters(), *a.model.buffers()))


def test_a_model_is_sized_and_checked_for_se_blocks_before_it_is_built(monkeypatch):
    import timm

    built = []
    real = timm.create_model
    monkeypatch.setattr(timm, "create_model", lambda *a, **k: built.append(str(torch.empty(0).device)) or real(*a, **k))
    with pytest.raises(ModelTooLarge, match="645 M parameters"):
        se_models.load_model("timm:regnety_1280", "random", max_params=100_000_000)
    with pytest.raises(NoSEBlocksError):
        se_models.load_model("timm:vit_tiny_patch16_224", "random")
    assert built == ["meta", "meta"]  # neither was ever built with real weights
    m = se_models.load_model("timm:regnety_002", "random", max_params=10_000_000)
    assert built[-2:] == ["meta", "cpu"] and m.model.training is False


def test_hub_names_fail_fast_offline(monkeypatch):
    import socket

    def offline(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", offline)
    with pytest.raises(se_models.errors.WeightsUnavailable, match="cannot be reached"):
        se_models.load_model("timm:hf-hub:timm/regnety_002.pycls_in1k", "random")


# ---- files that are not regular files, and sizes from stat ------------------------------------------------------
def finishes(fn, *args, seconds: float = 30.0):
    """fn(*args) in a daemon thread; its result or exception, or a failure when it hangs (a FIFO's open() would)."""
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except Exception as err:  # noqa: BLE001 - handed back to the test
            out["error"] = err

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{getattr(fn, '__name__', fn)} hung"
    return out


def test_pipes_devices_and_sparse_giants_are_refused_unread(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    with open(tmp_path / "sparse.png", "wb") as f:
        f.truncate(2 * 1024 ** 3)  # 2 GB that take no disk: the size must come from stat, not from reading
    for name, words in (("pipe.png", "not a regular file"), ("zero.png", "not a regular file"),
                        ("sparse.png", "over the 50 MB limit")):
        out = finishes(se_models.load_image, str(tmp_path / name))
        assert isinstance(out.get("error"), ImageError) and words in str(out["error"]), out
    for name in ("pipe.png", "zero.png"):
        out = finishes(read_state_dict, tmp_path / name)
        assert isinstance(out.get("error"), CheckpointError) and "not a checkpoint file" in str(out["error"]), out


def test_a_pipe_among_a_folders_images_is_skipped_by_name(monkeypatch, tmp_path):
    for cls, kind in (("Bag", "circle"), ("Trouser", "stripes")):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(3):
            pattern(kind, size=28, seed=i).save(tmp_path / "data" / cls / f"{i}.png")
    os.mkfifo(tmp_path / "data" / "Bag" / "pipe.png")
    (tmp_path / "data" / "Trouser" / "zero.png").symlink_to("/dev/zero")
    at = app(monkeypatch, str(tmp_path), view="classes", model=FASHION, source="folder", per_class="4",
             live_control="off")
    at.text_input(key="folder").set_value(str(tmp_path / "data")).run()
    assert not at.exception and not at.error, messages(at)
    skipped = next(w.value for w in at.warning if "skipped" in w.value)
    assert "2 unreadable" in skipped and ("pipe.png" in skipped or "zero.png" in skipped)
    assert curve_classes(at) == {"Bag", "Trouser", "all"}
    assert_no_server_path(at)  # the folder as typed is the user's own words; nothing else of the server


def test_a_name_too_long_is_a_clean_refusal(monkeypatch, tmp_path):
    at = app(monkeypatch, str(tmp_path), view="classes", model=FASHION, source="folder")
    at.text_input(key="folder").set_value(str(tmp_path / ("n" * 5000))).run()
    assert not at.exception and [e.value for e in at.error] == [access.UNUSABLE]


# ---- the command line: one line, never a traceback --------------------------------------------------------------
def text_file(tmp_path: Path) -> str:
    path = tmp_path / "notes.txt"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n" * 20)
    return str(path)


@pytest.mark.parametrize("args", [
    ["predict", "{photo}", "--weights", "/etc/passwd"],
    ["predict", "{photo}", "--weights", "{text}"],
    ["predict", "{photo}", "--weights", "{photo}"],
    ["predict", "{photo}", "--weights", "/dev/zero"],
    ["predict", "{photo}", "--weights", "{long}"],
    ["gradcam", "{photo}", "--weights", "{text}", "--out", "{tmp}/x.png"],
    ["explain", "{photo}", "--weights", "{text}", "--out", "{tmp}/x.png"],
    ["predict", "{text}"],
    ["predict", "{long}"],
    ["gradcam", "/dev/zero", "--out", "{tmp}/x.png"],
    ["gradcam", "{photo}", "--out", "{tmp}/no/such/folder/x.png"],
    ["stats", "--data", "{text}", "--json", "{tmp}/s.json"],
    ["stats", "--data", "{long}", "--json", "{tmp}/s.json"],
    ["ablate", "--data", "{text}", "--model", FASHION],
    ["sanity", "{text}", "--limit", "2"],
    ["faithfulness", "{text}", "--limit", "2"],
])
def test_the_cli_gives_one_line_for_files_that_are_no_checkpoint_or_image(tmp_path, capsys, args):
    from se_models.cli import main

    fill = {"photo": str(Path(ROOT) / "assets" / "photos" / "chelsea.jpg"), "text": text_file(tmp_path),
            "tmp": str(tmp_path), "long": str(tmp_path / ("n" * 5000))}
    code = main([a.format(**fill) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and err[0].startswith("error:"), err
    assert "Traceback" not in err[0]


# ---- URL values: the default and a notice, never an exception ---------------------------------------------------
@pytest.mark.parametrize("view, params, widget, default", [
    ("lesson", {"step": "²"}, ("segmented_control", "step"), 1),
    ("lesson", {"step": "inf"}, ("segmented_control", "step"), 1),
    ("image", {"k": "inf"}, ("slider", "k"), 4),
    ("image", {"alpha": "nan"}, ("slider", "alpha"), 0.5),
    ("classes", {"per_class": "inf"}, ("number_input", "per_class"), 50),
    ("classes", {"per_class": "١٢"}, ("number_input", "per_class"), 50),
    ("classes", {"per_class": "1e400"}, ("number_input", "per_class"), 50),
    ("classes", {"fig6": "maybe"}, ("toggle", "fig6"), False),
])
def test_a_bad_url_value_gives_the_default_and_a_notice(monkeypatch, view, params, widget, default):
    at = app(monkeypatch, None, view=view, **params)
    assert not at.exception, [e.value for e in at.exception]
    assert getattr(at, widget[0])(key=widget[1]).value == default
    key = next(iter(params))
    assert any(f"“{key}”" in t.value for t in at.toast), [t.value for t in at.toast]


# ---- nothing of the server on screen ------------------------------------------------------------------------------
def assert_no_server_path(at: AppTest, *more: str) -> None:
    texts = messages(at) + [c.value for c in at.caption] + [m.value for m in at.markdown] + [c.value for c in at.code]
    for text in texts:
        assert ROOT not in text and "se-explorer-" not in text and str(Path.home()) + "/" not in text, text
        assert not any(m in text for m in more), text


def test_captions_and_exports_name_data_without_server_folders(monkeypatch):
    at = app(monkeypatch, None, view="classes", model=FASHION, source="bundled", classes=["Bag", "Trouser"],
             per_class="3", live_control="off")
    assert not at.exception, messages(at)
    assert any(c.value.startswith("Data: bundled fashion-mnist samples") for c in at.caption)
    assert_no_server_path(at)


def test_a_missing_class_is_named_alone(image_folder):
    from tests.fakes import make_loaded

    with pytest.raises(UnknownClassError) as err:
        se_models.excitation_stats(make_loaded(), str(image_folder), classes=["circle", "hexagon"], per_class=2)
    assert "hexagon" in str(err.value) and "square" not in str(err.value) and "stripes" not in str(err.value)


# ---- heavy work: one at a time, the others told they wait ---------------------------------------------------------
def test_heavy_work_queues_and_says_so():
    from dashboard.safety import budget
    from dashboard.state.cache import in_worker

    order, shown = [], []
    holding, release = threading.Event(), threading.Event()

    def holder():
        with budget.heavy():
            order.append("first")
            holding.set()
            release.wait(30)

    def second(_progress=None, _queued=None):
        with budget.heavy(_queued):
            order.append("second")
            return 42

    def show(done, total, queued):
        shown.append(queued)
        if queued:  # the page has been told it waits: now the first work may end
            release.set()

    t = threading.Thread(target=holder, daemon=True)
    t.start()
    assert holding.wait(30)
    assert in_worker(second, show=show) == 42
    t.join(30)
    assert order == ["first", "second"] and any(shown)  # it waited, and the page was told so


def test_one_request_reads_at_most_its_image_cap(monkeypatch):
    from dashboard.safety import budget
    from se_models import config

    monkeypatch.setattr(config, "MAX_IMAGES_PER_REQUEST", 20)
    assert budget.images_per_class(5000, 10) == 2 and budget.images_per_class(3, 2) == 3
    at = app(monkeypatch, None, view="classes", model=FASHION, source="bundled", classes=["Bag", "Trouser"],
             per_class="5000", live_control="off")
    assert not at.exception, messages(at)
    assert any("at most 20 images a request, so 10 images per class" in i.value for i in at.info)
    assert any("images per class: Bag 10, Trouser 10" in c.value for c in at.caption)


def test_a_bound_control_follows_a_link_and_refuses_a_bad_value(monkeypatch):
    at = app(monkeypatch, None, view="compare", cmp_block="SE_3_3")
    assert not at.exception and at.selectbox(key="cmp_block").value == "SE_3_3"
    at = app(monkeypatch, None, view="compare", cmp_block="SE_9_9")
    assert not at.exception and at.selectbox(key="cmp_block").value == "SE_4_3"  # the default: the deepest block
    assert any("“cmp_block”" in t.value for t in at.toast)
