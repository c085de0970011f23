"""The shared sidebar: model picker (bundled, ImageNet zoo, any timm model; weights), image sources (photos,
sample gallery, uploads, camera), Grad-CAM target."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

import se_models
from dashboard import wording
from dashboard.safety import access, uploads
from dashboard.state import cache, imageitems, modelkeys, urlstate
from se_models.models.card import ModelCard
from se_models.models.zoo import BUILT, ZOO, is_zoo_name

GALLERY_COLS, GALLERY_ROWS = 4, 3
PREDICTED = "predicted class"
# widgets whose options are the model's blocks or classes: they start afresh for another model
PER_MODEL = ["block", "cam_layer", "blocks", "cmp_block", "profile_class", "abl_stage", "abl_block", "epoch",
             "ch_block_box", "ch_number", "ch_group", "_ch_pick"]


@dataclass
class Selection:
    """Everything the views need from the sidebar."""
    model_key: modelkeys.ModelKey
    loaded: se_models.LoadedModel | None  # None: no model yet (see error / notice); only About can be drawn
    items: list[imageitems.ImageItem]   # the chosen images, or the default one
    using_default: bool            # nothing chosen yet: the views show the default image
    target: int | None             # Grad-CAM class; None = the predicted class
    error: str | None = None       # why the model could not be loaded (Markdown, with what to do instead)
    notice: str | None = None      # what is missing before it can be (a weights file's path)

    @property
    def card(self) -> ModelCard:
        return self.loaded.card

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def is_control(self) -> bool:
        return self.model_key.is_control


def _url_model() -> None:
    """On the first run, a model named by the URL that the picker cannot show as it is: a typed timm name (put in
    the timm-name box) or a key with a weights file, whose path is checked against the roots now, as if typed."""
    done: set = st.session_state.setdefault(urlstate.SEEDED, set())
    if "timm_name" in done:
        return
    done.add("timm_name")
    wanted = st.query_params.get("model", "")
    if modelkeys.FILE in wanted:
        try:
            key = modelkeys.ModelKey.from_text(wanted, access.roots())
        except access.PathNotAllowed as err:  # the one refusal, then the default model: nothing of the link is used
            st.session_state["_url_refused"] = str(err)
            del st.query_params["model"]
            return
        st.query_params["model"] = key.name
        st.session_state.update(weights="file", weights_path=key.path)
        done.add("weights")
        wanted = key.name
    if wanted.startswith(modelkeys.TIMM) and wanted not in ZOO:
        st.session_state["timm_name"] = wanted.removeprefix(modelkeys.TIMM)


def _typed_timm() -> list[str]:
    """The model typed under "Any timm model" (or named by the URL, on the first run) as a picker option; [] when
    nothing usable was typed (what is wrong with it is said under the box)."""
    try:
        option = modelkeys.timm_option(st.session_state.get("timm_name", ""))
    except modelkeys.BadModelName:
        return []
    return [option] if option else []


def _pick_typed() -> None:
    """Typing a timm name selects it."""
    try:
        option = modelkeys.timm_option(st.session_state.get("timm_name", ""))
    except modelkeys.BadModelName:
        return
    if option:
        st.session_state["model"] = option


def _model_picker() -> str:
    _url_model()
    bundled = modelkeys.model_options(se_models.list_models())
    options = list(dict.fromkeys(bundled + list(ZOO) + list(BUILT) + _typed_timm()))
    default = se_models.DEFAULT_MODEL if se_models.DEFAULT_MODEL in options else options[0]
    labels = cache.model_labels()

    key = urlstate.selectbox(st, "Model", options, "model", index=options.index(default),
                             format_func=lambda o: wording.picker_label(o, labels),
                             help="The small bundled models first, each with its untrained control (the same "
                                  "architecture with random weights: whatever it shows comes from the architecture, "
                                  "not from training); then SE networks trained on ImageNet, from timm; then ImageNet "
                                  "ResNets with other channel attention (CBAM, ECA, global context, gather-excite), "
                                  "random weights only.")
    with st.expander("Any timm model", expanded=key.startswith(modelkeys.TIMM)):
        st.text_input("timm model name", key="timm_name", on_change=_pick_typed, persist_state="session",
                      placeholder="e.g. regnety_002", max_chars=modelkeys.NAME_MAX,
                      help=f"Any timm architecture with squeeze-and-excitation blocks or other channel attention, e.g. "
                           f"{wording.SE_EXAMPLES}, {wording.OTHER_EXAMPLES}; "
                           "press Enter to select it. Its weights are chosen below.")
        try:
            modelkeys.timm_option(st.session_state.get("timm_name", ""))
        except modelkeys.BadModelName as err:
            st.error(str(err), icon=":material/block:")
    refused = st.session_state.pop("_url_refused", None)
    if refused:  # a link's weights file outside the roots: the one refusal, and the default model
        st.error(refused, icon=":material/block:")
    return key


def _weights(name: str) -> tuple[modelkeys.ModelKey | None, str, str, str]:
    """The weights of a zoo / timm model: (its key, the name the user knows the file by, what is missing, why it is
    refused); the choice is in the URL, the path is not. A typed path must lie inside the allowed roots (checked as
    the key is made); where there are none, only uploads are offered."""
    options = [w for w in modelkeys.WEIGHTS if (w != "file" or access.server_paths_allowed())
               and (w != "pretrained" or name not in BUILT)]  # a built model has no pretrained weights
    if st.session_state.get("weights") not in (None, *options):  # pretrained, chosen for another model
        st.session_state.pop("weights")
    choice = urlstate.radio(st, "Weights", options, "weights", index=options.index("random") if name in BUILT else 0,
                            format_func=modelkeys.WEIGHTS.get,
                            help="Pretrained: timm's download (Hugging Face or GitHub), cached on this server after "
                                 "the first time. Upload: a safetensors or weights-only torch checkpoint from your "
                                 "computer. File on this server: for machines without internet (only inside the "
                                 "folders the server allows). Random: the untrained control.")
    if choice == "pretrained":
        return modelkeys.ModelKey.own(name), "", "", ""
    if choice == "random":
        return modelkeys.ModelKey.control(name), "", "", ""
    if choice == "upload":
        path, label = uploads.weights(name)
        if not path:
            return None, "", "Upload a weights file for this model in the sidebar.", ""
        # the session's own upload folder is the one root an uploaded file may come from
        return modelkeys.ModelKey.local(name, path, (uploads.session_dir().resolve(),)), label, "", ""
    typed = st.text_input("Weights file (path on the server)", key="weights_path", persist_state="session",
                          placeholder="/path/to/model.safetensors", max_chars=4096,
                          help=f"A file for {name}, e.g. model.safetensors from its Hugging Face page, inside the "
                               "folders this server allows. A browser cannot pick files there: to send one from "
                               "your computer, choose upload.").strip()
    if not typed:
        return None, "", "Type the path of a weights file for this model in the sidebar.", ""
    try:
        return modelkeys.ModelKey.local(name, typed, access.roots()), "", "", ""
    except access.PathNotAllowed as err:
        return None, "", "", str(err)


def _toggle_sample(sid: str) -> None:
    chosen = list(st.session_state.get("samples", []))
    st.session_state["samples"] = [s for s in chosen if s != sid] if sid in chosen else chosen + [sid]


def _turn_page(step: int, pages: int) -> None:
    st.session_state["gallery_page"] = (st.session_state.get("gallery_page", 0) + step) % pages


def _gallery(dataset: str, labels: list[str]) -> list[str]:
    """Thumbnails of the bundled test samples, filtered by class; ticking one adds it to the chosen samples."""
    samples = cache.samples(dataset)
    ids = [imageitems.sample_id(p) for p, _ in samples]
    chosen = urlstate.multiselect(st, "Chosen samples", ids, "samples", placeholder="tick images below",
                                  format_func=lambda s: imageitems.sample_class(s.split("/")[0], labels) + " #" +
                                  s.split("/")[1].split(".")[0])
    folders = list(dict.fromkeys(folder for _, folder in samples))
    folder = st.selectbox("Show class", folders, key="sample_class",
                          format_func=lambda f: imageitems.sample_class(f, labels))
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


def _images(loaded) -> tuple[list[imageitems.ImageItem], bool]:
    labels = tuple(loaded.labels)
    dataset = loaded.card.dataset
    imagenet = dataset == "imagenet"
    st.subheader("Images")
    photos = cache.photos()
    picked = urlstate.multiselect(st, "Photos", [p["file"] for p in photos], "photos",
                                  format_func=lambda f: next(p["title"] for p in photos if p["file"] == f),
                                  help="Credited demo photos (see About). "
                                       + ("Real photos: fair test images for an ImageNet model with trained "
                                          "weights." if imagenet else
                                          "They are shrunk to the model's input size."))
    items = [cache.photo_item(f, labels, imagenet) for f in picked]
    if cache.samples(dataset):
        with st.expander(f"{wording.dataset_name(loaded.card)} test samples", expanded=False):
            items += [cache.sample_item(s, dataset, labels) for s in _gallery(dataset, list(labels))]
    files = st.file_uploader("Upload images", type=imageitems.UPLOAD_TYPES, accept_multiple_files=True, key="uploads",
                             max_upload_size=uploads.IMAGE_MB,
                             help=f"PNG, JPEG, WebP, BMP or TIFF, at most {uploads.IMAGE_MB} MB each; several at once.")
    items += imageitems.upload_items([(f.name, f.getvalue()) for f in files or []
                                 if not uploads.too_big(f, uploads.IMAGE_MB, "an image")])
    if st.toggle("Camera", key="camera_on", help="Take a picture with your webcam"):
        shot = st.camera_input("Take a picture", key="camera")
        if shot is not None:
            items += imageitems.upload_items([("camera snapshot", shot.getvalue())], source="camera")
    if items:
        return items, False
    default = imageitems.default_image(photos, cache.samples(dataset), list(labels))
    if default is None:
        return [], True
    kind, ident = default.split(":", 1)
    item = cache.photo_item(ident, labels, imagenet) if kind == "photo" else cache.sample_item(ident, dataset, labels)
    return [item], True


def render(images: bool = True) -> Selection:
    """Draw the sidebar and return the choices; a model that cannot be loaded leaves the picker usable.

    images=False (views that draw no single image): the model only, no image sources or Grad-CAM target."""
    with st.sidebar:
        option = _model_picker()
        known = {}
        if is_zoo_name(option):
            key, label, missing, refused = _weights(option)
            if key is None:
                return Selection(modelkeys.ModelKey.own(option), None, [], True, None, error=refused or None,
                                 notice=f"{missing} Or choose pretrained or random weights." if missing else None)
            known = {key.path: label or Path(key.path).name} if key.path else {}  # a file is known by its name
        else:
            key = modelkeys.ModelKey.from_option(option)
            urlstate.publish("weights", None)  # bundled models carry their weights in the key
        with st.spinner(f"Loading {key.name}…"):
            error = cache.load_error(key)
        if error:
            return Selection(key, None, [], True, None, error=access.scrub(error, known))
        loaded = cache.model(key)
        # another model: its block choices start again from its own defaults (deepest block, paper blocks), so
        # the feature maps and the Grad-CAM layer agree, rather than keep a name the two models happen to share
        urlstate.reset_when_changed("_model_shown", key, PER_MODEL)
        st.caption(wording.model_caption(loaded.card, key.is_control, loaded.weights))
        if not images:
            return Selection(key, loaded, [], True, None)
        items, using_default = _images(loaded)
        st.subheader("Grad-CAM")
        many = len(loaded.labels) > 20
        choice = urlstate.selectbox(st, "Explain which class", [PREDICTED, *loaded.labels], "target",
                                    help="Grad-CAM shows where the evidence for this class lies."
                                         + (f" Type to search the {len(loaded.labels)} classes." if many else ""))
    target = None if choice == PREDICTED else loaded.labels.index(choice)
    return Selection(key, loaded, items, using_default, target)
