"""Cached loaders: models shared by all sessions (bounded in bytes), data and results per input (cache_data)."""
from __future__ import annotations

import concurrent.futures
import io
import threading
from collections import OrderedDict
from pathlib import Path

import streamlit as st

import se_models
from dashboard import wording
from dashboard.safety import budget
from dashboard.state import imageitems, modelkeys
from se_models import config
from se_models.data import datasets as sm_data
from se_models.errors import SEExplorerError
from se_models.explain.cam import grad_cam_views
from se_models.explain.overlay import enlarge, overlay, overlay_size
from se_models.models.card import ModelCard
from se_models.models.registry import load_card
from se_models.models.zoo import ZOO, is_zoo_name, zoo_card
from se_models.stats.channels import stream_ranking
from se_models.stats.epochs import EpochHistory
from se_models.stats.stored import find_epochs, find_reference

# the user's choice cannot be loaded (offline weights, a bad checkpoint, no SE blocks, an unknown name, an unreadable
# file, too large a model): said in the page; any other exception is a bug and shows as one
LOAD_ERRORS = (SEExplorerError, OSError)


class ModelStore:
    """The loaded models of every browser session, bounded in bytes (parameters and buffers), least recently used
    dropped first. Streamlit's cache_resource bounds entries only, and one timm model can weigh 2 GB while another
    weighs 1 MB; a session still using a dropped model keeps it until its run ends. One lock per key: two sessions
    asking for the same model at once build it once."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self.held: OrderedDict[modelkeys.ModelKey, tuple[se_models.LoadedModel, int]] = OrderedDict()
        self.lock = threading.Lock()
        self.building: dict[modelkeys.ModelKey, threading.Lock] = {}

    def get(self, key: modelkeys.ModelKey) -> se_models.LoadedModel:
        with self.lock:
            if key in self.held:
                self.held.move_to_end(key)
                return self.held[key][0]
            building = self.building.setdefault(key, threading.Lock())
        with building:
            with self.lock:
                if key in self.held:  # built by the session that held the key's lock before us
                    return self.held[key][0]
            try:
                loaded = se_models.load_model(key.name, key.load_weights, max_params=config.MAX_MODEL_PARAMS)
            finally:
                with self.lock:
                    self.building.pop(key, None)
            size = sum(t.numel() * t.element_size() for t in (*loaded.model.parameters(), *loaded.model.buffers()))
            with self.lock:
                self.held[key] = (loaded, size)
                while len(self.held) > 1 and sum(n for _, n in self.held.values()) > self.budget:
                    self.held.popitem(last=False)
            return loaded

    def sizes(self) -> dict[str, int]:
        """Bytes held per model key (for the budget test and the operator's page)."""
        with self.lock:
            return {str(k): n for k, (_, n) in self.held.items()}


_MODELS = ModelStore(config.MODEL_CACHE_MB * 1024 ** 2)


def model(key: modelkeys.ModelKey | str) -> se_models.LoadedModel:
    """One LoadedModel per key for every browser session; its own lock serialises the hooked passes. A picker option
    (str) stands for its key. A failed load raises and is not kept: the next call tries again."""
    return _MODELS.get(modelkeys.ModelKey.from_option(key) if isinstance(key, str) else key)


@st.cache_data(show_spinner=False, ttl=20, max_entries=32)
def load_error(key: modelkeys.ModelKey) -> str | None:
    """Load the model of a key (into model()'s store) and return None, or the failure as one Markdown message.

    Only the message is remembered, and for 20 s: reruns meanwhile do not retry a failing download (up to 5 s each
    offline), yet a model whose weights have been fetched since loads on a later try."""
    try:
        model(key)
    except LOAD_ERRORS as err:
        return wording.load_failure(key.name, key.load_weights, err)
    return None


@st.cache_data(show_spinner=False)
def card(name: str) -> ModelCard:
    """A bundled model's card, or what is known of a zoo / timm model without loading it."""
    return zoo_card(name) if is_zoo_name(name) else load_card(name)


def model_label(key: modelkeys.ModelKey | str) -> str:
    """The human name of any model key or picker option (bundled, zoo, timm, any weights)."""
    key = modelkeys.ModelKey.from_option(key) if isinstance(key, str) else key
    return model_labels().get(str(key)) or wording.model_label(key, card(key.name))


@st.cache_data(show_spinner=False)
def zoo_rows() -> list[dict]:
    """The ImageNet zoo for the About view: what each model is, its top-1 and where that number and the weights
    come from (timm's pretrained configs, no download)."""
    import timm

    rows = []
    for name, z in ZOO.items():
        cfg = timm.get_pretrained_cfg(name)
        source = (f"huggingface.co/{cfg.hf_hub_id}" if cfg and cfg.hf_hub_id else (cfg.url if cfg else None))
        rows.append({"model": name, "what": z["note"], "ImageNet top-1": f"{z['top1']:.2f} %",
                     "top-1 from": z["source"], "weights from": source or "?"})
    return rows


@st.cache_data(show_spinner=False)
def model_labels() -> dict[str, str]:
    return wording.model_labels({name: card(name) for name in se_models.list_models()})


def reference(name: str):
    """The reference statistics (whole test split, with the untrained control): shipped with a bundled model, or
    written into the user cache by `python -m se_models reference`; None when there are none."""
    path = find_reference(name)
    return _reference_at(str(path), path.stat().st_mtime_ns) if path else None


@st.cache_data(show_spinner=False, max_entries=16)
def _reference_at(path: str, stamp: int):
    """Keyed by the file's modification time too: statistics written while the app runs are picked up."""
    return se_models.ExcitationStats.load(path)


@st.cache_data(show_spinner=False)
def photos() -> list[dict]:
    return sm_data.photos()


@st.cache_data(show_spinner=False)
def samples(dataset: str) -> list[tuple[str, str]]:
    return sm_data.sample_images(dataset)


def samples_root(dataset: str) -> Path:
    return sm_data.bundled_samples_dir(dataset)


@st.cache_data(show_spinner=False, max_entries=64)
def photo_item(file: str, labels: tuple[str, ...], imagenet: bool = False) -> imageitems.ImageItem:
    photo = next(p for p in photos() if p["file"] == file)
    return imageitems.photo_item(photo, list(labels), imagenet)


@st.cache_data(show_spinner=False, max_entries=256)
def sample_item(sid: str, dataset: str, labels: tuple[str, ...]) -> imageitems.ImageItem:
    return imageitems.sample_item(sid, samples_root(dataset), list(labels))


@st.cache_data(show_spinner=False, max_size=config.IMAGE_CACHE_MB * 1024 ** 2)
def decode(data: bytes, name: str):
    """Bytes -> RGB PIL image, reduced while decoding when large (a 6000 px photo is kept at 1200 px: the models take
    at most 448); raises se_models.ImageError naming the file (errors are not cached). Bounded in bytes, least
    recently used dropped first, for every session together."""
    return se_models.load_image(data, name=name, shrink_to=config.DECODE_SIDE)


@st.cache_data(show_spinner=False, max_entries=512)
def thumbnail(path: str, size: int = 56):
    return imageitems.pixelated(se_models.load_image(path), size)


@st.cache_data(show_spinner=False, max_size=config.RESULT_CACHE_MB * 1024 ** 2)
def analysis(model_key: str, digest: str, _image, target: int | None, _maps_block: str | None = None):
    """One forward + backward pass per (model, image bytes, target): probabilities, every z and s, and Grad-CAM at
    the end of every stage, so a change of Grad-CAM layer or opacity picks a map and runs no model; plus U and s*U of
    _maps_block (the feature maps shown first) from the same pass. A later change of block does not re-run this
    (block_maps' cheaper pass does), hence not in the key. The image is keyed by its digest, so the unhashable PIL
    image is passed as _image."""
    return se_models.analyze_image(model(model_key), _image, target=target, maps_block=_maps_block)


@st.cache_data(show_spinner=False, max_entries=64)
def predictions(model_key: str, digests: tuple[str, ...], _images):
    """Class probabilities (N, K) of the chosen images from one batched forward pass without gradients."""
    return se_models.predict(model(model_key), list(_images))


@st.cache_resource(show_spinner=False, max_entries=64)
def model_view(model_key: str, digest: str, _image):
    """The image as the model sees it (its own resize and centre crop): what Grad-CAM maps are drawn on."""
    return model(model_key).model_view(_image)


@st.cache_resource(show_spinner=False, max_entries=64)
def enlarged_view(model_key: str, digest: str, size: int, _view):
    """The model's view enlarged to size px once: the base under every Grad-CAM overlay of this image."""
    return enlarge(_view, size)


@st.cache_data(show_spinner=False, max_entries=256)
def overlay_jpeg(model_key: str, digest: str, target: int | None, layer: str, alpha: float, shown: int, _view,
                 _cam) -> bytes:
    """A Grad-CAM overlay to be shown `shown` px wide, encoded once per (model, image, target, layer, opacity, width):
    a rerun of the Grad-CAM part then neither blends nor encodes the maps that did not change (the browser keeps them
    too). Drawn with at most 4 px per model pixel (overlay_size): show it `shown` px wide, the browser enlarges."""
    size = overlay_size(_view, shown)
    buf = io.BytesIO()
    overlay(_view, _cam, alpha, size, base=enlarged_view(model_key, digest, size, _view)).save(buf, "JPEG",
                                                                                              quality=92)
    return buf.getvalue()


@st.cache_data(show_spinner=False, max_entries=64)
def block_maps(model_key: str, digest: str, _image, block: str):
    """One block's U and s*U after a change of block: a forward pass without gradients, independent of the Grad-CAM
    target and layer (the first block shown comes with the analysis)."""
    return se_models.block_maps(model(model_key), _image, block)


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
def live_stats(model_key: modelkeys.ModelKey, source: str, folder: str, classes: tuple[str, ...], per_class: int,
               control: bool, _progress=None, _queued=None):
    """excitation_stats over the bundled samples, a folder or the test split; cached by every argument that
    changes the result (the progress and queue callbacks are not). A computation (not a cache hit) takes one of the
    server's heavy-work slots, waiting its turn."""
    loaded = model(model_key)
    # the untrained control is the model of the control key: loaded once for the picker and every statistic
    untrained = model(modelkeys.ModelKey.control(loaded.name)) if control and not loaded.is_control else None
    with budget.heavy(_queued):
        dataset = {"bundled": "bundled", "folder": folder}.get(source) or test_split(loaded.card.dataset)
        return se_models.excitation_stats(loaded, dataset, classes=list(classes) or None, per_class=per_class,
                                          progress=_progress, control=untrained)


def in_worker(fn, *args, show, **kwargs):
    """fn(*args, _progress=, _queued=, **kwargs) in a worker thread while this (script) thread reports through
    show(done, total, queued): how far it is, and whether it waits for another session's heavy work.

    Streamlit records element calls made inside a cached function and replays them on a cache hit, which fails for
    a progress bar created outside it; so the page is updated here, never from inside the cached function."""
    seen = {"done": 0, "total": 0, "queued": False}

    def progress(done: int, total: int) -> None:  # runs in the worker: plain Python only
        seen.update(done=done, total=total, queued=False)

    def queued() -> None:
        seen["queued"] = True

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="heavy-work") as pool:
        job = pool.submit(fn, *args, _progress=progress, _queued=queued, **kwargs)
        while not concurrent.futures.wait([job], timeout=0.15).done:
            show(seen["done"], seen["total"], seen["queued"])
        return job.result()


def epochs(name: str):
    """The model's statistics at every epoch of its training (an EpochHistory), or None when it has none."""
    path = find_epochs(name)
    return _epochs_at(str(path), path.stat().st_mtime_ns) if path else None


@st.cache_data(show_spinner=False, max_entries=4)
def _epochs_at(path: str, stamp: int):
    """Keyed by the file's modification time too, as the reference statistics are."""
    return EpochHistory.load(path)


def channel_data(model_key: modelkeys.ModelKey, source: str, folder: str):
    """The images a channel is ranked over, as the Classes view's data source names them: the reference statistics'
    own images (the test split) or the test split, the bundled samples, or the folder."""
    if source in ("reference", "test"):
        return test_split(model(model_key).card.dataset)
    return "bundled" if source == "bundled" else folder


@st.cache_resource(show_spinner=False, max_entries=8)
def gate_ranking(model_key: modelkeys.ModelKey, source: str, folder: str, classes: tuple[str, ...], block: str,
                 per_class: int, _progress=None, _queued=None):
    """One pass over the data (at most per_class seeded images of each of `classes`, all classes for none) for every
    channel of a block: one float per image and channel; a resource, since it keeps the data's reader to re-read
    the listed images. A computation takes one of the server's heavy-work slots, waiting its turn."""
    loaded = model(model_key)
    with budget.heavy(_queued):
        return stream_ranking(loaded, channel_data(model_key, source, folder), block, classes=list(classes) or None,
                              per_class=per_class, progress=_progress)


@st.cache_resource(show_spinner=False, max_entries=32)
def channel_ranking(model_key: modelkeys.ModelKey, source: str, folder: str, classes: tuple[str, ...], block: str,
                    per_class: int, channel: int, k: int):
    """One channel's ranking, its listed images passed alone (exact gates, U and s·U)."""
    ranking = gate_ranking(model_key, source, folder, classes, block, per_class)
    return ranking.channel(model(model_key), channel, k)


@st.cache_resource(show_spinner=False, max_entries=64)
def channel_cams(model_key: modelkeys.ModelKey, source: str, folder: str, classes: tuple[str, ...], block: str,
                 per_class: int, channel: int, k: int, group: str, top: bool):
    """One listed group (every class, or one; the highest or the lowest gates): its images, and their views, Grad-CAM
    maps at `block` for the predicted class and those classes (grad_cam_views)."""
    r = channel_ranking(model_key, source, folder, classes, block, per_class, channel, k)
    listed = (r.top if top else r.bottom) if group == "all" else r.per_class[group]["top" if top else "bottom"]
    src = gate_ranking(model_key, source, folder, classes, block, per_class).source
    return listed, grad_cam_views(model(model_key), [src.image(x.index) for x in listed], block)
