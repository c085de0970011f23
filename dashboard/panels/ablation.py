"""SE switched off: one image before/after in the Image view, the stored per-stage table in the Classes view, and
the modes explained in the About view."""
from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.state import cache, urlstate
from se_models import analyze_image
from se_models.explain.overlay import overlay
from se_models.findings.ablation import ablation_sentence
from se_models.findings.transplant import transplant_sentence
from se_models.plots import figures
from se_models.plots.ablation import ablation_chart, transplant_chart
from se_models.stats.ablation import ablate, stage_rows
from se_models.stats.stored import reference_mean_gates, stored_tables
from se_models.stats.tables import CONTROL_SUFFIX, MODE_LABELS, accuracy_tables

SCOPES = {"block": "block", "stage": "stage", "all": "all"}
SHORT = {"identity": "s = 1", "mean": "mean gate"}  # the long names do not fit a 1280 px screen
PX = 220

MODES_TEXT = """
Switching an SE block off answers *what do its gates buy?* Three ways, each a different question:

- **s = 1 (identity)**, every gate forced open: s·U becomes U. That is not the network without SE: it also changes
  the *scale*, since trained gates average well below 1 (the Classes view's reading gives the number), so s = 1
  enlarges the branch in a way the layers after it never saw in training. A big loss can be the scale, not the
  attention.
- **Mean gate (mean)**: every image gets the same per-channel gate, the mean over a reference set. The scale stays,
  only the dependence on the input goes: what the *input-dependent* recalibration is worth.
- **Another image's gates (shuffle)**: each image gets the gates of another image of the batch. Right statistics,
  wrong image: is a wrong attention worse than none?

A fourth question is not what the gates buy but what their *class* information does: the **gate transplant**
(`ablate --mode transplant`) gives each image of class A the mean gates of class B in the chosen blocks, for every
B ≠ A, and counts the predictions that move to B, against the image's own class mean (the control). If deep gates
carry class identity that the network uses, deep transplants move predictions and shallow ones do not.

The paper's section-4 remark (dropping the last stage's SE blocks costs < 0.1 % top-5 error on ImageNet) compares
networks *trained* with and without them; these switches act on a trained network at inference time, so expect larger
losses here. The Classes view shows the stored table over the test split; `python -m se_models ablate` computes it
for any model and folder of images.
"""


def about() -> None:
    """The three modes, for the About view."""
    st.markdown("### Switching SE off: three ablations")
    st.markdown(MODES_TEXT)


@st.cache_data(show_spinner=False, max_entries=8)
def _mean_gates(name: str):
    return reference_mean_gates(name)


@st.cache_data(show_spinner=False, max_entries=128)
def _ablated(model_key: str, digest: str, _image, blocks: tuple[str, ...], mode: str, target: int):
    """The Image view's analysis (one forward + backward pass, every stage's Grad-CAM) with SE off in `blocks`."""
    loaded = cache.model(model_key)
    gates = _mean_gates(loaded.name) if mode == "mean" else None
    with ablate(loaded, list(blocks), mode, gates):
        return analyze_image(loaded, _image, target=target)


def _choice(name: str, names: list[str]) -> tuple[str, tuple[str, ...], str]:
    """The 'switch off SE in …' controls -> (what, blocks, mode)."""
    c1, c2, c3 = st.columns([1.0, 1.0, 1.0], vertical_alignment="bottom")
    scope = urlstate.segmented_control(c1, "Switch off SE in", list(SCOPES), "abl_scope", "stage",
                                       format_func=SCOPES.get, required=True) or "stage"
    groups = {label: blocks for label, blocks in stage_rows(names) if label.startswith("stage ")}
    if scope == "all" or (scope == "stage" and not groups):
        what, blocks = "all blocks", tuple(names)
        c2.caption(f"{len(names)} SE blocks")
    elif scope == "stage":
        what = urlstate.selectbox(c2, "Stage", list(groups), "abl_stage", index=len(groups) - 1)
        blocks = tuple(groups[what])
    else:
        what = urlstate.selectbox(c2, "Block", names, "abl_block", index=len(names) - 1)
        blocks = (what,)
    modes = ["identity", "mean"] if _mean_gates(name) is not None else ["identity"]  # mean needs reference stats
    explain = ("s = 1: every gate forced open (not SE removed: the scale changes too). Mean gate: the per-channel "
               "mean over the test split, the same for every image (input dependence removed). The About view "
               "explains both.")
    mode = urlstate.segmented_control(c3, "Replace the gates by", modes, "abl_mode",
                                      "mean" if "mean" in modes else "identity", format_func=SHORT.get,
                                      required=True, help=explain) or modes[0]
    return what, blocks, mode


def image_panel(sel, item, img, before) -> None:
    """Prediction bars and Grad-CAM (at a layer chosen in the panel) with SE as trained and switched off."""
    loaded = sel.loaded
    names = list(loaded.se_blocks)
    st.markdown("### Switch SE off: what do the gates buy for this image?")
    # opt-in: the switched-off analysis is one more forward + backward pass, not part of the first paint
    if not urlstate.toggle(st, "Compare with SE switched off", key="abl_on",
                           help="Runs the image once more with the gates of the chosen blocks replaced."):
        return
    what, blocks, mode = _choice(loaded.name, names)
    # the panel's own layer: the Grad-CAM layer and opacity above live in a fragment, whose reruns do not reach
    # this panel, so following them would leave maps and caption naming a layer the map above no longer shows
    layers = list(before.cams)
    layer = urlstate.selectbox(st, "Grad-CAM layer of this comparison", layers, "abl_layer", index=len(layers) - 1)
    after = _ablated(sel.model_key, item.digest, img, blocks, mode, before.target)
    view = before.view  # the model's view, from the analysis
    cols = st.columns([1.3, 1, 1.3, 1], gap="small")
    for (bars_col, cam_col), probs, cam, tag, title in (
            (cols[:2], before.probs, before.cams[layer], "on", "SE as trained"),
            (cols[2:], after.probs, after.cams[layer], "off", f"SE off in {what}")):
        fig = figures.prediction_bars(probs, loaded.labels, 5).update_layout(title=title, height=250)
        with bars_col:
            ui.chart(fig, f"abl_bars_{tag}", f"prediction {title} {item.label}", downloads=False)
        cam_col.image(overlay(view, cam, 0.5, PX), width="stretch",
                      caption=f"Grad-CAM for “{loaded.labels[before.target]}”, {title}")
    p0, p1 = loaded.labels[int(before.probs.argmax())], loaded.labels[int(after.probs.argmax())]
    t = before.target
    verdict = "unchanged" if p0 == p1 else "changed"
    st.caption(f"Grad-CAM at {layer}, half opacity. Prediction {p0} → **{p1}** ({verdict}); "
               f"probability of “{loaded.labels[t]}” {float(before.probs[t]):.1%} → {float(after.probs[t]):.1%}. "
               f"Mode: {MODE_LABELS[mode]}" + (" (the per-channel mean over the test split, reference statistics)."
                                               if mode == "mean" else ".")
               + " Another image's gates need a batch of images: see the Classes view's table.")


def classes_panel(sel) -> None:
    """The stored ablation over the test split: accuracy change per stage for each mode, with its reading (against
    the reference statistics, which cover the same split); then the gate transplant. For the untrained control: its
    transplant only (switching gates off in a network that learned nothing measures nothing)."""
    tables = cache_tables(sel.name)
    if sel.is_control:
        control = (tables or {}).get("transplant" + CONTROL_SUFFIX)
        if control is not None:
            _transplant({"transplant": control}, sel.name + CONTROL_SUFFIX)
        return
    stats = cache.reference(sel.name)
    if not tables:
        st.caption("No stored ablation for this model: `python -m se_models ablate --model NAME --data DIR` "
                   "computes one (`--mode transplant` for the gate transplant).")
        return
    accuracy = accuracy_tables(tables)
    if accuracy:
        st.markdown("### Does the prediction need the gates? Accuracy with SE switched off, per stage")
        st.info(ablation_sentence(accuracy, stats, markdown=True), icon=":material/insights:")
        any_t = next(iter(accuracy.values()))
        fig = cache.built("ablation", (sel.name,), lambda: ablation_chart(accuracy))
        ui.chart(fig, "cls_ablation", f"ablation {sel.name}")
        st.caption(f"Data: {any_t.data}. Each bar: top-1 with the gates of that stage (or all blocks) replaced, minus "
                   "the baseline; whiskers ±2 standard errors of the paired difference. Red: s = 1 (gates forced "
                   "open, scale changed); blue: every image the same mean gate (input dependence removed); orange: "
                   "another image's gates. The modes are explained in the About view.")
    if "transplant" in tables:
        _transplant(tables, sel.name)
    else:
        st.caption("No stored gate transplant for this model: `python -m se_models ablate --model NAME --data DIR "
                   "--mode transplant` computes one.")


def _transplant(tables: dict, key: str) -> None:
    """The gate transplant: its reading, the moved shares against the control, and what the bars are."""
    t = tables["transplant"]
    st.markdown("### Do the gates' classes decide? The gate transplant")
    st.info(transplant_sentence(tables, markdown=True), icon=":material/insights:")
    fig = cache.built("transplant", (key,), lambda: transplant_chart(tables))
    ui.chart(fig, "cls_transplant", f"transplant {key}")
    st.caption(f"Data: {t.data}. Each image of class A gets, in the row's blocks, the mean gates of class B (class "
               f"means by true label over the same images), for {t.donors} classes B ≠ A in turn. Red: the share of "
               "these (image, B) pairs now predicted as B. Grey, the control: the image's own class mean in the same "
               "blocks, counted against the same classes B. If deep gates carry class identity that the network "
               f"uses, deep transplants move predictions and shallow ones do not. Whiskers: {t.interval}.")


@st.cache_data(show_spinner=False, max_entries=8)
def cache_tables(name: str):
    return stored_tables(name)
