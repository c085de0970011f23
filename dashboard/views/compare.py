"""Compare view: two models (or a model and its untrained control) on the same axes, with a reading."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

import se_models
from se_models import figures

from .. import cache, logic, reading, ui
from .classes import CHANNELS, stats_downloads


def _label(key: str) -> str:
    return cache.model_labels()[key]


def _default_b(key: str, options: list[str]) -> str:
    """Another trained model when there is one (CIFAR-10 vs Fashion-MNIST), else the model's own control."""
    name, _ = logic.parse_model_key(key)
    others = [o for o in options if not logic.is_control(o) and o != name]
    return others[0] if others else (name if logic.is_control(key) else name + logic.CONTROL)


def _stats(key: str):
    """Reference statistics as shown for a model key, labelled with the key's human name; None if missing."""
    name, _ = logic.parse_model_key(key)
    ref = cache.reference(name)
    shown = logic.stats_for(ref, logic.is_control(key)) if ref else None
    return replace(shown, model=_label(key)) if shown else None


def render() -> None:
    sel = ui.selection()
    options = logic.model_options(se_models.list_models())
    st.markdown("## Compare two models")
    st.caption("Same axes for both: a model against another (e.g. CIFAR-10 against Fashion-MNIST) or against its "
               "untrained control. Reference statistics over each model's whole test split.")
    c1, c2 = st.columns(2)
    a_key = c1.selectbox("Model A", options, index=options.index(sel.model_key), format_func=_label, key="cmp_a",
                         bind="query-params")
    default_b = _default_b(a_key, options)
    b_key = c2.selectbox("Model B", options, index=options.index(default_b), format_func=_label, key="cmp_b",
                         bind="query-params")
    if a_key == b_key:
        st.info("Model A and model B are the same: pick another model B to compare.")
    a, b = _stats(a_key), _stats(b_key)
    missing = [_label(k) for k, s in ((a_key, a), (b_key, b)) if s is None]
    if missing:
        st.warning(f"No reference statistics for {', '.join(missing)}: compute them with "
                   "`python -m se_models reference` and reload.")
        return

    same_model = logic.parse_model_key(a_key)[0] == logic.parse_model_key(b_key)[0]
    if same_model:
        # a model and its own control: one series, trained solid and control dashed, is exactly the comparison
        trained = a if not logic.is_control(a_key) else b
        control = b if trained is a else a
        depth = figures.specificity_vs_depth(replace(trained, control=control.blocks))
    else:
        depth = figures.specificity_vs_depth(a, others={b.model: b})
    names_a, names_b = [x.name for x in a.blocks], [x.name for x in b.blocks]
    common = [n for n in names_a if n in names_b] or names_a
    st.markdown("### Class-specificity against depth")
    ui.chart(depth, "cmp_depth", f"compare specificity {a_key} {b_key}")

    st.markdown("### The same block, side by side")
    d1, d2 = st.columns([1, 2], vertical_alignment="bottom")
    block = d1.selectbox("SE block", common, index=len(common) - 1, key="cmp_block", bind="query-params")
    channels = d2.segmented_control("Channels", list(CHANNELS), format_func=CHANNELS.get, default="sampled",
                                    key="cmp_channels", required=True) or "sampled"
    st.info(reading.compare_sentence(a.model, a, b.model, b, block), icon=":material/insights:")
    left, right = st.columns(2, gap="medium")
    for col, key, stats, tag in ((left, a_key, a, "a"), (right, b_key, b, "b")):
        with col:
            if block in [x.name for x in stats.blocks]:
                fig = figures.class_curves(stats, blocks=[block], channels=channels, cols=1)
                fig.update_layout(title=dict(text=f"{block} — {stats.model}", font=dict(size=15)))
                ui.chart(fig, f"cmp_curves_{tag}", f"class curves {block} {key}")
            else:
                st.caption(f"{stats.model} has no block {block}.")
            stats_downloads(stats, f"cmp_dl_{tag}")
