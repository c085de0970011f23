"""Lesson view: a guided sequence for the projector, one idea per step, each a live figure with sentences computed
from its numbers; Back / Next, the step in the URL (?view=lesson&step=N)."""
from __future__ import annotations

import streamlit as st

import se_models
from dashboard import ui, wording
from dashboard.panels import stats as statspanel
from dashboard.state import cache, imageitems, modelkeys, urlstate
from se_models.findings import image as image_reading
from se_models.findings import lesson
from se_models.findings import transplant as tf
from se_models.plots import epochs as epochs_figures
from se_models.plots import figures
from se_models.plots import lesson as lf
from se_models.stats.ablation import ablate, stage_rows
from se_models.stats.stored import stored_tables

STEPS = {  # URL step number -> (short name on the step buttons, title)
    1: ("SE block", "Squeeze, excite, scale: one SE block on one image"),
    2: ("Two images", "Two images, a shallow and a deep block"),
    3: ("Fig. 6", "The paper's Fig. 6: the average gates of every class"),
    4: ("Depth", "Class-specific with depth? Trained vs untrained vs chance"),
    5: ("Ablation", "What do the gates buy? Switching SE off"),
    6: ("Grad-CAM", "Where is the evidence? Grad-CAM at the end of every stage"),
    # added after Grad-CAM rather than where they read best, so that shared links to earlier steps keep their step
    7: ("Transplant", "A dog's gates in a cat: does the network follow the gates?"),
    8: ("Training", "How the gates learned: class-specificity epoch by epoch"),
}
KEY = "step"
FIG_PX = 370       # the main figure's own height (exports, and before the browser stretches it to the screen)
THUMB_PX = 150
CAM_PX = 190
PAIR_CANDIDATES = 8  # images tried for step 2's second image (one batched forward pass)
FILL = "stretch"  # the step's figure height: the rest of the screen (CSS below)
# The step fills one screen, whatever its size: the page is a column as tall as the window below the navigation bar,
# and the step's figure (height "stretch") takes what the title and the sentences leave, never less than MIN_FIG.
MIN_FIG = 300
CSS = f"""<style>
.st-key-lesson_text p, .st-key-lesson_text li {{font-size: 1.22rem; line-height: 1.45}}
.st-key-lesson_head {{margin-top: 2rem}}  /* below the top navigation bar, which overlaps the page's padding */
.st-key-lesson_page {{flex: 0 0 auto; height: calc(100vh - 5.5rem); min-height: {MIN_FIG + 250}px}}
[data-testid="stLayoutWrapper"]:has(> .st-key-lesson_fig) {{flex: 1 1 0; min-height: {MIN_FIG}px}}
.st-key-lesson_fig {{height: 100%}}
.st-key-lesson_fig [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]) {{flex: 1 1 0; min-height: 0}}
.st-key-lesson_fig [data-testid="stLayoutWrapper"]:has(> [data-testid="stHorizontalBlock"]) {{flex: 1 1 0}}
.st-key-lesson_fig [data-testid="stHorizontalBlock"],
.st-key-lesson_fig [data-testid="stColumn"] > [data-testid="stVerticalBlock"] {{height: 100%}}
</style>"""


def _go(delta: int) -> None:
    st.session_state[KEY] = min(max(st.session_state.get(KEY, 1) + delta, 1), len(STEPS))


def _step() -> int:
    """The step: from the URL on the first run of the session, then from the buttons; written back to the URL."""
    done: set = st.session_state.setdefault(urlstate.SEEDED, set())
    if KEY not in done:  # urlstate.seed compares the URL's text with the options; the steps are ints
        done.add(KEY)
        if KEY in st.query_params:
            wanted = urlstate.number(st.query_params.get(KEY, ""), int, 1, len(STEPS))
            if wanted is None:  # "²", "inf", "9": the first step, and a notice
                urlstate.notice(KEY, st.query_params.get(KEY, ""))
            else:
                st.session_state[KEY] = wanted
    with st.container(horizontal=True, vertical_alignment="center", key="lesson_head"):
        st.button("Back", key="lesson_back", icon=":material/arrow_back:", on_click=_go, args=(-1,),
                  disabled=st.session_state.get(KEY, 1) <= 1)
        step = st.segmented_control("Step", list(STEPS), key=KEY, required=True,
                                    default=None if KEY in st.session_state else 1,
                                    format_func=lambda n: f"{n} · {STEPS[n][0]}", label_visibility="collapsed")
        st.button("Next", key="lesson_next", icon=":material/arrow_forward:", type="primary", on_click=_go,
                  args=(1,), disabled=(step or 1) >= len(STEPS))
    step = step or 1
    urlstate.publish(KEY, step)
    return step


def _say(text: str) -> None:
    """The step's sentences, in large type."""
    with st.container(key="lesson_text"):
        st.markdown(text)


def _images(sel):
    """The step-1 image (the sidebar's first) and the candidates for a second one: the other chosen images, then the
    demo photos and one test sample per class."""
    good, _ = imageitems.decode_items(sel.items, decode=lambda it: cache.decode(it.data, it.label))
    labels = tuple(sel.loaded.labels)
    dataset = sel.loaded.card.dataset
    extra = [cache.photo_item(p["file"], labels, dataset == "imagenet") for p in cache.photos()]
    seen_class = set()
    for path, folder in cache.samples(dataset):
        if folder not in seen_class:
            seen_class.add(folder)
            extra.append(cache.sample_item(imageitems.sample_id(path), dataset, labels))
    more, _ = imageitems.decode_items(extra, decode=lambda it: cache.decode(it.data, it.label))
    known = {item.digest for item, _ in good}
    return good, good[1:] + [(i, im) for i, im in more if i.digest not in known]


def _weights(sel) -> str:
    return "random" if sel.is_control or sel.loaded.weights == "random" else "trained"


def _stats(sel):
    """The reference statistics as shown for this model key, or None (and the reason said on screen)."""
    ref = cache.reference(sel.name)
    shown = statspanel.stats_for(ref, sel.is_control) if ref else None
    if shown is None:
        key = sel.model_key
        if _weights(sel) == "random":  # random weights learned no classes: point at the trained network instead
            _say(lesson.untrained_note("random") + "This step shows what training does to the gates, so it needs the "
                 "trained network and its class statistics over labelled images. Choose pretrained weights, and "
                 "compute the statistics with:")
            key = modelkeys.ModelKey.own(key.name)
        else:
            _say(f"This step needs class statistics over labelled images, and {cache.model_label(sel.model_key)} "
                 "has none yet, so it is skipped. They come from the command line:")
        st.code(wording.stats_command(key), language="bash", wrap_lines=True)
    return shown


def step_se(sel, item, img) -> None:
    names = list(sel.loaded.se_blocks)
    block = names[-1]
    m = cache.block_maps(sel.model_key, item.digest, img, block)
    rows, text = lesson.se_step(m.squeeze.tolist(), m.excitation.tolist(), block, tuple(m.before.shape[-2:]))
    _say(lesson.untrained_note(_weights(sel)) + text)
    c1, c2 = st.container(key="lesson_fig").columns([1, 6], gap="small")
    c1.image(imageitems.model_view_thumb(cache.model_view(sel.model_key, item.digest, img), sel.loaded.input_size[-1]),
             width=THUMB_PX - 30, caption=item.label)
    with c2:
        fig = cache.built("lesson_se", (sel.model_key, item.digest, block),
                          lambda: lf.se_block(m.squeeze, m.excitation, m.before, m.after, [r.channel for r in rows],
                                              block, FIG_PX))
        ui.chart(fig, "lesson_se", f"lesson SE block {item.label}", downloads=False, height=FILL)


def _same_class_partner(sel, item, img, others, cls: str):
    """A second image of the first image's true class `cls`: another chosen image or photo of it, else another
    bundled test sample of it; None when there is none at hand."""
    match = [(i, im) for i, im in others if i.true_class == cls and i.digest != item.digest]
    if match:
        return match[0]
    labels = tuple(sel.loaded.labels)
    dataset = sel.loaded.card.dataset
    for path, folder in cache.samples(dataset):
        if imageitems.sample_class(folder, list(labels)) != cls:
            continue
        cand = cache.sample_item(imageitems.sample_id(path), dataset, labels)
        if cand.digest != item.digest:
            good, _ = imageitems.decode_items([cand], decode=lambda it: cache.decode(it.data, it.label))
            if good:
                return good[0]
    return None


def step_pair(sel, item, img, others) -> None:
    loaded = sel.loaded
    names = list(loaded.se_blocks)
    shallow, deep = lesson.first_and_deepest(names)
    others = others[:PAIR_CANDIDATES]
    probs = cache.predictions(sel.model_key, tuple(i.digest for i, _ in [(item, img)] + others),
                              [img] + [im for _, im in others])
    first = int(probs[0].argmax())
    # each image's class: its true class where it has one (random weights predict one class for everything), else
    # the predicted one
    cls = [i.true_class or loaded.labels[int(p.argmax())] for (i, _), p in zip([(item, img)] + others, probs)]
    differ = [k for k in range(len(others)) if cls[k + 1] != cls[0]]
    known = [k for k in differ if others[k][0].true_class]
    right = [k for k in known if loaded.labels[int(probs[k + 1].argmax())] == others[k][0].true_class]
    pick = (right or known or differ or [None])[0]  # a correctly classified image of another class reads best
    if pick is None:
        _say("Every image at hand is of the same class, so there is no pair of different classes to compare: choose "
             "images of two classes in the sidebar.")
        return
    other, other_img = others[pick]
    pair = [(item, img, first), (other, other_img, int(probs[pick + 1].argmax()))]
    runs = [cache.analysis(sel.model_key, i.digest, im, None) for i, im, _ in pair]
    tags = tuple(f"{i.label} → {loaded.labels[p]}" for i, _, p in pair)
    gates = {b: (runs[0].excitation[b].tolist(), runs[1].excitation[b].tolist()) for b in (shallow, deep)}
    same, same_gates, same_tags = None, None, None
    # a real same-class pair needs the first image's true class; else the class spread of its predicted class
    partner = _same_class_partner(sel, item, img, others, item.true_class) if item.true_class else None
    if partner is not None:
        p_item, p_img = partner
        run = cache.analysis(sel.model_key, p_item.digest, p_img, None)
        same_tags = (item.label, p_item.label)
        same_gates = {b: (runs[0].excitation[b].tolist(), run.excitation[b].tolist()) for b in (shallow, deep)}
        same = lesson.same_pair(same_tags, same_gates)
    else:
        stats = _reference_quietly(sel)
        if stats is not None and all(cls[0] in stats.block(b).class_stds for b in (shallow, deep)):
            same = lesson.same_estimate(cls[0], {b: stats.block(b).class_stds[cls[0]] for b in (shallow, deep)},
                                        stats.counts.get(cls[0], 0))
    dist, text = lesson.pair_step(tags, gates, shallow, deep, same)
    _say(lesson.untrained_note(_weights(sel)) + text)
    c1, c2 = st.container(key="lesson_fig").columns([1, 6], gap="small")
    shown = pair + ([(partner[0], partner[1], None)] if partner is not None else [])
    for i, im, p in shown:
        c1.image(imageitems.model_view_thumb(cache.model_view(sel.model_key, i.digest, im), loaded.input_size[-1]),
                 width=THUMB_PX - 70 if partner is not None else THUMB_PX - 50,
                 caption=f"{i.label} → {loaded.labels[p]}" if p is not None else i.label)
    with c2:
        fig = lf.gate_pair(gates, tags, dist, FIG_PX, same_gates, same_tags)
        ui.chart(fig, "lesson_pair", "lesson two images", downloads=False, height=FILL)


def _reference_quietly(sel):
    """The reference statistics as shown for this model key, or None (nothing said)."""
    ref = cache.reference(sel.name)
    return statspanel.stats_for(ref, sel.is_control) if ref else None


def step_fig6(sel) -> None:
    stats = _stats(sel)
    if stats is None:
        return
    shallow, deep = lesson.first_and_deepest(stats)
    _say(lesson.fig6_step(stats))  # random weights: the findings say what they are
    label = cache.model_label(sel.model_key)
    fig = cache.built("lesson_fig6", (sel.model_key,), lambda: lf.projector(figures.class_curves(
        stats, blocks=[shallow, deep], cols=2, labels=sel.loaded.labels), FIG_PX).update_layout(
        title=dict(text=f"Average gate per channel and class — {label}", font=dict(size=17), y=0.99,
                   yanchor="top"), margin=dict(t=70, b=50)))
    with st.container(key="lesson_fig"):
        ui.chart(fig, "lesson_fig6", f"lesson fig6 {sel.model_key}", downloads=False, height=FILL)


def step_depth(sel) -> None:
    stats = _stats(sel)
    if stats is None:
        return
    _say(lesson.depth_step(stats))
    name = wording.dataset_name(sel.card)
    fig = cache.built("lesson_depth", (sel.model_key,), lambda: lf.projector(figures.specificity_vs_depth(
        stats, label=name), FIG_PX))
    with st.container(key="lesson_fig"):
        ui.chart(fig, "lesson_depth", f"lesson depth {sel.model_key}", downloads=False, height=FILL)


def step_epochs(sel) -> None:
    if sel.is_control or sel.loaded.weights == "random":
        _say(lesson.untrained_note("random") + "This step replays how training made the gates class-specific, so it "
             "needs the trained network.")
        return
    history = cache.epochs(sel.name)
    if history is None:
        _say(f"{cache.model_label(sel.model_key)} was trained without statistics of every epoch, so there is no "
             "training to replay: `python -m se_models train --epoch-stats` records them, and `python -m se_models "
             "epochs --compute DIR` makes them from kept epoch weights.")
        return
    _say(lesson.epochs_step(history))
    name = wording.dataset_name(sel.card)
    # the map alone (no accuracy line), its margins without the legend row projector() leaves below other figures
    fig = cache.built("lesson_epochs", (sel.name,), lambda: lf.projector(epochs_figures.divergence_heatmap(
        history, title=f"How the gates learned — {name}", accuracy=False), FIG_PX).update_layout(
        margin=dict(b=50, t=70)))
    with st.container(key="lesson_fig"):
        ui.chart(fig, "lesson_epochs", f"lesson epochs {sel.name}", downloads=False, height=FILL)


def step_ablation(sel) -> None:
    try:
        from se_models.plots.ablation import ablation_chart
        from se_models.stats.stored import stored_tables
    except ImportError:  # the ablation is not part of this version of the library
        _say("The SE ablation is not available in this version, so this step has nothing to show yet.")
        return
    if sel.is_control or sel.loaded.weights == "random":
        _say(lesson.untrained_note("random") + "Switching SE off in a network that never learned anything measures "
             "nothing: this step needs trained weights.")
        return
    tables = stored_tables(sel.name)
    if not tables:
        _say(f"No stored ablation for {cache.model_label(sel.model_key)}: `python -m se_models ablate --model "
             f"{sel.name} --data DIR` computes one.")
        return
    _say(lesson.ablation_step(tables, cache.reference(sel.name)))
    fig = cache.built("lesson_ablation", (sel.name,), lambda: lf.projector(ablation_chart(tables), FIG_PX))
    with st.container(key="lesson_fig"):
        ui.chart(fig, "lesson_ablation", f"lesson ablation {sel.name}", downloads=False, height=FILL)


def step_cam(sel, item, img) -> None:
    loaded = sel.loaded
    a = cache.analysis(sel.model_key, item.digest, img, sel.target)
    target = loaded.labels[a.target]
    _, text = lesson.cam_step({b: c.numpy() for b, c in a.cams.items()}, target, a.grids)
    _say(lesson.untrained_note(_weights(sel)) + text)
    view = cache.model_view(sel.model_key, item.digest, img)
    cols = st.columns(len(a.cams) + 1, gap="small")
    # every picture as wide as its column: 3 stages (bundled models) or 4 (ImageNet) fit the same row
    cols[0].image(imageitems.model_view_thumb(view, loaded.input_size[-1]), width="stretch",
                  caption=f"{item.label} → {loaded.labels[a.predicted]}")
    for col, (block, cam) in zip(cols[1:], a.cams.items()):
        col.image(cache.overlay_jpeg(sel.model_key, item.digest, a.target, block, 0.5, CAM_PX, view, cam),
                  width="stretch", caption=lesson.stage_label(block))
    unlikely = image_reading.cam_finding(target, float(a.probs[a.target]), loaded.labels[a.predicted])
    st.caption(f"Grad-CAM — {image_reading.cam_label(target, float(a.probs[a.target]))}; change the class in the "
               "sidebar. Red: where the evidence lies; blue: none. " + unlikely.text)


@st.cache_data(show_spinner=False, max_entries=32)
def _transplanted(model_key: str, digest: str, _image, blocks: tuple[str, ...], donor: str) -> dict[str, float]:
    """Class probabilities of one image with `donor`'s mean gates (reference statistics, by true label over the test
    split) in `blocks`: the ablation's fixed-gate override, one forward pass."""
    loaded = cache.model(model_key)
    ref = cache.reference(loaded.name)
    gates = {b: ref.block(b).class_means[donor] for b in blocks}
    with ablate(loaded, list(blocks), "mean", gates):
        probs = se_models.predict(loaded, [_image])[0]
    return dict(zip(loaded.labels, probs.tolist()))


def _cat(sel, good) -> tuple:
    """The step's image: the first chosen image of class cat, else the demo photo of a cat, else the first chosen
    image (the classes are then chosen from what the network says)."""
    for item, img in good:
        if item.true_class == "cat":
            return item, img
    if "cat" in sel.loaded.labels:
        photo = next((p for p in cache.photos() if p.get("cifar10") == "cat"), None)
        if photo is not None:
            item = cache.photo_item(photo["file"], tuple(sel.loaded.labels), sel.loaded.card.dataset == "imagenet")
            return item, cache.decode(item.data, item.label)
    return good[0]


def step_transplant(sel, good) -> None:
    stats = _stats(sel)
    if stats is None:
        return
    if sel.is_control or sel.loaded.weights == "random":
        _say(lesson.untrained_note("random") + "Its gates learned no classes, so there is no cat's or dog's gate to "
             "move: this step needs trained weights.")
        return
    loaded = sel.loaded
    item, img = _cat(sel, good)
    before = dict(zip(loaded.labels, cache.predictions(sel.model_key, (item.digest,), [img])[0].tolist()))
    deep_stage, deep_blocks = [r for r in stage_rows([b.name for b in stats.blocks]) if r[0] != "all blocks"][-1]
    cat, dog, chosen = tf.lesson_classes(loaded.labels, max(before, key=before.get),
                                         stats.block(deep_blocks[-1]).class_means)
    afters = {where: _transplanted(sel.model_key, item.digest, img, tuple(blocks), dog)
              for where, blocks in ((deep_stage, deep_blocks), ("all blocks", [b.name for b in stats.blocks]))}
    tables = stored_tables(sel.name) or {}
    _say(tf.transplant_step(cat, dog, before, afters, chosen, tables.get("transplant")))
    c1, c2 = st.columns([1, 6], gap="small")
    c1.image(imageitems.model_view_thumb(cache.model_view(sel.model_key, item.digest, img), loaded.input_size[-1]),
             width=THUMB_PX - 30, caption=item.label)
    probs = {"as trained": before, **{f"{dog}'s gates in {where}": p for where, p in afters.items()}}
    with c2:
        fig = lf.transplant_bars(probs, cat, dog, FIG_PX - 40)
        ui.chart(fig, "lesson_transplant", f"lesson transplant {item.label}", downloads=False)
    st.caption(f"{dog}'s gates: the mean gate of every channel over the {dog} images of the test split (the reference "
               "statistics), put into the blocks named, in place of this image's own gates.")


def render() -> None:
    st.html(CSS)
    sel = ui.selection()
    with st.container(key="lesson_page"):
        _render(sel)


def _render(sel) -> None:
    step = _step()
    st.markdown(f"### {step} · {STEPS[step][1]}")
    if step in (3, 4):
        return (step_fig6 if step == 3 else step_depth)(sel)
    if step == 5:
        return step_ablation(sel)
    if step == 8:
        return step_epochs(sel)
    good, others = _images(sel)
    if not good:
        _say("No readable image yet: choose a photo, a test sample or an upload in the sidebar.")
        return
    item, img = good[0]
    if step == 1:
        step_se(sel, item, img)
    elif step == 2:
        step_pair(sel, item, img, others)
    elif step == 7:
        step_transplant(sel, good)
    else:
        step_cam(sel, item, img)
