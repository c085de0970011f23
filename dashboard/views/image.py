"""Image view: prediction, Grad-CAM, excitation profile, feature maps before/after SE scaling, teaching panel."""
from __future__ import annotations

import json

import streamlit as st

from dashboard import exports, ui, wording
from dashboard.panels import ablation, teach
from dashboard.panels import channel as channelpanel
from dashboard.panels import stats as statspanel
from dashboard.state import cache, imageitems, urlstate
from se_models.explain.analysis import class_distances
from se_models.explain.overlay import colours as cam_colours
from se_models.explain.overlay import overlay, square_crop
from se_models.findings import image as image_reading
from se_models.hooks.naming import block_kind, stage_blocks
from se_models.plots import figures

STRIP_MAX = 8      # thumbnails in the strip of chosen images
OVERLAY_PX = 240  # the Grad-CAM column is ~248 px wide at 1280x720


def _strip(sel, good) -> str:
    """Every chosen image with its prediction; returns the id of the one to analyse in detail."""
    ids = [item.id for item, _ in good]
    shown = good[:STRIP_MAX]
    # one batched forward pass without gradients for all thumbnails, not an analysis per image
    probs = cache.predictions(sel.model_key, tuple(item.digest for item, _ in shown), [img for _, img in shown])
    cols = st.columns(STRIP_MAX)  # a fixed grid keeps the thumbnails together at the left
    for col, (item, img), p in zip(cols, shown, probs):
        predicted = sel.loaded.labels[int(p.argmax())]
        mark = "" if not item.true_class else (" ✓" if predicted == item.true_class else " ✗")
        # two short lines, each word short enough for the 96 px column (full names are in the picker below)
        col.image(square_crop(img).resize((96, 96)), width=96)
        col.caption(f"{wording.short(item.label, 13)}  \n→ {wording.short(predicted, 11)} "
                    f"{float(p.max()):.0%}{mark}")
    if len(good) > STRIP_MAX:
        st.caption(f"… and {len(good) - STRIP_MAX} more (pick them below).")
    labels = {item.id: item.label for item, _ in good}
    seeded = urlstate.seed("image", ids)
    picked = st.pills("Analyse", ids, key="image", default=None if seeded else ids[0], required=True,
                      format_func=lambda i: labels[i], persist_state="session")
    urlstate.publish("image", picked, ids[0])
    return picked if picked in ids else ids[0]


def _thumb(view, side: int) -> tuple[bytes, int]:
    """The model's view as a thumbnail, PNG-encoded (its pixels stay sharp), and its width."""
    thumb = imageitems.model_view_thumb(view, side)
    return exports.image_png(thumb), thumb.width


def _input_column(sel, item, img, view) -> None:
    loaded = sel.loaded
    credit = f" — {item.credit}" if item.credit else ""
    side = loaded.input_size[-1]
    # both pictures are encoded once per image: a rerun of the Grad-CAM part sends the same bytes, encoding nothing
    photo = cache.built("input_photo", (item.digest,), lambda: exports.image_jpeg(square_crop(img).resize((220, 220))))
    st.image(photo, caption=item.label + credit)
    grey = loaded.input_size[0] == 1
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    thumb, width = cache.built("model_view_thumb", (sel.model_key, item.digest), lambda: _thumb(view, side))
    c1.image(thumb, width=width, output_format="PNG")  # else Streamlit re-encodes it as JPEG on every rerun
    c2.caption(f"What the model sees: {side}×{side} px{', grayscale' if grey else ''}.")
    caption = image_reading.input_caption(loaded.card.is_imagenet, sel.is_control,
                                          item.source == "photo", side, item.hint)
    if caption:
        st.caption(caption)
    elif not item.in_distribution:
        st.caption(f":orange[This image is shrunk to {side}×{side} px and is unlike the "
                   f"{wording.dataset_name(loaded.card)} training images, so the prediction means little. "
                   "The squeeze → excitation → scale mechanics below are still real.]")


@st.fragment
@ui.guarded  # a fragment reruns on its own, outside the view's guard
def _top(sel, item, img, a) -> None:
    """Input, prediction, Grad-CAM and the per-stage row: a fragment, so a change of opacity reruns only this part
    (a change of layer, only the main map's part), and picks maps from the cached analysis (no model pass)."""
    loaded = sel.loaded
    view = a.view  # every map is drawn on what the model saw
    stages = stage_blocks(list(loaded.se_blocks))
    c1, c2, c3 = st.columns([1.0, 1.25, 1.1], gap="medium")
    with c1:
        _input_column(sel, item, img, view)
    with c2:
        predicted = loaded.labels[a.predicted]
        bars = cache.built("bars", (sel.model_key, item.digest),
                           lambda: figures.prediction_bars(a.probs, loaded.labels, 5))
        ui.chart(bars, "img_pred", f"prediction {item.label}")
        truth = image_reading.truth_finding(item.true_class, predicted)
        if truth:
            st.markdown(truth.markdown)
        if sel.is_control:
            st.caption(":orange[Untrained control: random weights, so the prediction is noise.]")
    with c3:
        _main_map(sel, item, a, stages)
        alpha = urlstate.slider(st, "Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key="alpha")
    st.markdown("##### Grad-CAM at the end of every stage (shallow → deep)")
    for col, (label, block) in zip(st.columns(len(stages)), stages.items()):
        empty = " · no positive evidence" if a.cams[block].max() == 0 else ""
        # drawn like the main map (one enlarged photo under all of them) and shown no narrower than drawn: a width
        # below the picture's would make Streamlit decode, shrink and re-encode each one on every rerun
        col.image(cache.overlay_jpeg(sel.model_key, item.digest, a.target, block, alpha, OVERLAY_PX, view,
                                     a.cams[block]), width=OVERLAY_PX, caption=label + empty)
    grids = ", ".join(f"{h}×{w}" for h, w in (a.grids[b] for b in stages.values()))
    st.caption(f"Each map keeps only the positive evidence for “{loaded.labels[a.target]}” (ReLU) and is scaled to "
               f"its own maximum, so faint and bright are relative within a map. Each is computed on its stage's grid "
               f"({grids} here) and enlarged: shallow maps can follow fine detail, the deepest is the coarsest.")


@st.fragment
@ui.guarded
def _main_map(sel, item, a, stages: dict[str, str]) -> None:
    """The main Grad-CAM map, its legend, layer and download: a fragment of its own, so a change of layer redraws
    these few elements only (every element Streamlit sends costs the browser time); the opacity slider below it
    belongs to the enclosing part, because the row of stage maps follows the opacity too."""
    loaded, view = sel.loaded, a.view
    by_block = {b: label for label, b in stages.items()}
    # the picture comes first, above its controls, so it is on screen at 1280x720 without scrolling: read the layer
    # and the opacity (whose slider is drawn after this fragment) before their widgets are drawn
    layer = urlstate.peek("cam_layer", list(by_block), list(by_block)[-1])
    alpha = urlstate.peek_number("alpha", 0.0, 1.0, 0.5, 0.05)
    picture = cache.overlay_jpeg(sel.model_key, item.digest, a.target, layer, alpha, OVERLAY_PX, view, a.cams[layer])
    none = " — none found (no positive evidence)" if a.cams[layer].max() == 0 else ""
    target, p = loaded.labels[a.target], float(a.probs[a.target])
    st.image(picture, width=OVERLAY_PX, caption=f"{image_reading.cam_label(target, p)} at {layer}{none}")
    unlikely = image_reading.cam_finding(target, p, loaded.labels[a.predicted])
    if not unlikely.holds:
        st.caption(f":orange[{unlikely.text}]")
    ui.colour_legend(cam_colours(), "none", "the map's maximum", OVERLAY_PX)
    urlstate.selectbox(st, "Grad-CAM layer", list(by_block), "cam_layer", index=len(stages) - 1,
                       format_func=by_block.get,
                       help="The end of which stage Grad-CAM looks at: shallow stages are sharp but generic, the "
                            "deepest is coarse but closest to the class decision.")
    st.download_button("Grad-CAM PNG", lambda: exports.image_png(overlay(view, a.cams[layer], alpha, OVERLAY_PX)),
                       f"gradcam_{exports.slug(item.label)}.png", "image/png", key="dl_gradcam",
                       icon=":material/download:", type="tertiary", on_click="ignore")


def _channel_links(maps, block: str, k: int) -> None:
    """A link per channel shown above to the Classes view's channel panel: which images of the data open and close
    that gate (plain links: nothing runs until one is followed)."""
    up, down = image_reading.extreme_channels(maps.excitation.tolist(), k)
    st.caption("Which images of the data open and close these gates? Follow a channel to its images (Classes view):")
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="img_channel_links"):
        for c in up + down:
            st.page_link(ui.page("classes"), label=f"{'▲' if c in up else '▼'} ch {c}",
                         query_params={channelpanel.BLOCK: block, channelpanel.CHANNEL: str(c)},
                         help=f"The images of the data with the highest and lowest gate of {block} channel {c}, "
                              "overall and per class, in the Classes view.")


def _excitation_csv(a) -> str:
    rows = [{"block": b, "channel": c, "z": round(float(z), 5), "s": round(float(s), 5)}
            for b in a.excitation for c, (z, s) in enumerate(zip(a.squeeze[b].tolist(), a.excitation[b].tolist()))]
    return exports.to_csv(rows)


def _excitation_json(a, label: str, model_key) -> str:
    return json.dumps({"image": label, "model": str(model_key), "probs": a.probs.tolist(),
                       "excitation": {b: v.tolist() for b, v in a.excitation.items()},
                       "squeeze": {b: v.tolist() for b, v in a.squeeze.items()}})


def render() -> None:
    sel = ui.selection()
    loaded = sel.loaded
    names = list(loaded.se_blocks)
    st.markdown("## One image through the SE blocks")
    good, errors = imageitems.decode_items(sel.items, decode=lambda it: cache.decode(it.data, it.label))
    for message in errors:
        st.error(message, icon=":material/broken_image:")
    if not good:
        st.info("No readable image yet: choose photos, test samples, uploads or the camera in the sidebar.")
        return
    active = _strip(sel, good) if len(good) > 1 else good[0][0].id
    item, img = next(pair for pair in good if pair[0].id == active)
    if sel.using_default:
        st.caption(f"Showing a default image ({item.label}). Choose photos, test samples, your own uploads or the "
                   "camera in the sidebar.")
    # the view's one forward + backward pass, which also keeps the feature maps of the block shown below
    a = cache.analysis(sel.model_key, item.digest, img, sel.target, urlstate.peek("block", names, names[-1]))
    _top(sel, item, img, a)
    ablation.image_panel(sel, item, img, a)

    st.divider()
    ref = cache.reference(loaded.name)
    shown = statspanel.stats_for(ref, sel.is_control) if ref else None
    st.markdown("### This image's excitation in every SE block" + (", against its class average" if shown else ""))
    cls = item.true_class or loaded.labels[a.predicted]
    if shown is None:  # nothing to compare with: no class selector
        st.caption("No reference statistics for this model: only this image's excitations are drawn (the Classes "
                   "view computes class averages from a folder of images).")
    else:
        urlstate.reset_when_changed("_profile_image", item.id, ["profile_class"])  # a new image: its own class
        cls = urlstate.selectbox(st, "Class average to compare with", loaded.labels, "profile_class",
                                 index=loaded.labels.index(cls),
                                 help="Defaults to the true class when it is known, else the predicted class.")
    profile = cache.built("profile", (sel.model_key, item.digest, cls, shown is not None),
                          lambda: figures.excitation_profile(a.excitation, shown, cls, names))
    ui.chart(profile, "img_profile", f"excitation profile {item.label}")
    if shown is None:
        st.caption("Bars: this image's gate s per channel: near 1 a channel passes almost unchanged, near 0 it is "
                   "turned down.")
    else:
        distances = class_distances(a.excitation, {b.name: b.class_means for b in shown.blocks})
        typical = {b.name: image_reading.typical_distance(b.class_stds[cls]) for b in shown.blocks
                   if cls in b.class_stds}
        st.caption("Bars: this image's gate s per channel. Line: the mean of the class over its test images "
                   "(reference statistics). " + (image_reading.profile_sentence(distances, cls, typical) or ""))

    st.divider()
    st.markdown("### Feature maps before and after SE scaling")
    f1, f2 = st.columns([1, 1])
    block = urlstate.selectbox(f1, "Attention block" if block_kind(names[-1]) != "SE" else "SE block", names, "block",
                               index=len(names) - 1)
    k = urlstate.slider(f2, "Channels each way (highest / lowest gates)", 1, 8, 4, key="k")
    m = a.maps if a.maps is not None and a.maps.block == block else cache.block_maps(sel.model_key, item.digest,
                                                                                       img, block)
    maps = cache.built("maps", (sel.model_key, item.digest, block, k),
                       lambda: figures.feature_maps(m.before, m.after, m.excitation, k, block))
    kind = block_kind(block) or "SE"
    gate = "CBAM's channel gate" if kind == "CBAM" else f"the {kind} gate"
    if m.spatial is None:
        ui.chart(maps, "img_maps", f"feature maps {block} {item.label}")
    else:  # CBAM: its spatial gate, a map, beside the channels it multiplies next
        left, right = st.columns([4, 1], gap="small")
        with left:
            ui.chart(maps, "img_maps", f"feature maps {block} {item.label}")
        with right:
            spatial = cache.built("spatial", (sel.model_key, item.digest, block),
                                  lambda: figures.spatial_gate(m.spatial, block))
            ui.chart(spatial, "img_spatial", f"spatial gate {block} {item.label}")
    st.caption(f"Top row: U, the residual branch's output. Bottom row: s·U after {gate}. One colour scale for "
               "all panels, so a faded bottom panel is a channel the gate turned down."
               + (" Right: CBAM's spatial gate, one value per position in (0, 1), computed from s·U (its mean and "
                  "maximum over channels) and multiplying every channel of it next: where the block looks, not "
                  "which channels it keeps." if m.spatial is not None else ""))
    _channel_links(m, block, k)
    mean_block = next((b for b in shown.blocks if b.name == block), None) if shown else None
    teach.render(loaded, m, mean_block.class_means.get(cls) if mean_block else None, cls)

    stem = f"excitation_{exports.slug(item.label)}"
    with st.container(horizontal=True):
        st.download_button("This image's z and s, every block (CSV)", lambda: _excitation_csv(a), f"{stem}.csv",
                           "text/csv", key="dl_exc_csv", icon=":material/download:", on_click="ignore")
        st.download_button("… as JSON", lambda: _excitation_json(a, item.label, sel.model_key), f"{stem}.json",
                           "application/json", key="dl_exc_json", icon=":material/download:", on_click="ignore")
