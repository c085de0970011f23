"""Grad-CAM: the one-pass maps (analyze_image, grad_cam, guided Grad-CAM's) on a hand-weighted model with a known
answer, and against captum's LayerGradCam (the reference, here only) at every stage, for several targets and a batch;
one forward and one backward pass; the overlay on the model's own view."""
import dataclasses
import threading

import numpy as np
import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam
from PIL import Image
from torch import nn
from torchvision import transforms

from se_models import SERecorder, analyze_image, block_maps, grad_cam, load_model, predict
from se_models.errors import ImageError, UnknownBlockError, UnknownClassError
from se_models.explain.analysis import stage_ends
from se_models.explain.cam import cam_pass
from se_models.explain.overlay import normalize_cam
from se_models.models.architectures import SEResNetSmall
from se_models.models.card import ModelCard
from se_models.models.registry import LoadedModel
from tests.fakes import pattern
from tests.probes import PassCounter, hook_count


def captum_grad_cam(loaded, images: torch.Tensor, targets: list[int], layer: str) -> torch.Tensor:
    """The reference: captum's LayerGradCam at one layer (one forward + one backward pass per call), upsampled
    bilinear, each map scaled to maximum 1 -> (B, H, W)."""
    module = dict(loaded.model.named_modules())[loaded.block_module(layer)]
    with torch.enable_grad():
        attr = LayerGradCam(loaded.model, module).attribute(images, target=targets, relu_attributions=True)
    attr = LayerAttribution.interpolate(attr.detach().float(), tuple(images.shape[-2:]), interpolate_mode="bilinear")
    return normalize_cam(attr[:, 0])


class HandWeighted(nn.Module):
    """conv 1x1 with weights +1 / -1 -> A = (x, -x); logits = mean over pixels of A."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1, bias=False)
        self.conv.weight.data = torch.tensor([1.0, -1.0]).view(2, 1, 1, 1)

    def forward(self, x):
        return self.conv(x).mean((2, 3))


def test_grad_cam_known_answer():
    model = HandWeighted()
    loaded = LoadedModel("hand", model, ModelCard("hand", "bundled", "hand", "hand", labels=["a", "b"]), "random",
                         {}, None)
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 1:3, 2:5] = torch.tensor([1.0, 2.0, 4.0])  # positive blob
    # class 0: alpha_0 = 1/36 > 0, alpha_1 = 0 -> cam proportional to x
    cam0 = grad_cam(loaded, x, target=0, layer="conv")
    assert torch.allclose(cam0[0], x[0, 0] / 4.0, atol=1e-6)
    raw = cam_pass(loaded, x, ["conv"], target=0).maps["conv"]  # not scaled: alpha_0 * x = x / 36
    assert torch.allclose(raw[0], x[0, 0] / 36, atol=1e-7)
    # class 1: alpha_1 * (-x) <= 0 everywhere -> ReLU leaves nothing
    assert grad_cam(loaded, x, target=1, layer="conv").abs().max() == 0
    # no target: the predicted class (0, its logit is larger)
    assert torch.allclose(grad_cam(loaded, x, layer="conv"), cam0)
    # the reference agrees on the known answer
    assert torch.allclose(captum_grad_cam(loaded, x, [0], "conv"), cam0, atol=1e-6)
    assert hook_count(model) == 0


def test_grad_cam_on_se_resnet(tiny):
    x = torch.stack([tiny.preprocess(pattern(k)) for k in ("circle", "square")])
    cams = grad_cam(tiny, x)
    assert cams.shape == (2, 16, 16) and cams.min() >= 0 and cams.max() <= 1
    pred = tiny.model(x).argmax(1).tolist()
    assert torch.allclose(cams, grad_cam(tiny, x, target=pred))
    assert grad_cam(tiny, x, layer="SE_2_1").shape == (2, 16, 16)
    assert grad_cam(tiny, x, layer="layer1.0").shape == (2, 16, 16)
    with pytest.raises(ValueError, match="unknown layer 'nope'"):
        grad_cam(tiny, x, layer="nope")
    with pytest.raises(UnknownClassError):
        grad_cam(tiny, x, target=3)
    assert hook_count(tiny.model) == 0


@pytest.mark.parametrize("layer", ["SE_2_1", "SE_2_2", "SE_3_1", "SE_3_2", "layer1.0.conv2"])
def test_batched_grad_cam_equals_captum_for_every_image_and_target(tiny, layer):
    x = torch.stack([tiny.preprocess(pattern(k, seed=i)) for i, k in enumerate(("circle", "square", "stripes"))])
    predicted = tiny.model(x).argmax(1).tolist()
    compared = 0
    for target in (None, [0, 1, 2], [2, 2, 0]):
        cams = grad_cam(tiny, x, target=target, layer=layer)
        ref = captum_grad_cam(tiny, x, target or predicted, layer)
        assert cams.shape == ref.shape == (3, 16, 16)
        for cam, r in zip(cams, ref):
            if r.max() == 0:  # no positive evidence at this layer (ReLU): both maps must be empty
                assert cam.max() == 0
                continue
            assert pearson(cam, r) >= 0.999 and torch.allclose(cam, r, atol=1e-3)
            compared += 1
    assert compared >= 3, "nearly every map empty: too little was compared"
    assert hook_count(tiny.model) == 0


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1])


def test_analyze_image_runs_one_forward_and_one_backward_pass(tiny):
    with PassCounter(tiny.model) as counter:
        a = analyze_image(tiny, pattern("circle"))
        assert (counter.forward, counter.backward) == (1, 1)
        analyze_image(tiny, pattern("circle"), target=(a.predicted + 1) % 3)
        assert (counter.forward, counter.backward) == (2, 2)
        # grad_cam of a batch, and guided Grad-CAM's map: one pass of each too
        x = torch.stack([tiny.preprocess(pattern(k)) for k in ("circle", "square", "stripes")])
        grad_cam(tiny, x, layer="SE_2_2")
        assert (counter.forward, counter.backward) == (3, 3)
        cam_pass(tiny, x, list(a.cams), target=[0, 1, 2])
        assert (counter.forward, counter.backward) == (4, 4)
        predict(tiny, [pattern(k) for k in ("circle", "square", "stripes")])  # the strip: one batched pass
        assert (counter.forward, counter.backward) == (5, 4)
        # the reference, one captum call per layer, costs one pass of each per layer
        for layer in a.cams:
            captum_grad_cam(tiny, x, [0, 1, 2], layer)
        assert (counter.forward, counter.backward) == (5 + len(a.cams), 4 + len(a.cams))
    assert hook_count(tiny.model) == 0


def assert_cams_match_captum(loaded, img, target=None):
    a = analyze_image(loaded, img, target=target)
    assert list(a.cams) == stage_ends(loaded)
    x = loaded.preprocess(img)[None]
    for layer, cam in a.cams.items():
        ref = captum_grad_cam(loaded, x, [a.target], layer)[0]
        assert cam.shape == ref.shape == x.shape[-2:]
        assert torch.equal(grad_cam(loaded, x, a.target, layer)[0], cam), layer  # the one Grad-CAM, both ways in
        if ref.max() == 0:  # no positive evidence at this layer (ReLU): both maps must be empty
            assert cam.max() == 0, layer
            continue
        assert pearson(cam, ref) >= 0.999, layer
        assert torch.allclose(cam, ref, atol=1e-3), layer
    assert any(cam.max() > 0 for cam in a.cams.values()), "every map empty: nothing was compared"
    assert hook_count(loaded.model) == 0
    return a


def test_every_stage_map_equals_captum_on_the_tiny_model(tiny):
    for target in (None, 0, 1, 2):
        assert_cams_match_captum(tiny, pattern("stripes"), target)


def test_every_stage_map_equals_captum_on_the_bundled_default():
    loaded = load_model()
    a = assert_cams_match_captum(loaded, Image.open("assets/photos/chelsea.jpg").convert("RGB"))
    assert list(a.cams) == ["SE_2_3", "SE_3_3", "SE_4_3"]


@pytest.mark.slow  # a full SE-ResNet-50
def test_every_stage_map_equals_captum_on_timm_seresnet50():
    """timm's Bottleneck adds the shortcut in place and uses an in-place ReLU: the kept stage outputs must still be
    the tensors autograd differentiates."""
    loaded = load_model("seresnet50.a1_in1k", weights="random")
    small = transforms.Compose([transforms.Resize(80), transforms.CenterCrop(64), *loaded.transform.transforms[2:]])
    loaded = dataclasses.replace(loaded, transform=small)
    img = pattern("circle", size=96)
    a = assert_cams_match_captum(loaded, img)
    assert list(a.cams) == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_3"]
    assert_cams_match_captum(loaded, img, target=(a.predicted + 7) % 1000)


class ReluOutsideBlocks(SEResNetSmall):
    """The tiny SE-ResNet with each block ending at `s*U + shortcut` and the ReLU applied in place by the caller
    (torchvision's style of in-place activation): it overwrites the very tensor a block's forward hook sees."""

    def __init__(self, **kw):
        super().__init__(**kw)
        for m in self.modules():
            if hasattr(m, "act2"):
                m.act2 = nn.Identity()

    def forward(self, x):
        x = self.act1(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            for block in getattr(self, f"layer{i + 1}"):
                x = torch.relu_(block(x))
        return self.fc(self.global_pool(x).flatten(1))


def test_stage_outputs_survive_later_in_place_ops(tiny):
    model = ReluOutsideBlocks(num_classes=3, widths=(8, 16), depth=2, reduction=4).eval()
    model.load_state_dict(tiny.model.state_dict())
    for target in range(3):
        assert_cams_match_captum(dataclasses.replace(tiny, model=model), pattern("circle"), target)


def test_analyze_image_matches_a_plain_forward(tiny):
    img = pattern("stripes")
    a = analyze_image(tiny, img)
    assert a.probs.sum().item() == pytest.approx(1.0) and a.target == a.predicted
    assert set(a.cams) == {"SE_2_2", "SE_3_2"} and torch.equal(a.cam, a.cams["SE_3_2"])
    assert a.grids == {"SE_2_2": (16, 16), "SE_3_2": (8, 8)}
    assert all(c.shape == (16, 16) and 0 <= c.min() and c.max() <= 1 for c in a.cams.values())
    x = tiny.preprocess(img)[None]
    with torch.no_grad(), SERecorder(tiny) as rec:
        logits = tiny.model(x)
    assert torch.allclose(a.probs, logits[0].softmax(0), atol=1e-6)
    assert torch.allclose(predict(tiny, [img, img])[1], a.probs, atol=1e-6)
    for k, s in rec.excitation.items():
        assert torch.allclose(a.excitation[k], s[0], atol=1e-6)
        assert torch.allclose(a.squeeze[k], rec.squeeze[k][0], atol=1e-6)
    other = analyze_image(tiny, img, target=(a.predicted + 1) % 3)
    assert other.target == (a.predicted + 1) % 3 and not torch.equal(other.cam, a.cam)
    assert not hasattr(a, "image") and not hasattr(a, "input") and not hasattr(a, "before")
    only = analyze_image(tiny, img, layers=["SE_2_1", "layer1.0"])  # any block or module path
    assert list(only.cams) == ["SE_2_1", "layer1.0"] and torch.equal(only.cams["SE_2_1"], only.cams["layer1.0"])
    with pytest.raises(ValueError, match="unknown layer"):
        analyze_image(tiny, img, layers=["nope"])
    assert hook_count(tiny.model) == 0


def test_block_maps_without_gradients_match_a_recorded_forward(tiny):
    img = pattern("circle")
    m = block_maps(tiny, img, "SE_3_1")
    with torch.no_grad(), SERecorder(tiny, feature_maps=["SE_3_1"]) as rec:
        tiny.model(tiny.preprocess(img)[None])
    assert m.block == "SE_3_1" and m.before.shape == (16, 8, 8) and not m.after.requires_grad
    assert torch.equal(m.before, rec.before["SE_3_1"][0]) and torch.equal(m.after, rec.after["SE_3_1"][0])
    assert torch.allclose(m.after, m.before * m.excitation[:, None, None], atol=1e-6)
    assert torch.allclose(m.excitation, analyze_image(tiny, img).excitation["SE_3_1"], atol=1e-6)
    assert torch.allclose(m.squeeze, m.before.mean((1, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="unknown SE block"):
        block_maps(tiny, img, "SE_9_9")
    assert hook_count(tiny.model) == 0


def test_analysis_keeps_one_blocks_feature_maps_from_its_own_pass(tiny):
    img = pattern("square")
    a = analyze_image(tiny, img, maps_block="SE_3_1")
    m = block_maps(tiny, img, "SE_3_1")  # the separate gradient-free pass it replaces on first paint
    assert a.maps.block == "SE_3_1" and not a.maps.after.requires_grad
    for k in ("squeeze", "excitation", "before", "after"):
        assert torch.equal(getattr(a.maps, k), getattr(m, k)), k
    assert torch.equal(a.maps.excitation, a.excitation["SE_3_1"])
    assert analyze_image(tiny, img).maps is None  # none asked, none kept
    with pytest.raises(UnknownBlockError):
        analyze_image(tiny, img, maps_block="SE_9_9")
    assert hook_count(tiny.model) == 0


def test_analyze_image_is_thread_safe(tiny):
    images = [pattern(k, seed=i) for i, k in enumerate(["circle", "square", "stripes"] * 3)]
    expected = [analyze_image(tiny, im) for im in images]
    results = [None] * len(images)

    def work(i):
        results[i] = analyze_image(tiny, images[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for exp, got in zip(expected, results):
        assert all(torch.allclose(exp.cams[k], got.cams[k]) for k in exp.cams)
        assert torch.equal(exp.probs, got.probs)
    assert hook_count(tiny.model) == 0


def bordered(size: int = 64, band: int = 6) -> Image.Image:
    """White, a red band of `band` px along every border, and a black dot near the top-left corner inside."""
    img = Image.new("RGB", (size, size), (255, 0, 0))
    img.paste((255, 255, 255), (band, band, size - band, size - band))
    img.paste((0, 0, 0), (12, 12, 16, 16))
    return img


def test_overlay_sits_on_what_a_crop_pct_model_saw(tiny):
    from se_models.explain.overlay import overlay, square_crop
    from se_models.hooks.blocks import se_dims

    # timm-style evaluation: resize to 16 / 0.8 = 20, centre-crop 16 (crop_pct 0.8): the 6 px band of a 64 px
    # image becomes 1.9 px, inside the 2 px that the crop cuts off
    cropped = dataclasses.replace(tiny, transform=transforms.Compose(
        [transforms.Resize(20), transforms.CenterCrop(16), *tiny.transform.transforms[2:]]))
    img = bordered()
    view = cropped.model_view(img)
    assert view.size == (16, 16)
    # the view is the input tensor: de-normalised, the same pixels
    x = cropped.preprocess(img) * 0.25 + 0.5
    assert torch.allclose(x, transforms.functional.to_tensor(view), atol=1 / 255)
    # the analysis resizes the photo once: its input is exactly the preprocessing's, its view exactly model_view
    assert torch.equal(cropped.view_tensor(view), cropped.preprocess(img))
    a = analyze_image(cropped, img)
    assert a.view.size == (16, 16) and np.array_equal(np.asarray(a.view), np.asarray(view))
    # a heatmap that is hot where the model's input is dark (the dot) must be hot over the dot in the overlay
    heat = 1 - x.mean(0)
    heat = (heat - heat.min()) / (heat.max() - heat.min())
    photo = np.asarray(overlay(view, heat, alpha=0.0, size=160)).astype(float).sum(-1)
    hot = np.asarray(overlay(view, heat, alpha=1.0, size=160))[..., 0].astype(float)  # jet: red = hot
    dot, peak = np.unravel_index(photo.argmin(), photo.shape), np.unravel_index(hot.argmax(), hot.shape)
    assert abs(dot[0] - peak[0]) <= 8 and abs(dot[1] - peak[1]) <= 8
    red = np.asarray(overlay(view, heat, alpha=0.0, size=160)).astype(int)
    assert not ((red[..., 0] > 200) & (red[..., 1] < 80)).any()  # the band the model never saw is not drawn
    # the old picture, the photo's whole centre square, shows the band and puts the dot elsewhere
    old = np.asarray(square_crop(img).resize((160, 160), Image.BICUBIC)).astype(int)
    assert ((old[..., 0] > 200) & (old[..., 1] < 80)).any()
    old_dot = np.unravel_index(old.sum(-1).argmin(), old.shape[:2])
    assert abs(old_dot[0] - peak[0]) > 8
    with pytest.raises(ImageError, match="model_view"):
        overlay(img, heat)  # the photo itself is refused: the map would not line up
    assert se_dims(dict(tiny.model.named_modules())[tiny.se_blocks["SE_2_1"]]) == (8, 2)


def test_overlay_colours_are_the_colormaps_and_a_shared_base_changes_nothing():
    from se_models.explain.overlay import colormap_table, enlarge, overlay

    rng = np.random.default_rng(0)
    view = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    heat = torch.from_numpy(rng.random((16, 16), dtype=np.float32))
    full = np.asarray(overlay(view, heat, alpha=1.0, size=48))  # the map alone
    level = np.asarray(Image.fromarray((heat.numpy() * 255).astype(np.uint8)).resize((48, 48), Image.BILINEAR))
    assert np.array_equal(full, colormap_table("jet")[level])  # every pixel is the colormap's colour of its level
    assert np.array_equal(np.asarray(overlay(view, heat, 0.0, 48)), np.asarray(enlarge(view, 48)))
    shared = enlarge(view, 48)
    assert np.array_equal(np.asarray(overlay(view, heat, 0.3, 48, base=shared)),
                          np.asarray(overlay(view, heat, 0.3, 48)))
    # a base of another size is not used (the picture would be the wrong size)
    assert overlay(view, heat, 0.3, 48, base=enlarge(view, 40)).size == (48, 48)


@pytest.mark.parametrize("cmap", ["jet", "viridis"])
def test_colour_tables_are_matplotlibs_colour_for_colour(cmap):
    """jet is drawn from its own segment data, without importing matplotlib: it must be matplotlib's jet exactly
    (any other map comes from matplotlib itself)."""
    from matplotlib import colormaps

    from se_models.explain.overlay import colormap_table

    expected = (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    assert np.array_equal(colormap_table(cmap), expected)
    assert not np.array_equal(colormap_table("jet"), colormap_table("viridis"))  # the name is not ignored


def test_a_small_view_is_drawn_with_four_pixels_per_model_pixel_and_loses_next_to_nothing():
    from se_models.explain.overlay import overlay, overlay_size

    rng = np.random.default_rng(0)
    view = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))  # noise: the most detail 32 px hold
    heat = torch.from_numpy(rng.random((32, 32), dtype=np.float32))
    assert overlay_size(view, 240) == 128 and overlay_size(view.resize((224, 224)), 240) == 240
    drawn = np.asarray(overlay(view, heat, 0.5, 240)).astype(float)

    def enlarged_by_the_browser(px: int) -> np.ndarray:  # a smooth enlarging, as the browser shows it 240 px wide
        return np.asarray(overlay(view, heat, 0.5, px).resize((240, 240), Image.BILINEAR)).astype(float)

    assert np.abs(enlarged_by_the_browser(overlay_size(view, 240)) - drawn).mean() < 4  # of 255: JPEG's own noise
    assert np.abs(enlarged_by_the_browser(32) - drawn).mean() > 15  # one pixel per model pixel would show
