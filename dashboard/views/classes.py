"""Classes view: the paper's Fig. 6 (and Fig. 7) from reference or live statistics, and specificity vs depth."""
from __future__ import annotations

import os
from dataclasses import replace

import streamlit as st

from dashboard import ui, wording
from dashboard.panels import ablation
from dashboard.panels import channel as channelpanel
from dashboard.panels.stats import CHANNELS, stats_downloads, stats_for
from dashboard.safety import access, budget, uploads
from dashboard.state import cache, urlstate
from se_models import config
from se_models.errors import SEExplorerError, UnknownClassError
from se_models.findings import epochs as epochs_reading
from se_models.findings import readings
from se_models.hooks.naming import has_stages
from se_models.plots import epochs as epochs_figures
from se_models.plots import figures

SOURCES = {"reference": "Reference statistics (instant)", "bundled": "Bundled samples", "folder": "Your images",
           "test": "Downloaded test set"}
PAPER_PER_CLASS = 50  # the paper's Fig. 6: 50 validation images per class, 50 uniformly sampled channels
PAPER_CLASSES = "goldfish, pug, airliner and cliff"  # Fig. 6's goldfish, pug, plane and cliff, as ImageNet names
PRESET_PANEL_PX = 165  # with the paper's preset, two rows of panels end above 720 px: the deepest block on screen


def _folder_howto(sel) -> None:
    """What to do without a folder: its layout, the paper's classes, and the same figure from the command line."""
    where = ("Type the path of a folder on this server, or upload a zip, laid out" if access.server_paths_allowed()
             else "Upload a zip of images laid out")
    if sel.card.dataset == "imagenet":  # the paper's classes are ImageNet's: a hint for ImageNet models only
        example = f"For the paper's Fig. 6: {PAPER_PER_CLASS} ImageNet validation images each of {PAPER_CLASSES}."
    else:
        labels = sel.loaded.labels
        example = (f"The folder names are {wording.dataset_name(sel.card)}'s class names "
                   f"({', '.join(labels[:3])}{', …' if len(labels) > 3 else ''}), e.g. {PAPER_PER_CLASS} images each.")
    st.info(f"{where} as DIR/<class>/<image> (class names as folder names). {example} The same figure from the "
            "command line:", icon=":material/folder_open:")
    st.code(wording.stats_command(sel.model_key), language="bash", wrap_lines=True)


def _live(sel, source: str, images: uploads.Folder, classes: list[str], per_class: int, control: bool):
    """Compute (or fetch from the cache) statistics with a progress bar; None and an st.error on failure."""
    folder = images.path
    if source == "folder" and not folder:
        _folder_howto(sel)
        return None
    n_classes = len(classes) or _class_count(sel, source, folder)
    allowed = budget.images_per_class(per_class, n_classes)
    if allowed < per_class:
        st.info(f"This server computes at most {config.MAX_IMAGES_PER_REQUEST} images a request, so {allowed} "
                f"images per class are used for these {n_classes} classes (not {per_class}).",
                icon=":material/speed:")
        per_class = allowed
    bar = st.progress(0.0, text="Computing excitation statistics…")
    passes = {"n": 1, "last": 0}

    def progress(done: int, total: int, queued: bool = False) -> None:
        if queued:
            bar.progress(0.0, text=budget.QUEUED)
            return
        if not total:
            bar.progress(0.0, text="Loading the model and the images…")
            return
        if done < passes["last"]:  # the untrained control's pass starts over
            passes["n"] += 1
        passes["last"] = done
        what = "untrained control" if passes["n"] > 1 else "trained model"
        bar.progress(done / max(total, 1), text=f"{what}: {done} / {total} images")

    try:
        stats = cache.in_worker(cache.live_stats, sel.model_key, source, folder, tuple(classes), per_class, control,
                                show=progress)
    except (SEExplorerError, OSError) as err:
        unknown_class = isinstance(err, UnknownClassError)
        hint = " Leave Classes empty to use every class of the folder." if source == "folder" and unknown_class else ""
        st.error(wording.sentence(f"Could not compute statistics: {access.scrub(str(err), images.known())}") + hint)
        return None
    finally:
        bar.empty()
    # the skipped files by the names the user knows (their folder as typed, or the zip's name), in the page and in
    # the JSON export alike
    stats = replace(stats, skipped=[access.scrub(s, images.known()) for s in stats.skipped])
    skipped = images.skipped + stats.skipped
    if skipped:
        st.warning(f"{len(skipped)} unreadable image(s) skipped, e.g. {skipped[0]}")
    for note in stats.sample_notes():  # too few images, or fewer than asked for
        st.warning(note, icon=":material/warning:")
    # the data is named as the user knows it: an upload's or the samples' folder is the server's business, and so is
    # the path of a weights file
    label = images.label or {"bundled": f"bundled {sel.card.dataset} samples"}.get(source, stats.data)
    stats = replace(stats, data=label, weights=str(sel.model_key) if sel.model_key.weights == "file" else stats.weights)
    return stats


def _class_count(sel, source: str, folder: str) -> int:
    """How many classes a request over every class of its data reads: the model's, or a folder's sub-folders."""
    if source != "folder":
        return len(sel.loaded.labels)
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if e.is_dir()) or 1
    except OSError:  # said by the statistics' own error, below
        return 1


def _paper_preset(names: list[str]) -> None:
    """Fig. 6's settings into the widgets' state, before they are drawn (they are locked while the preset is on)."""
    preset = dict(blocks=figures.default_blocks(names), classes=[], per_class=PAPER_PER_CLASS, channels="sampled",
                  spread=False)
    # only what differs from the state (or, unset, from the widget defaults, which are the preset): a widget given a
    # default whose value is also set through Session State makes Streamlit warn
    st.session_state.update({k: v for k, v in preset.items() if st.session_state.get(k, v) != v})
    st.session_state.setdefault(urlstate.SEEDED, set()).update(preset)  # the preset beats the URL


def _controls(sel, names: list[str]) -> dict:
    """The figure's own switches above it, what data feeds it in the sidebar: at 1280x720 the chart then starts
    near the top of the page instead of below two rows of inputs."""
    loaded = sel.loaded
    sources = wording.data_sources(cache.reference(sel.name) is not None, bool(cache.samples(loaded.card.dataset)),
                                   loaded.card.dataset)
    stages = has_stages(names)
    r1, r2, r3 = st.columns([1.1, 2.3, 1.3], vertical_alignment="bottom")
    preset = urlstate.toggle(r1, "Paper Fig. 6 preset", "fig6", disabled=not stages,
                             help=f"The paper's Fig. 6: blocks {', '.join(figures.default_blocks(names))} (the last "
                                  "block of every stage and every block of the deepest stage), "
                                  f"{PAPER_PER_CLASS} images per class, {PAPER_PER_CLASS} uniformly sampled channels, "
                                  "every class of the data, and the mean over all classes (“all”)." if stages else
                                  "Needs a model with ResNet-style stages (SE_stage_block names).")
    preset = preset and stages
    if preset:
        _paper_preset(names)
    channels = urlstate.segmented_control(r2, "Channels", list(CHANNELS), "channels", "sampled",
                                          format_func=CHANNELS.get, required=True, disabled=preset,
                                          help="Which channels each panel draws: 50 spread evenly over the block (as "
                                               "in the paper), the 50 whose class means differ most, or all.")
    spread = urlstate.toggle(r3, "Mean ± std (Fig. 7)", "spread", disabled=preset,
                             help="Bands of ± one standard deviation over the images of each class: the paper's "
                                  "Fig. 7.")
    with st.sidebar:
        st.subheader("Data for the curves")
        if sources[0] == "folder":
            st.caption(f"{sel.name} ships no reference statistics and no sample images, so its statistics are "
                       "computed here from a local folder of images.")
        source = urlstate.selectbox(st, "Data", sources, "source", format_func=SOURCES.get,
                                    help="Reference statistics: the whole test split, computed when the model was "
                                         "trained. The others are computed now, on this machine.")
        folder = uploads.folder() if source == "folder" else uploads.Folder()
        classes = urlstate.multiselect(st, "Classes", loaded.labels, "classes", placeholder="all classes",
                                       disabled=preset,
                                       help="Empty = every class. (The paper's Fig. 6 shows 4 diverse ImageNet "
                                            "classes.)")
        blocks = urlstate.multiselect(st, "SE blocks", names, "blocks", default=figures.default_blocks(names),
                                      disabled=preset,
                                      help="Default, as in the paper: the last block of every stage and every block "
                                           "of the deepest stage.")
        per_class = urlstate.number_input(st, "Images per class", 2, 5000, PAPER_PER_CLASS, 10, key="per_class",
                                          disabled=source == "reference" or preset,
                                          help="The paper averaged 50 validation images per class.")
        control = source != "reference" and not sel.is_control and urlstate.toggle(
            st, "Also compute the untrained control (twice the time)", "live_control", value=True)
    note = None
    if preset:  # the caption says what is drawn (under the figure, which then starts high enough to end on screen)
        images = (f"{PAPER_PER_CLASS} images per class" if source != "reference" else
                  f"every image of the test split (the reference statistics) instead of the paper's {PAPER_PER_CLASS} "
                  "per class — choose another data source for that")
        note = (f"Paper Fig. 6: {', '.join(figures.default_blocks(names))} · {images} · {PAPER_PER_CLASS} "
                "uniformly sampled channels · every class of the data · the dashed “all” line. Turn the preset off "
                "to change them.")
    return dict(note=note, source=source, classes=classes, per_class=int(per_class), folder=folder.path, images=folder,
                channels=channels or "sampled", spread=spread, blocks=blocks, control=control, preset=preset)


def _epoch_slider(history) -> int:
    """The epoch whose statistics the view shows (default: the last, the shipped weights), with what it is."""
    e1, e2 = st.columns([3, 2], vertical_alignment="center")
    epoch = urlstate.slider(e1, "Training epoch", history.numbers[0], history.last, history.last, key="epoch",
                            help="The reference statistics of the weights after this many epochs of training (0 = the "
                                 "initialisation). The last epoch is the shipped model.")
    e2.caption(epochs_reading.epoch_caption(history, epoch))
    return epoch


def _learning(sel, history, epoch: int, name: str) -> None:
    """The depth chart over training: divergence per (block, epoch), each cell's verdict, and when each stage
    became learned."""
    st.info(epochs_reading.epochs_reading(history, markdown=True), icon=":material/timeline:")
    if not history.last_is_model:
        st.caption(f"These epochs come from a training run whose last weights are not {sel.name}'s own, so the "
                   "curves above stay the model's and no slider is offered.")
    heat = cache.built("epochs_heat", (sel.name, epoch),
                       lambda: epochs_figures.divergence_heatmap(history, selected=epoch,
                                                                 title=f"How the gates learned — {name}"))
    ui.chart(heat, "cls_epochs", f"epochs {sel.name}")
    st.caption("Each cell is one block at one epoch, coloured by its class divergence over the whole test split. "
               "● class-specific, i.e. learned: " + readings.LEARNED_RULE + "; ○ above chance only; blank: not "
               "distinguishable from chance. The outlined column is the epoch the slider shows above; the line on "
               "top is the test accuracy the training run measured after each epoch.")


def render() -> None:
    sel = ui.selection()
    names = list(sel.loaded.se_blocks)
    st.markdown("## Excitations across classes (paper Fig. 6)")
    opts = _controls(sel, names)
    history = epoch = None
    if opts["source"] == "reference":
        full = cache.reference(sel.name)
        if full is None:
            st.warning("This model ships no reference statistics: choose another data source above.")
            return
        shown = stats_for(full, sel.is_control)  # the untrained model's own numbers, never the trained one's
        history = None if sel.is_control else cache.epochs(sel.name)
        if history is not None and history.last_is_model and len(history.numbers) > 1:  # ends at the model
            epoch = _epoch_slider(history)
            if epoch != history.last:  # the last epoch is the shipped weights: the reference itself
                shown = history.at(epoch)
        curves = shown.subset(opts["classes"]) if opts["classes"] else shown
    else:
        shown = _live(sel, opts["source"], opts["images"], opts["classes"], opts["per_class"], opts["control"])
        if shown is None:
            return
        curves = shown
    label = cache.model_label(sel.model_key)
    # live statistics are keyed by their own parameters; reference ones by the model alone
    live = opts["source"] != "reference"
    data_key = (opts["source"], opts["folder"], opts["per_class"], opts["control"]) if live else ("reference", epoch)
    if opts["blocks"]:
        fig = cache.built("curves", (sel.model_key, *data_key, tuple(opts["classes"]), tuple(opts["blocks"]),
                                     opts["channels"], opts["spread"], opts["preset"]),
                          lambda: figures.class_curves(
                              curves, blocks=opts["blocks"], channels=opts["channels"], spread=opts["spread"],
                              title=label if epoch is None else f"{label}, epoch {epoch}", labels=sel.loaded.labels,
                              panel_px=PRESET_PANEL_PX if opts["preset"] else 300, selectable=True))
        event = ui.chart(fig, "cls_curves", f"class curves {sel.model_key}", select=True)
        channelpanel.follow(event, fig)
        if opts["note"]:
            st.caption(opts["note"])
        st.caption("Each panel is one SE block; each line is the average gate value s per channel over the images "
                   "of one class; the dashed black line is the mean over all classes. Shallow → deep reads left to "
                   "right, top to bottom. Hover a line for class, channel and value; click a legend entry to hide a "
                   "class, double-click to isolate it; **click a line to see which images open and close that "
                   "channel's gate**.")
    else:  # an empty chip list draws nothing, rather than silently the default blocks
        st.info("No SE block chosen: pick at least one under *SE blocks* to draw the class curves.",
                icon=":material/touch_app:")
    counts = ", ".join(f"{c} {n}" for c, n in curves.counts.items())
    st.caption(f"Data: {curves.data} — images per class: {counts}.")
    ranked_with = "" if epoch is None or epoch == history.last else (
        f"The images are ranked with the model's own weights (epoch {history.last}, the shipped ones), not epoch "
        f"{epoch}'s, whose weights are not shipped.")
    channelpanel.render(sel, {b.name: b.channels for b in shown.blocks}, opts["source"], opts["folder"] or "",
                        opts["classes"], ranked_with)

    st.markdown("### Is it class-specific? Class-specificity against depth")
    st.info(readings.specificity_reading(shown, markdown=True), icon=":material/insights:")
    name = wording.dataset_name(sel.card)  # the figure marks statistics of random weights as "untrained" itself
    where = st.tabs([f"How the gates learned, epochs {history.numbers[0]}–{history.last}",
                     "Against depth" + ("" if epoch is None else f" at epoch {epoch}")]) if history else \
        [st.container()] * 2
    if history:
        with where[0]:
            _learning(sel, history, epoch, name)
    with where[1]:
        depth = cache.built("depth", (sel.model_key, *data_key, tuple(opts["classes"]) if live else ()),
                            lambda: figures.specificity_vs_depth(shown, label=name))
        ui.chart(depth, "cls_depth", f"specificity vs depth {sel.model_key}")
        st.caption(f"Over all {len(shown.classes)} classes of this data. **Divergence**: how far apart the class "
                   "curves sit, in gate units; the dotted line is what shuffling the class labels reaches by chance "
                   "(99th percentile), the bars are 95 % bootstrap intervals. A filled marker is a block that is "
                   f"**class-specific**, i.e. learned: {readings.LEARNED_RULE}; the untrained network is drawn open "
                   "at every depth. **Probe**: held-out accuracy of a logistic regression reading the class from s. "
                   "**η²**: share of each channel's variance explained by the class. Solid: the model shown; dashed: "
                   "its untrained control, where measured.")
    stats_downloads(shown, "cls_dl", label)
    ablation.classes_panel(sel)
