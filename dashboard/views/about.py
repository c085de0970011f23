"""About view: the SE block in text and formulas, the paper's numbers, and how to read every plot."""
from __future__ import annotations

import streamlit as st

import se_models
from dashboard.panels import ablation
from dashboard.state import cache
from se_models.hooks.naming import last_of_each_stage, stage_index

PAPER = ("J. Hu, L. Shen, S. Albanie, G. Sun, E. Wu, *Squeeze-and-Excitation Networks*, TPAMI 2019 "
         "([arXiv:1709.01507](https://arxiv.org/abs/1709.01507) v4).")

ERRORS = """
| ImageNet top-1 / top-5 error (%, single crop) | plain | with SE | GFLOPs plain → SE |
|---|---|---|---|
| ResNet-50 | 24.80 / 7.48 | **23.29 / 6.62** | 3.86 → 3.87 |
| ResNet-101 | 23.17 / 6.52 | **22.38 / 6.07** | 7.58 → 7.60 |
| ResNet-152 | 22.42 / 6.34 | **21.57 / 5.73** | 11.30 → 11.32 |
| ResNeXt-50 | 22.11 / 5.90 | **21.10 / 5.49** | 4.24 → 4.25 |
"""

RATIOS = """
| SE-ResNet-50, reduction ratio r | top-1 error (%) | parameters |
|---|---|---|
| r = 2 | 22.29 | 45.7M |
| r = 4 | 22.25 | 35.7M |
| r = 8 | 22.26 | 30.7M |
| **r = 16** (default) | **22.28** | **28.1M** |
| r = 32 | 22.72 | 26.9M |
| plain ResNet-50 | 23.30 | 25.6M |
"""

GATES = """
| excitation gate | top-1 error (%) |
|---|---|
| **sigmoid** | **22.28** |
| tanh | 23.00 |
| ReLU | 23.47 |
"""

SQUEEZES = """
| squeeze operator | top-1 error (%) |
|---|---|
| **global average pooling** | **22.28** |
| global max pooling | 22.57 |
| none (1×1 convolutions, 4.27 GFLOPs) | 22.93 |
"""

READING = """
- **Top-k prediction**: the model's class probabilities for the chosen image (softmax of the logits).
- **Grad-CAM**: where the evidence for one class lies, at the end of one stage: the gradient of that class's
  score, averaged per channel, weights the stage's feature maps; red is strong evidence. Deep stages are coarse
  (7–8 px grids) but closest to the class decision; shallow ones are sharp but generic.
- **Excitation profile**: bars are this image's gates s, one per channel, in every SE block; the line is the
  average over the test images of a class. Bars that follow the line: the image behaves like its class.
- **Feature maps before / after**: U (top) and s·U (bottom) for the channels with the highest gates (▲, least
  scaled down: a gate s < 1 never amplifies) and the lowest (▼); one colour scale for all panels, so suppression
  shows as fading. The next layer sees the relative scaling between channels.
- **Class curves (Fig. 6)**: per SE block, the mean gate per channel for each class (one line each) and over all
  classes (dashed). Curves on top of each other = the block treats every class alike; curves apart = the gates depend
  on the class (called class-specific only when that is learned: beyond the untrained control's too).
  With *mean ± std* (Fig. 7) the band shows how much single images of one class differ.
- **Class-specificity vs depth**: one number per block. *Class divergence* = √(mean over channels of the variance
  of the class means): how far apart the curves of Fig. 6 sit, in gate units. *Linear probe* = held-out accuracy of
  a logistic regression predicting the class from s (the dotted line is chance). *η²* = share of each channel's
  variance that the class explains. Solid lines: the trained model; dashed: the same network with random weights
  (the control), so what rises above the dashed line comes from training. A filled marker is a learned block: above
  label-shuffle chance and with its interval above the control's; the untrained network is drawn open everywhere,
  because random gates are above chance too (they follow colour and texture) but learned nothing.
"""


def _measured() -> None:
    """Class divergence of the bundled models' reference statistics, as in docs/models.md's tables."""
    rows = []
    for name in se_models.list_models():
        ref = cache.reference(name)
        if ref is None:
            continue
        acc = cache.card(name).test_accuracy
        row = {"model": cache.model_labels()[name], "test accuracy": f"{acc:.1%}" if acc is not None else "?"}
        for block in last_of_each_stage([b.name for b in ref.blocks]):  # one column a stage, for any kind
            row[f"stage {stage_index(block)[0]}"] = round(ref.block(block).divergence, 4)
        if ref.control:
            divs = [b.divergence for b in ref.control]
            row["untrained"] = f"{min(divs):.4f}–{max(divs):.4f}"
        rows.append(row)
    if rows:
        st.markdown("**Class divergence of the bundled models** (reference statistics, whole test split; last "
                    "attention block of each stage; untrained: the lowest and highest block of the same network with "
                    "random weights):")
        st.dataframe(rows, hide_index=True, width="stretch")


def _zoo() -> None:
    """The ImageNet SE networks from timm, and how to use them without internet."""
    st.markdown("### ImageNet SE networks (timm)")
    st.markdown("The paper's analysis was made on SE-ResNet-50 trained on ImageNet; `legacy_seresnet50.in1k` holds "
                "the paper's original weights (ported from Caffe), the faithful reproduction. Any other timm model "
                "with squeeze-and-excitation blocks opens under *Any timm model* in the sidebar.")
    # a static table wraps its long cells (the weights' sources); a data grid would hide columns behind a scrollbar
    st.table(cache.zoo_rows(), hide_index=True, border="horizontal")
    st.markdown(
        "**Weights without internet.** *Pretrained* downloads once and timm caches the file (Hugging Face cache or "
        "`~/.cache/torch/hub`); offline and uncached it fails within seconds and says what to fetch. On a machine "
        "with internet, either warm that cache and copy it over, or download the weights file (e.g. "
        "`model.safetensors` from the model's Hugging Face page) and use it here with Weights → **upload a file** "
        "(or **file on this server**, where the server allows its folder), or on the command line with "
        "`--weights PATH`:")
    st.code("python -m se_models download legacy_seresnet50.in1k  # online, once: into timm's cache\n"
            "python -m se_models predict photo.jpg --model legacy_seresnet50.in1k --weights PATH\n"
            "python -m se_models stats --model legacy_seresnet50.in1k --weights PATH --data DIR --per-class 50 "
            "--control --json fig6.json --png fig6", language="bash", wrap_lines=True)
    st.markdown("*Random (untrained control)* needs no file: the same architecture with random weights, to see what "
                "comes from the architecture rather than from training.")
    st.markdown("### Beyond SE: other channel attention")
    st.markdown(
        "Every module that multiplies U by a per-channel gate `x * gate(f(context))` is read the same way, its blocks "
        "named like the paper's with the kind in front: **ECA** (`ECA_4_3`: a 1-D convolution over k neighbouring "
        "channels of the squeezed vector, no reduction; `timm:ecaresnet26t`, `timm:eca_nfnet_l0`, the bundled "
        "ECA-ResNet-20 where shipped), **CECA** (circular ECA), **GC** (global context with scale fusion: an "
        "attention-weighted context, `timm:gc_efficientnetv2_rw_t`), **GE** (gather-excite; a local extent's gate "
        "per position is read as its mean), and **CBAM** (its channel gate, with its spatial gate drawn as a map "
        "beside the feature maps). Global context fused by *addition* (timm's `gcresnet33ts`, `gcresnet50t`) "
        "multiplies by no gate and is refused by name. timm publishes no weights for ResNets with CBAM, CECA, GC "
        "or GE: `cbam_resnet18`, `cbam_resnet50`, `lcbam_resnet18`, `ceca_resnet18`, `gc_resnet18`, `ge_resnet18` "
        "and `ge4_resnet18` are those architectures with random weights (or a file you trained).")


def render() -> None:
    st.markdown("## About squeeze-and-excitation")
    st.markdown(f"Source: {PAPER}")
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.markdown("### The SE block")
        st.markdown("A convolutional block produces U with C channels of H×W values. The SE block learns how much "
                    "each channel matters *for this input* and rescales it, in three steps.")
        st.markdown("**1. Squeeze**: global average pooling, one number per channel.")
        st.latex(r"z_c = \frac{1}{H\,W}\sum_{i=1}^{H}\sum_{j=1}^{W} u_c(i,j), \qquad z \in \mathbb{R}^{C}")
        st.markdown("**2. Excitation**: a bottleneck of two fully connected layers with reduction ratio r "
                    "(16 in the paper, 4 in the small models here), ReLU δ and sigmoid σ.")
        st.latex(r"s = \sigma\!\left(W_2\,\delta(W_1 z)\right) \in (0,1)^{C}")
        st.latex(r"W_1 \in \mathbb{R}^{\frac{C}{r}\times C}, \qquad W_2 \in \mathbb{R}^{C\times\frac{C}{r}}")
        st.markdown("**3. Scale**: each channel is multiplied by its gate, then the residual shortcut is added.")
        st.latex(r"\tilde{x}_c = s_c \cdot u_c, \qquad \text{output} = \mathrm{ReLU}(\tilde{x} + x)")
        st.markdown("The cost is small: 2C²/r weights per block. Blocks are named as in the paper, "
                    "SE_*stage*_*block*, with the stem as stage 1, so the first residual stage is stage 2.")
    with right:
        st.markdown("### How to read each plot")
        st.markdown(READING)
    st.markdown("### What the paper found (section 7.2)")
    st.markdown("In SE-ResNet-50 on ImageNet the class curves of the early blocks (SE_2_3) nearly coincide — early "
                "features are shared — and become clearly class-specific in the deep ones (SE_4_6, SE_5_1). SE_5_2 "
                "is saturated (gates near 1, almost an identity) and SE_5_3 differs mainly by scale; removing SE "
                "from the last stage costs < 0.1 % top-5 error.")
    _measured()
    ablation.about()
    _zoo()
    st.markdown("### The paper's numbers")
    c1, c2 = st.columns([1, 1.2], gap="large")
    c1.markdown(ERRORS)
    c2.markdown(RATIOS)
    c3, c4 = st.columns(2, gap="large")
    c3.markdown(GATES)
    c4.markdown(SQUEEZES)
    st.markdown("### Photo credits")
    st.markdown("\n".join(f"- **{p['title']}** — {p['credit']}, {p['licence']}" for p in cache.photos()))
