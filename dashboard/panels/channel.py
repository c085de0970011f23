"""The channel panel: from a gate to its images. Which images of the data at hand open and close one channel of
one SE block (its k highest and lowest gates, overall or in one class), with U, s·U and Grad-CAM of each, and the
gate's histogram per class (the Classes view, reached by clicking a Fig. 6 panel or from the Image view)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import ui
from dashboard.safety import access, budget
from dashboard.state import cache, urlstate
from se_models import config
from se_models.errors import SEExplorerError
from se_models.explain.overlay import overlay
from se_models.findings.channel import channel_reading
from se_models.plots.channels import Tile, channel_gallery, gate_histogram

K = 8  # images listed each way, per group
BLOCK, CHANNEL = "ch_block", "ch"  # the URL keys of the channel shown: a click, a link or a bookmark sets them
TILE_PX = 112  # each tile's overlay is drawn at this size


def chosen(names: list[str]) -> tuple[str, int] | None:
    """The (block, channel) in the URL, when it names a block of this model and a channel number; else None."""
    block = st.query_params.get(BLOCK)
    channel = urlstate.number(st.query_params.get(CHANNEL, ""), int, 0, 1_000_000)  # ASCII digits only, finite
    return (block, channel) if block in names and channel is not None else None


def choose(block: str, channel: int) -> None:
    """Show this channel (written into the URL, so the choice is shareable)."""
    st.query_params[BLOCK], st.query_params[CHANNEL] = block, str(channel)


def close() -> None:
    for key in (BLOCK, CHANNEL):
        if key in st.query_params:
            del st.query_params[key]


def point(event, fig) -> tuple[str, int] | None:
    """The (block, channel) of the first point selected in a Fig. 6 figure: each trace carries its block as `meta`,
    each point its channel as customdata. None without a selection, or for a point of neither."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    if not points or points[0].get("customdata") is None:
        return None
    block = fig.data[points[0]["curve_number"]].meta
    data = points[0]["customdata"]
    return (block, int(data[0] if isinstance(data, (list, tuple)) else data)) if block else None


def follow(event, fig) -> None:
    """Show the channel clicked in a Fig. 6 figure. The chart keeps its selection across reruns, so only a new one
    is followed: a channel chosen since (a link, the panel's boxes) is not overridden by the old click."""
    picked = point(event, fig)
    if picked != st.session_state.get("_ch_clicked"):
        st.session_state["_ch_clicked"] = picked
        if picked:
            choose(*picked)


def _tiles(sel, listed, views) -> list[Tile]:
    pictures, cams, targets = views
    labels = sel.loaded.labels
    return [Tile(np.asarray(v.convert("RGB")), np.asarray(overlay(v, c, 0.5, TILE_PX)), x.u, x.su, x.gate, x.cls,
                 labels[t], x.image) for x, v, c, t in zip(listed, pictures, cams, targets)]


def render(sel, widths: dict[str, int], source: str, folder: str, classes: list[str], note: str = "") -> None:
    """The panel for the channel in the URL (nothing when there is none), over the view's data (its classes, all for
    none); widths: each block's channel count; `note` says which weights it ranks with when the view shows another
    epoch's statistics."""
    classes, names = tuple(classes), list(widths)
    asked = chosen(names)
    if asked is None:
        return
    pick = (asked[0], min(asked[1], widths[asked[0]] - 1))  # a channel past the block's last: its last
    if st.session_state.get("_ch_pick") != pick:  # a new click or link: the boxes below follow it
        st.session_state.update({"_ch_pick": pick, "ch_block_box": pick[0], "ch_number": pick[1]})
    head = st.empty()
    c1, c2, c3, c4 = st.columns([1.1, 1.1, 1.4, 0.7], vertical_alignment="bottom")
    block = c1.selectbox("SE block", names, key="ch_block_box")
    if st.session_state.get("ch_number", 0) >= widths[block]:  # another block, fewer channels
        st.session_state["ch_number"] = widths[block] - 1
    channel = int(c2.number_input("Channel", 0, widths[block] - 1, key="ch_number"))
    if (block, channel) != asked:  # chosen in the boxes (or clamped): into the URL, no longer to be followed
        choose(block, channel)
        st.session_state["_ch_pick"] = (block, channel)
    head.markdown(f"### Channel {channel} of {block}: which images open and close its gate")
    bar = st.progress(0.0, text="Ranking the images by this gate…")

    def progress(done: int, total: int, queued: bool = False) -> None:
        text = budget.QUEUED if queued else f"Ranking the images by this gate: {done} / {total}"
        bar.progress(0.0 if queued else done / max(total, 1), text=text)

    # this server reads at most MAX_IMAGES_PER_REQUEST images a request: a seeded share of each class beyond that
    per_class = budget.images_per_class(config.MAX_IMAGES_PER_REQUEST, len(classes) or len(sel.loaded.labels))
    try:
        ranking = cache.in_worker(cache.gate_ranking, sel.model_key, source, folder, classes, block, per_class,
                                  show=progress)
        r = cache.channel_ranking(sel.model_key, source, folder, classes, block, per_class, channel, K)
    except (SEExplorerError, OSError) as err:
        st.error(f"Could not rank the images of this data by the gate: {access.scrub(str(err))}")
        return
    finally:
        bar.empty()
    if len(ranking.index) < ranking.available:
        st.caption(f"This server ranks at most {config.MAX_IMAGES_PER_REQUEST} images a request: these are "
                   f"{len(ranking.index)} of the data's {ranking.available} ({per_class} per class at most, drawn "
                   "with a fixed seed).")
    group = c3.selectbox("Images of", ["all", *r.classes], key="ch_group",
                         format_func=lambda g: "every class" if g == "all" else g)
    c4.button("Close", key="ch_close", icon=":material/close:", on_click=close)
    st.info(channel_reading(r, markdown=True), icon=":material/insights:")
    if note:
        st.caption(note)
    left, right = st.columns([1.1, 2], gap="small")
    with left:
        hist = cache.built("ch_hist", (sel.model_key, source, folder, classes, block, per_class, channel),
                           lambda: gate_histogram(r))
        ui.chart(hist, "ch_hist", f"gate histogram {block} ch {channel}", downloads=False)
    with right:
        for top in (True, False):
            listed, views = cache.channel_cams(sel.model_key, source, folder, classes, block, per_class, channel,
                                               K, group, top)
            word = "highest" if top else "lowest"
            where = "" if group == "all" else f" among {group} images"
            fig = cache.built("ch_gallery", (sel.model_key, source, folder, classes, block, per_class, channel, group,
                                             top),
                              lambda listed=listed, views=views, word=word, where=where: channel_gallery(
                                  _tiles(sel, listed, views), f"The {len(listed)} {word} gates{where}"))
            ui.chart(fig, f"ch_gallery_{word}", f"{word} gates {block} ch {channel}", downloads=False)
    st.caption(f"Each column is one image of {r.data}: the image as the model saw it, U (the channel's map before "
               "the gate), s·U (after it; one colour scale for every map, so a faded s·U is a channel the gate "
               f"turned down) and Grad-CAM at {block} for the predicted class. Gates are from a pass of each image "
               "alone, the values the Image view shows for it.")
