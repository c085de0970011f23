"""Grad-CAM through captum on a hand-weighted model with a known answer, and analyze_image."""
import threading

import pytest
import torch
from PIL import Image
from torch import nn

from se_models import SERecorder, analyze_image, block_maps, grad_cam
from se_models.cam import run_grad_cam

from .conftest import hook_count, pattern


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
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 1:3, 2:5] = torch.tensor([1.0, 2.0, 4.0])  # positive blob
    # class 0: alpha_0 = 1/36 > 0, alpha_1 = 0 -> cam proportional to x
    cam0 = run_grad_cam(model, model.conv, x, target=0)
    assert torch.allclose(cam0[0], x[0, 0] / 4.0, atol=1e-6)
    # class 1: alpha_1 * (-x) <= 0 everywhere -> ReLU leaves nothing
    assert run_grad_cam(model, model.conv, x, target=1).abs().max() == 0
    # no target: the predicted class (0, its logit is larger)
    assert torch.allclose(run_grad_cam(model, model.conv, x), cam0)


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
    assert hook_count(tiny.model) == 0


def test_analyze_image_one_pass_matches_separate_runs(tiny):
    img = pattern("stripes")
    a = analyze_image(tiny, img, block="SE_2_2")
    assert a.probs.sum().item() == pytest.approx(1.0) and a.target == a.predicted
    assert a.cam.shape == (16, 16) and a.before.shape == (8, 16, 16)
    assert torch.equal(a.after, a.before * a.excitation["SE_2_2"][:, None, None])
    x = tiny.preprocess(img)[None]
    with torch.no_grad(), SERecorder(tiny) as rec:
        logits = tiny.model(x)
    assert torch.allclose(a.probs, logits[0].softmax(0), atol=1e-6)
    for k, s in rec.excitation.items():
        assert torch.allclose(a.excitation[k], s[0], atol=1e-6)
    other = analyze_image(tiny, img, target=(a.predicted + 1) % 3)
    assert other.target == (a.predicted + 1) % 3 and not torch.equal(other.cam, a.cam)
    assert other.block is None and other.before is None and other.after is None  # no block asked: no map copies
    assert hook_count(tiny.model) == 0


def test_block_maps_without_gradients_match_the_full_analysis(tiny):
    img = pattern("circle")
    a = analyze_image(tiny, img, block="SE_3_1")
    m = block_maps(tiny, img, "SE_3_1")
    assert m.block == "SE_3_1" and m.before.shape == (16, 8, 8) and not m.after.requires_grad
    assert torch.allclose(m.before, a.before, atol=1e-6) and torch.allclose(m.after, a.after, atol=1e-6)
    assert torch.allclose(m.excitation, a.excitation["SE_3_1"], atol=1e-6)
    assert torch.allclose(m.squeeze, a.before.mean((1, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="unknown SE block"):
        block_maps(tiny, img, "SE_9_9")
    assert hook_count(tiny.model) == 0


def test_analyze_image_is_thread_safe(tiny):
    images = [pattern(k, seed=i) for i, k in enumerate(["circle", "square", "stripes"] * 3)]
    expected = [analyze_image(tiny, im, block="SE_3_2") for im in images]
    results = [None] * len(images)

    def work(i):
        results[i] = analyze_image(tiny, images[i], block="SE_3_2")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for exp, got in zip(expected, results):
        assert torch.allclose(exp.cam, got.cam) and torch.equal(exp.after, got.after)
    assert hook_count(tiny.model) == 0


def test_model_view_crop_and_overlay_follow_the_preprocessing(tiny):
    from se_models.blocks import se_dims
    from se_models.cam import overlay, square_crop

    img = pattern("stripes", size=40).resize((60, 40))
    assert tiny.model_view(img).size == (16, 16)
    assert square_crop(img).size == (40, 40)
    # the overlay shows the centre square the model saw: a black left third of a wide image disappears
    wide = Image.new("RGB", (60, 40), "white")
    wide.paste((0, 0, 0), (0, 0, 10, 40))
    assert min(overlay(wide, torch.zeros(16, 16), alpha=0.0, size=40).getdata()) == (255, 255, 255)
    assert se_dims(dict(tiny.model.named_modules())[tiny.se_blocks["SE_2_1"]]) == (8, 2)
