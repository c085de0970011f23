"""Methods view: one image through every lens, trained vs the untrained control, the sanity check, faithfulness."""
from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.safety import budget
from dashboard.state import cache, imageitems, modelkeys, urlstate
from se_models.explain import lenses, sanity
from se_models.findings.methods import faithfulness_finding, sanity_finding
from se_models.plots.lenses import faithfulness_curves

PIC = 150  # px: five pictures and their gaps fit 1280 px with the sidebar open


@st.cache_data(show_spinner=False, max_entries=32)
def _lens_run(model_key: modelkeys.ModelKey, control_key: modelkeys.ModelKey | None, digest: str, _image,
             target: int | None) -> dict:
    """Every method's picture for the model (and its control), the similarity numbers, and the saliency maps."""
    loaded = cache.model(model_key)
    x = loaded.preprocess(_image)[None]
    targets = lenses.targets(loaded, x, target)
    out = {"target": targets[0], "rows": {}, "maps": {}}
    view = loaded.model_view(_image)
    for role, key in (("trained", model_key), ("control", control_key)):
        if key is None:
            continue
        m = cache.model(key)
        attrs = {meth: lenses.attribute(m, x, meth, targets) for meth in lenses.METHODS}
        out["rows"][role] = {meth: lenses.picture(view, a[0], meth, PIC) for meth, a in attrs.items()}
        out["maps"][role] = {meth: lenses.saliency(a) for meth, a in attrs.items()}
    if control_key is not None:
        a, b = out["maps"]["trained"], out["maps"]["control"]
        out["spearman"] = {m: float(sanity.spearman(a[m], b[m])[0]) for m in lenses.METHODS}
        out["ssim"] = {m: float(sanity.ssim(a[m], b[m])[0]) for m in lenses.METHODS}
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def _faithfulness(model_key: modelkeys.ModelKey, digest: str, _image, _maps: dict, target: int, n_random: int,
                  _progress=None, _queued=None):
    """The deletion / insertion curves: heavy work, so a computation (not a cache hit) waits for a server slot."""
    loaded = cache.model(model_key)
    x = loaded.preprocess(_image)
    with budget.heavy(_queued):
        return sanity.faithfulness(loaded, x, {m: s[0] for m, s in _maps.items()}, target, steps=16,
                                   n_random=n_random)


@st.cache_data(show_spinner=False, max_entries=16)
def _filters(model_key: modelkeys.ModelKey):
    return lenses.filter_grid(cache.model(model_key).model, patch=24)


def _faithful(f: sanity.Faithfulness, method: str):
    """One method's deletion / insertion AUCs against the random maps, as a finding."""
    c = f.curves[method]
    return faithfulness_finding(lenses.METHODS[method], c.deletion_auc, c.insertion_auc, f.random_range("deletion"),
                                f.random_range("insertion"), len(f.random))


def _row(cols, title: str, input_pic, pictures: dict, captions: dict) -> None:
    cols[0].markdown(f"**{title}**")
    cols[0].image(input_pic, width="stretch")
    for col, meth in zip(cols[1:], lenses.METHODS):
        col.image(pictures[meth], width="stretch", caption=captions.get(meth, ""))


def render() -> None:
    sel = ui.selection()
    loaded = sel.loaded
    name = loaded.name
    st.markdown("## Methods: one image through every lens")
    good, errors = imageitems.decode_items(sel.items, decode=lambda it: cache.decode(it.data, it.label))
    for message in errors:
        st.error(message, icon=":material/broken_image:")
    if not good:
        st.info("No readable image yet: choose photos, test samples, uploads or the camera in the sidebar.")
        return
    labels = {item.id: item.label for item, _ in good}
    picked = urlstate.selectbox(st, "Image", list(labels), "methods_image", format_func=labels.get) \
        if len(good) > 1 else good[0][0].id
    item, img = next(pair for pair in good if pair[0].id == picked)

    # the trained model and its untrained control; when the control is selected, compare with the trained one
    trained_key = modelkeys.ModelKey.own(name) if sel.is_control else sel.model_key
    control_key = modelkeys.ModelKey.control(name)
    if sel.is_control and cache.load_error(trained_key):
        st.info("The trained weights of this model are not available here, so only the untrained network is shown.")
        trained_key, control_key = sel.model_key, None
    with st.spinner("Running four methods on the trained and the untrained network …"):
        run = _lens_run(trained_key, control_key, item.digest, img, sel.target)
    target_label = loaded.labels[run["target"]]
    only_control = control_key is None and sel.is_control
    st.caption(f"Every map explains the class **{target_label}** "
               f"({'chosen in the sidebar' if sel.target is not None else 'the model’s prediction'}). "
               "Grad-CAM is drawn over the photo; the gradient methods as the course draws them: the signed input "
               "gradient, grey = 0." + ("" if lenses.relu_count(loaded.model) else
                                        " :orange[This model has no ReLU modules, so guided backprop and "
                                        "deconvnet are the plain gradient here.]"))
    view = lenses.model_input_picture(loaded, img, PIC)
    titles = {m: lenses.METHODS[m] for m in lenses.METHODS}
    _row(st.columns(5), "Random weights" if only_control else "Trained", view, run["rows"]["trained"], titles)
    if control_key is not None:
        sims = {m: f"ρ {run['spearman'][m]:.2f} · SSIM {run['ssim'][m]:.2f}" for m in lenses.METHODS}
        _row(st.columns(5), "Random weights", view, run["rows"]["control"], sims)
        st.markdown("**Sanity check** (Adebayo et al. 2018): "
                    + sanity_finding(run["spearman"], lenses.METHODS, images=1).markdown)
        st.caption("ρ: Spearman rank correlation of the two importance maps, SSIM: their structural similarity "
                   "(1 = the same map, 0 = unrelated). A map that explains what the network learned must change "
                   "when the learned weights are replaced by random ones.")

    st.divider()
    st.markdown("### Faithfulness: does the map find what the prediction rests on?")
    small = loaded.input_size[-1] <= 64
    # on request: its ~400 forward passes are most of the view's first visit (docs/performance.md)
    if urlstate.toggle(st, "Run the deletion / insertion check", "methods_faith",
                       help="About 400 forward passes; one to two seconds for the bundled models, longer for "
                            "ImageNet models."):
        waiting = st.empty()

        def show(done: int, total: int, queued: bool) -> None:
            if queued:
                waiting.info(budget.QUEUED, icon=":material/hourglass_top:")

        with st.spinner("Deleting and inserting pixels …"):
            f = cache.in_worker(_faithfulness, trained_key, item.digest, img, run["maps"]["trained"], run["target"],
                                8 if small else 4, show=show)
        waiting.empty()
        fig = cache.built("faith", (trained_key, item.digest, run["target"]),
                          lambda: faithfulness_curves(f, target_label))
        ui.chart(fig, "methods_faith_fig", f"faithfulness {item.label}")
        st.markdown("\n".join(f"- {_faithful(f, m).markdown}" for m in lenses.METHODS))
        st.caption("Deleted pixels take the values of a strongly blurred copy, and insertion starts from that copy "
                   "(Petsiuk et al. 2018). The grey band is the range of random maps: the chance baseline.")

    st.divider()
    st.markdown("### What the first convolution looks for")
    conv = lenses.first_conv(cache.model(trained_key).model)
    c1, c2 = st.columns([1, 1.4])
    c1.image(_filters(trained_key), width=min(420, 30 * int(conv.out_channels ** 0.5 + 1) * 2))
    c2.caption(f"The {conv.out_channels} filters of the first convolution ({conv.kernel_size[0]}×"
               f"{conv.kernel_size[1]}, "
               f"{'one colour patch each' if conv.in_channels == 3 else 'grey: one input channel'}), each scaled "
               "to its own range. " + ("These weights are random: the filters are noise; trained filters often "
                                      "look like edge and colour detectors." if only_control else
                                      "Trained filters often look like edge and colour detectors; the untrained "
                                      "control's (Weights → random in the sidebar) are noise."))
