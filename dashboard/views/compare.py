"""Compare view: two models (or a model and its untrained control) on the same axes, with a reading; and the kinds
of channel attention trained on the same data (SE, ECA, CBAM), class-specificity against depth."""
from __future__ import annotations

import streamlit as st

import se_models
from dashboard import ui, wording
from dashboard.panels.stats import CHANNELS, stats_downloads, stats_for
from dashboard.state import cache, modelkeys, urlstate
from se_models.findings import readings
from se_models.findings.attention import kinds_reading
from se_models.hooks.naming import block_position, kinds_of
from se_models.plots import figures


def _label(key: str) -> str:
    return cache.model_label(key)


def _options() -> list[str]:
    """Every bundled model and its control, and the ImageNet zoo models that have reference statistics."""
    bundled = se_models.list_models()
    zoo = [n for n in se_models.list_models(imagenet=True) if n not in bundled and cache.reference(n) is not None]
    return modelkeys.model_options(bundled + zoo)


def _kind(name: str) -> tuple[str, ...]:
    """The kinds of attention in a model's blocks, ('SE',), ('ECA',), ..., read from its reference statistics'
    block names; () without them."""
    ref = cache.reference(name)
    return tuple(kinds_of([b.name for b in ref.blocks])) if ref else ()


def _default_b(key: str, options: list[str]) -> str:
    """Another trained model of the same kind of attention when there is one (CIFAR-10 vs Fashion-MNIST SE), else
    another trained model, else the model's own control."""
    name = modelkeys.ModelKey.from_option(key).name
    others = [o for o in options if not modelkeys.is_control(o) and o != name]
    same = [o for o in others if _kind(modelkeys.ModelKey.from_option(o).name) == _kind(name)]
    return (same or others)[0] if others else (name if modelkeys.is_control(key) else name + modelkeys.CONTROL)


def _stats(key: str):
    """Reference statistics as shown for a model key; None if missing."""
    name = modelkeys.ModelKey.from_option(key).name
    ref = cache.reference(name)
    return stats_for(ref, modelkeys.is_control(key)) if ref else None


def kind_models(name: str) -> dict[str, str]:
    """Models with reference statistics trained on `name`'s data, by kind of attention: {label: model name}, in
    the order of list_models (bundled first); empty unless at least two kinds are there."""
    dataset = cache.card(name).dataset
    found, kinds = {}, set()
    for other in se_models.list_models(imagenet=True):
        ref = cache.reference(other)
        if ref is None or cache.card(other).dataset != dataset or ref.weights == "random":
            continue
        kinds.add(_kind(other))
        found[f"{'+'.join(_kind(other))} · {_label(other)}"] = other
    return found if len(kinds) > 1 else {}


def _kinds_section(name: str) -> None:
    """Every kind of attention trained on this model's data: the depth chart of all of them (trained solid, controls
    dashed) and the reading: does each become class-specific with depth as SE does?"""
    models = kind_models(name)
    if not models:
        return
    refs = {label: cache.reference(m) for label, m in models.items()}
    st.markdown(f"### Kinds of channel attention on {wording.dataset_name(cache.card(name))}: class-specific with "
                "depth?")
    st.info(kinds_reading(refs, markdown=True), icon=":material/insights:")
    first, *rest = refs.items()
    fig = cache.built("cmp_kinds", tuple(models.values()),
                      lambda: figures.specificity_vs_depth(first[1], others=dict(rest), label=first[0]))
    ui.chart(fig, "cmp_kinds", f"compare kinds {name}")
    st.caption("The same data and training recipe, another channel attention in the SE block's place; reference "
               "statistics over each model's whole test split, each with its untrained control (dashed). Blocks are "
               "placed by stage and index (4_3 = the last block of stage 4), whatever their kind.")


def _follow_sidebar(key: str, options: list[str]) -> None:
    """A model newly picked in the sidebar becomes model A (a shared link's model A stands on the first run)."""
    last = st.session_state.get("_cmp_sidebar")
    st.session_state["_cmp_sidebar"] = key
    if last is not None and last != key and key in options:
        st.session_state["cmp_a"] = key


def _show_epochs(name: str) -> None:
    """Before the next run: the sidebar's model becomes `name`, the Classes view's data its reference statistics."""
    st.session_state["model"] = name
    st.session_state["source"] = "reference"


def _epoch_links(models: list[str]) -> None:
    """For each model compared that was trained with statistics of every epoch: a way to its epochs in the Classes
    view (the epoch slider and the heat map of how its gates learned)."""
    with st.container(horizontal=True, gap="small"):
        for name in models:
            history = cache.epochs(name)
            if history is None:
                continue
            label = _label(name).rsplit(" · ", 1)[0]  # the dataset's name, without "trained"
            if st.button(f"How the {label} gates learned, epochs {history.numbers[0]}–{history.last}",
                         key=f"cmp_epochs_{name}", icon=":material/timeline:", on_click=_show_epochs, args=(name,),
                         help="The Classes view with this model: an epoch slider over Fig. 6 and the heat map of "
                              "class divergence per block and epoch."):
                st.switch_page(ui.page("classes"))


def render() -> None:
    sel = ui.selection()
    options = _options()
    st.markdown("## Compare two models")
    st.caption("Same axes for both: a model against another (e.g. CIFAR-10 against Fashion-MNIST) or against its "
               "untrained control. Reference statistics over each model's whole test split.")
    current = str(sel.model_key)  # a picker option, unless the weights are a file (never offered here)
    if current not in options:
        st.caption(f"{_label(sel.model_key)} has no reference statistics, so it is not offered here: its class curves "
                   "can be computed from a folder of images in the Classes view.")
    _follow_sidebar(current, options)
    c1, c2 = st.columns(2)
    a_key = urlstate.selectbox(c1, "Model A", options, "cmp_a",
                               index=options.index(current) if current in options else 0,
                               format_func=_label)
    default_b = _default_b(a_key, options)
    b_key = urlstate.selectbox(c2, "Model B", options, "cmp_b", index=options.index(default_b), format_func=_label)
    if a_key == b_key:
        st.info("Model A and model B are the same: pick another model B to compare.")
    a, b = _stats(a_key), _stats(b_key)
    missing = [_label(k) for k, s in ((a_key, a), (b_key, b)) if s is None]
    if missing:
        st.warning(f"No reference statistics for {', '.join(missing)}: compute them with "
                   "`python -m se_models reference` and reload.")
        return

    # what is picked is what is drawn: a trained model (solid) with its control (dashed), an untrained one on its own
    # (open markers, nothing learned); an untrained key whose trained model is the other pick is its dashed line
    trained = {modelkeys.ModelKey.from_option(k).name for k in (a_key, b_key) if not modelkeys.is_control(k)}
    series = {_label(k).rsplit(" · ", 1)[0]: s for k, s in ((a_key, a), (b_key, b))
              if not (modelkeys.is_control(k) and modelkeys.ModelKey.from_option(k).name in trained)}
    first, *rest = series.items()
    depth = cache.built("cmp_depth", (a_key, b_key),
                        lambda: figures.specificity_vs_depth(first[1], others=dict(rest), label=first[0]))
    names_a, names_b = [x.name for x in a.blocks], [x.name for x in b.blocks]
    # blocks of both models, matched by position so that SE_4_3 stands beside ECA_4_3
    common = [n for n in names_a if block_position(n) in set(map(block_position, names_b))] or names_a
    st.markdown("### Class-specificity against depth")
    ui.chart(depth, "cmp_depth", f"compare specificity {a_key} {b_key}")
    _kinds_section(modelkeys.ModelKey.from_option(a_key).name)
    _epoch_links(sorted(trained))

    st.markdown("### The same block, side by side")
    d1, d2 = st.columns([1, 2], vertical_alignment="bottom")
    block = urlstate.bound(d1, "SE block", common, "cmp_block", index=len(common) - 1)
    channels = urlstate.segmented_control(d2, "Channels", list(CHANNELS), "cmp_channels", "sampled",
                                          format_func=CHANNELS.get, required=True) or "sampled"
    st.info(readings.compare_reading(_label(a_key), a, _label(b_key), b, block, markdown=True),
            icon=":material/insights:")
    left, right = st.columns(2, gap="medium")
    for col, key, stats, tag in ((left, a_key, a, "a"), (right, b_key, b, "b")):
        own = next((x.name for x in stats.blocks if block_position(x.name) == block_position(block)), None)
        with col:
            if own is not None:
                def build(stats=stats, key=key, own=own):
                    labels = cache.card(modelkeys.ModelKey.from_option(key).name).labels
                    fig = figures.class_curves(stats, blocks=[own], channels=channels, cols=1, legend_below=True,
                                               labels=labels)
                    return fig.update_layout(title=dict(text=_label(key)))
                fig = cache.built("cmp_curves", (key, own, channels), build)
                ui.chart(fig, f"cmp_curves_{tag}", f"class curves {own} {key}")
            else:
                st.caption(f"{_label(key)} has no block {block}.")
            stats_downloads(stats, f"cmp_dl_{tag}", _label(key))
