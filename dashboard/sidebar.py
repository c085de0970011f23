"""The shared sidebar: model picker, image sources (photos, sample gallery, uploads, camera), Grad-CAM target."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import se_models

from . import cache, logic, urlstate

GALLERY_COLS, GALLERY_ROWS = 4, 3
PREDICTED = "predicted class"


@dataclass
class Selection:
    """Everything the views need from the sidebar."""
    model_key: str
    loaded: se_models.LoadedModel
    items: list[logic.ImageItem]   # the chosen images, or the default one
    using_default: bool            # nothing chosen yet: the views show the default image
    target: int | None             # Grad-CAM class; None = the predicted class

    @property
    def card(self) -> dict:
        return self.loaded.card

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def is_control(self) -> bool:
        return logic.is_control(self.model_key)


def _model_picker() -> str:
    options = logic.model_options(se_models.list_models())
    default = se_models.DEFAULT_MODEL if se_models.DEFAULT_MODEL in options else options[0]

    def label(key: str) -> str:
        return cache.model_labels()[key]

    return urlstate.selectbox(st, "Model", options, "model", index=options.index(default), format_func=label,
                              help="The untrained control has the same architecture with random weights: whatever it "
                             "shows comes from the architecture, not from training.")


def _toggle_sample(sid: str) -> None:
    chosen = list(st.session_state.get("samples", []))
    st.session_state["samples"] = [s for s in chosen if s != sid] if sid in chosen else chosen + [sid]


def _turn_page(step: int, pages: int) -> None:
    st.session_state["gallery_page"] = (st.session_state.get("gallery_page", 0) + step) % pages


def _gallery(dataset: str, labels: list[str]) -> list[str]:
    """Thumbnails of the bundled test samples, filtered by class; ticking one adds it to the chosen samples."""
    samples = cache.samples(dataset)
    ids = [logic.sample_id(p) for p, _ in samples]
    chosen = urlstate.multiselect(st, "Chosen samples", ids, "samples", placeholder="tick images below",
                                  format_func=lambda s: logic.sample_class(s.split("/")[0], labels) + " #" +
                                  s.split("/")[1].split(".")[0])
    folders = list(dict.fromkeys(folder for _, folder in samples))
    folder = st.selectbox("Show class", folders, key="sample_class",
                          format_func=lambda f: logic.sample_class(f, labels))
    shown = [(p, sid) for (p, f), sid in zip(samples, ids) if f == folder]
    per_page = GALLERY_COLS * GALLERY_ROWS
    pages = max(1, -(-len(shown) // per_page))
    page = st.session_state.get("gallery_page", 0) % pages
    cols = st.columns(GALLERY_COLS, gap="small")
    for i, (path, sid) in enumerate(shown[page * per_page:(page + 1) * per_page]):
        with cols[i % GALLERY_COLS]:
            st.image(cache.thumbnail(path), width=56)
            st.session_state[f"pick_{sid}"] = sid in chosen  # keep the tick in step with the list above
            st.checkbox(sid, key=f"pick_{sid}", on_change=_toggle_sample, args=(sid,), label_visibility="collapsed")
    with st.container(horizontal=True):
        st.button("◀", key="gallery_prev", on_click=_turn_page, args=(-1, pages))
        st.caption(f"page {page + 1} / {pages}")
        st.button("▶", key="gallery_next", on_click=_turn_page, args=(1, pages))
    return chosen


def _images(loaded) -> tuple[list[logic.ImageItem], bool]:
    labels = tuple(loaded.labels)
    dataset = loaded.card["dataset"]
    st.subheader("Images")
    photos = cache.photos()
    picked = urlstate.multiselect(st, "Photos", [p["file"] for p in photos], "photos",
                                  format_func=lambda f: next(p["title"] for p in photos if p["file"] == f),
                                  help="Credited demo photos (see About). They are shrunk to the model's input "
                                       "size.")
    items = [cache.photo_item(f, labels) for f in picked]
    if cache.samples(dataset):
        with st.expander(f"{logic.dataset_name(loaded.card)} test samples", expanded=False):
            items += [cache.sample_item(s, dataset, labels) for s in _gallery(dataset, list(labels))]
    uploads = st.file_uploader("Upload images", type=logic.UPLOAD_TYPES, accept_multiple_files=True, key="uploads",
                               help="PNG, JPEG, WebP, BMP or TIFF; several at once.")
    items += logic.upload_items([(f.name, f.getvalue()) for f in uploads or []])
    if st.toggle("Camera", key="camera_on", help="Take a picture with your webcam"):
        shot = st.camera_input("Take a picture", key="camera")
        if shot is not None:
            items += logic.upload_items([("camera snapshot", shot.getvalue())], source="camera")
    if items:
        return items, False
    default = logic.default_image(photos, cache.samples(dataset), list(labels))
    if default is None:
        return [], True
    kind, ident = default.split(":", 1)
    item = cache.photo_item(ident, labels) if kind == "photo" else cache.sample_item(ident, dataset, labels)
    return [item], True


def render() -> Selection:
    """Draw the sidebar and return the choices."""
    with st.sidebar:
        key = _model_picker()
        loaded = cache.model(key)
        st.caption(logic.model_caption(loaded.card, logic.is_control(key)))
        items, using_default = _images(loaded)
        st.subheader("Grad-CAM")
        choice = urlstate.selectbox(st, "Explain which class", [PREDICTED, *loaded.labels], "target",
                                    help="Grad-CAM shows where the evidence for this class lies.")
    target = None if choice == PREDICTED else loaded.labels.index(choice)
    return Selection(key, loaded, items, using_default, target)
