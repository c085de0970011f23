"""Cached loaders: models shared by all sessions (cache_resource), data and results per input (cache_data)."""
from __future__ import annotations

import concurrent.futures
from pathlib import Path

import streamlit as st

import se_models
from se_models import data as sm_data
from se_models.registry import load_card, reference_path

from . import logic


@st.cache_resource(show_spinner=False, max_entries=6)
def model(key: str):
    """One LoadedModel per key for every browser session; its own lock serialises the hooked passes."""
    name, weights = logic.parse_model_key(key)
    return se_models.load_model(name, weights)


@st.cache_data(show_spinner=False)
def card(name: str) -> dict:
    return load_card(name)


@st.cache_data(show_spinner=False)
def model_labels() -> dict[str, str]:
    return logic.model_labels({name: card(name) for name in se_models.list_models()})


@st.cache_data(show_spinner=False)
def reference(name: str):
    """The shipped reference statistics (whole test split, with the untrained control), or None."""
    path = reference_path(name)
    return se_models.ExcitationStats.load(path) if path.exists() else None


@st.cache_data(show_spinner=False)
def photos() -> list[dict]:
    return sm_data.photos()


@st.cache_data(show_spinner=False)
def samples(dataset: str) -> list[tuple[str, str]]:
    return sm_data.sample_images(dataset)


def samples_root(dataset: str) -> Path:
    return sm_data.bundled_samples_dir(dataset)


@st.cache_data(show_spinner=False, max_entries=64)
def photo_item(file: str, labels: tuple[str, ...]) -> logic.ImageItem:
    photo = next(p for p in photos() if p["file"] == file)
    return logic.photo_item(photo, list(labels))


@st.cache_data(show_spinner=False, max_entries=256)
def sample_item(sid: str, dataset: str, labels: tuple[str, ...]) -> logic.ImageItem:
    return logic.sample_item(sid, samples_root(dataset), list(labels))


@st.cache_data(show_spinner=False, max_entries=128)
def decode(data: bytes, name: str):
    """Bytes -> RGB PIL image (raises se_models.ImageError naming the file; errors are not cached)."""
    return se_models.load_image(data, name=name)


@st.cache_data(show_spinner=False, max_entries=512)
def thumbnail(path: str, size: int = 56):
    return logic.pixelated(se_models.load_image(path), size)


@st.cache_data(show_spinner=False, max_entries=256)
def analysis(model_key: str, digest: str, _image, target: int | None, block: str, layer: str):
    """One forward+backward pass per (model, image bytes, target, block, Grad-CAM layer); the image is keyed by
    its digest, so the unhashable PIL image is passed as _image."""
    return se_models.analyze_image(model(model_key), _image, target=target, block=block, cam_layer=layer)


@st.cache_resource(show_spinner=False, max_entries=64)
def built(kind: str, key: tuple, _build):
    """A figure built once per (kind, key) and shared read-only: building a many-panel plotly figure costs more
    (0.1-0.3 s) than everything else in a rerun; `key` must name every input that changes it."""
    return _build()


@st.cache_resource(show_spinner=False, max_entries=2)
def test_split(dataset: str):
    """The whole test split in memory (downloaded once by torchvision; DatasetError when offline)."""
    return sm_data.training_data(dataset, train=False)[0]


@st.cache_data(show_spinner=False, max_entries=32)
def live_stats(model_key: str, source: str, folder: str, classes: tuple[str, ...], per_class: int,
               control: bool, _progress=None):
    """excitation_stats over the bundled samples, a folder or the test split; cached by every argument that
    changes the result (the progress callback is not one of them)."""
    loaded = model(model_key)
    dataset = {"bundled": "bundled", "folder": folder}.get(source) or test_split(loaded.card["dataset"])
    return se_models.excitation_stats(loaded, dataset, classes=list(classes) or None, per_class=per_class,
                                      progress=_progress, control=control and not loaded.is_control)


def live_stats_with_progress(model_key: str, source: str, folder: str, classes: tuple[str, ...], per_class: int,
                             control: bool, show) -> object:
    """live_stats in a worker thread while this (script) thread reports its progress through show(done, total).

    Streamlit records element calls made inside a cached function and replays them on a cache hit, which fails for
    a progress bar created outside it; so the bar is updated here, never from inside the cached function."""
    seen = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:  # runs in the worker: plain Python only
        seen.update(done=done, total=total)

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="live-stats") as pool:
        job = pool.submit(live_stats, model_key, source, folder, classes, per_class, control, _progress=progress)
        while not concurrent.futures.wait([job], timeout=0.15).done:
            show(seen["done"], seen["total"])
        return job.result()
