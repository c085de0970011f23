"""The "what happened here" panel: squeeze -> excitation -> scale, told with this image's own numbers (SE's
formulas, or the block's own kind of channel attention)."""
from __future__ import annotations

import streamlit as st

from dashboard import ui
from se_models.findings import image as image_reading
from se_models.findings import numbers as num
from se_models.hooks.blocks import se_dims
from se_models.hooks.naming import KIND_WORDS, block_kind

# how each other kind computes its gate from U: (formula, words); SE's is written out with its numbers below
EXCITE = {
    "ECA": (r"s = \sigma\!\left(\mathrm{conv1d}_k(z)\right)",
            "a 1-D convolution of kernel size k over neighbouring channels of z, k chosen from C; no reduction, no "
            "MLP"),
    "CECA": (r"s = \sigma\!\left(\mathrm{conv1d}_k^{\circ}(z)\right)",
             "ECA's 1-D convolution with circular padding: the last channel neighbours the first"),
    "GC": (r"s = \sigma\!\left(\mathrm{MLP}(c)\right),\; c = \textstyle\sum_j a_j u_j",
           "global context: c averages the positions j with attention weights a = softmax(w·u) instead of the "
           "plain mean, then an MLP with layer norm"),
    "GE": (r"s = \sigma\!\left(\mathrm{gather}_e(U)\right)",
           "gather-excite: the average over a neighbourhood of extent e (the whole map for a global extent), then an "
           "MLP where the module has one (the parameter-free GE-θ⁻ has none); a local extent gives a gate per "
           "position, read here as its mean"),
    "CBAM": (r"s = \sigma\!\left(\mathrm{MLP}(z) + \mathrm{MLP}(m)\right)",
             "CBAM's channel gate: one shared MLP over the channels' means z and their maxima m; a spatial gate "
             "follows (shown beside the feature maps)"),
}


def _num(x: float) -> str:
    return f"{x:.2f}".replace("-0.00", "0.00")


def _fmt(values: list[float], fmt=_num) -> str:
    return f"from **{fmt(min(values))}** to **{fmt(max(values))}** (mean {fmt(sum(values) / len(values))})"


def render(loaded, maps, class_mean: list[float] | None, class_name: str | None) -> None:
    """Three steps side by side, each with its formula and this image's numbers, then a per-channel table.

    maps: se_models.BlockMaps of the block shown."""
    block = maps.block
    z = maps.squeeze.tolist()
    s = maps.excitation.tolist()
    kind = block_kind(block) or "SE"
    channels, hidden = se_dims(dict(loaded.model.named_modules())[loaded.se_blocks[block]]) if kind == "SE" else \
        (len(s), None)
    h, w = maps.before.shape[-2:]
    up, down = image_reading.extreme_channels(s, 3)
    with st.container(border=True):
        st.markdown(f"#### What happened here — block {block}, this image")
        c1, c2, c3 = st.columns(3, gap="large")
        with c1:
            st.markdown("**1 · Squeeze**: average each feature map")
            st.latex(r"z_c = \frac{1}{H\,W}\sum_{i=1}^{H}\sum_{j=1}^{W} u_c(i,j)")
            st.markdown(f"U holds **C = {channels}** feature maps of {h}×{w} values. Averaging each map leaves one "
                        f"number per channel: z has {channels} values, here {_fmt(z)}.")
        with c2:
            versus = ""
            if class_mean is not None:
                versus = (f" The average over the test images of class *{class_name}* in this block is "
                          f"{sum(class_mean) / len(class_mean):.2f}.")
            if kind == "SE":
                st.markdown("**2 · Excitation**: a tiny bottleneck MLP")
                st.latex(r"s = \sigma\!\left(W_2\,\delta(W_1 z)\right)")
                st.markdown(f"W₁ squeezes {channels} → {hidden} (reduction ratio **r = {channels // max(hidden, 1)}**"
                            f"), ReLU δ, W₂ expands {hidden} → {channels}, sigmoid σ: one gate per channel, "
                            f"s ∈ (0, 1), here {_fmt(s, num.gate)}.{versus}")
            else:
                formula, words = EXCITE[kind]
                conv = getattr(dict(loaded.model.named_modules())[loaded.se_blocks[block]], "conv", None)
                if kind in ("ECA", "CECA") and isinstance(getattr(conv, "kernel_size", None), tuple):
                    words += f" (here k = {conv.kernel_size[0]} for C = {channels})"
                st.markdown(f"**2 · Excitation**, {KIND_WORDS[kind]}")
                st.latex(formula)
                st.markdown(f"{words[0].upper()}{words[1:]}; sigmoid σ: one gate per channel, s ∈ (0, 1), here "
                            f"{_fmt(s, num.gate)}.{versus}")
        with c3:
            st.markdown("**3 · Scale**: multiply each map by its gate")
            st.latex(r"\tilde{x}_c = s_c \cdot u_c")
            st.markdown(image_reading.scale_sentence(s) + " Then the shortcut is added back: output = ReLU(s·U + x).")
        rows = [{"": "▲ high gate" if c in up else "▼ low gate", "channel": c, "z (squeeze)": round(z[c], 3),
                 "s (excitation)": num.gate(s[c]), "in words": image_reading.gate_band(s[c]),
                 **({f"class mean s ({class_name})": num.gate(class_mean[c])} if class_mean is not None else {}),
                 "mean of s·u (= s·z)": round(s[c] * z[c], 3)} for c in up + down]
        ui.table(rows)  # static, lighter in the browser than the interactive grid, and needs no pandas
