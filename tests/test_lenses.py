"""Guided backprop, deconvnet, guided Grad-CAM on hand-computed cases; in-place ReLU; filters; the sanity check."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from se_models.errors import UnknownClassError, UnknownMethodError
from se_models.explain import lenses, sanity
from se_models.findings.methods import faithfulness_finding, sanity_finding
from se_models.hooks.blocks import find_se_blocks
from se_models.models.card import ModelCard
from se_models.models.registry import LoadedModel
from tests.fakes import make_loaded, pattern
from tests.probes import hook_count


class OneLayer(nn.Module):
    """x (1, 1, 1, 2) -> conv 1x1 with weights (1, -1) and bias -> ReLU -> linear: hand-computable gradients."""

    def __init__(self, inplace=False):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.conv.weight.data = torch.tensor([1.0, -1.0]).view(2, 1, 1, 1)
        self.conv.bias.data = torch.tensor([0.0, 0.0])
        self.relu = nn.ReLU(inplace=inplace)
        self.fc = nn.Linear(4, 2, bias=False)
        # logit 0 = a*h1 - b*h2 + ... ; the signs below make some backward signals negative on purpose
        self.fc.weight.data = torch.tensor([[2.0, -3.0, -1.0, 0.5], [0.0, 0.0, 0.0, 0.0]])

    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).flatten(1))


def _loaded(model, labels=("a", "b")):
    """A LoadedModel around a model that has no SE block (only the guided methods are used on it)."""
    card = ModelCard("hand", "bundled", "hand", "hand", labels=list(labels))
    return LoadedModel("hand", model, card, "random", {}, None)


def test_guided_backprop_and_deconvnet_match_the_hand_computation():
    model = OneLayer().eval()
    x = torch.tensor([3.0, -2.0]).view(1, 1, 1, 2)  # pixels p0 = 3, p1 = -2
    # conv out: channel 0 = x = (3, -2), channel 1 = -x = (-3, 2); flattened h = (3, -2, -3, 2) before ReLU
    # dlogit0/dh = (2, -3, -1, 0.5); ReLU passes where h > 0: positions 0 and 3
    # plain gradient:   p0: 2*1 (ch0) = 2 ;  p1: 0.5 * (-1) (ch1) = -0.5
    # guided backprop:  also drop negative incoming gradients: p0: relu(2) = 2; p1: relu(0.5) * -1 = -0.5
    # deconvnet:        relu of the incoming gradient only, ignore the forward mask:
    #                   p0: relu(2)*1 + relu(-1)*(-1) = 2 ;  p1: relu(-3)*1 + relu(0.5)*(-1) = -0.5
    loaded = _loaded(model)
    gb = lenses.attribute(loaded, x, "guided-backprop", target=0)
    assert torch.allclose(gb.flatten(), torch.tensor([2.0, -0.5]))
    # a case where the three differ: x = (3, 2) -> h = (3, 2, -3, -2), ReLU passes positions 0 and 1
    x = torch.tensor([3.0, 2.0]).view(1, 1, 1, 2)
    grad = torch.tensor([2.0, -3.0])                    # plain: (2, -3)
    guided = torch.tensor([2.0, 0.0])                   # negative gradient at position 1 is dropped
    deconv = torch.tensor([2.0 - 0.0, 0.0 - 0.5])       # relu(2)*1 + relu(-1)*-1 ; relu(-3)*1 + relu(0.5)*-1
    xg = x.clone().requires_grad_(True)
    model(xg)[0, 0].backward()
    assert torch.allclose(xg.grad.flatten(), grad)
    assert torch.allclose(lenses.attribute(loaded, x, "guided-backprop", 0).flatten(), guided)
    assert torch.allclose(lenses.attribute(loaded, x, "deconvnet", 0).flatten(), deconv)
    assert hook_count(model) == 0


def test_in_place_relu_gives_the_same_result_as_relu_turned_off():
    import timm

    torch.manual_seed(0)
    net = timm.create_model("seresnet18", pretrained=False, num_classes=3).eval()
    assert any(isinstance(m, nn.ReLU) and m.inplace for m in net.modules())
    off = copy.deepcopy(net)
    for m in off.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    x = torch.randn(2, 3, 48, 48)
    for method in ("guided-backprop", "deconvnet", "guided-gradcam"):
        a = lenses.attribute(_se_loaded(net), x, method, target=1)
        b = lenses.attribute(_se_loaded(off), x, method, target=1)
        assert torch.allclose(a, b, atol=1e-6), method
    # the hooks did fire: guided backprop is not the plain gradient
    xg = x.clone().requires_grad_(True)
    off(xg)[:, 1].sum().backward()
    assert not torch.allclose(lenses.attribute(_se_loaded(off), x, "guided-backprop", 1), xg.grad)


def _se_loaded(model):
    return LoadedModel("t", model, ModelCard("t", "bundled", "t", "t", labels=["a", "b", "c"]), "random",
                       find_se_blocks(model), None)


def test_guided_gradcam_is_guided_backprop_times_gradcam(tiny):
    x = torch.stack([tiny.preprocess(pattern(k)) for k in ("circle", "stripes")])
    gb = lenses.attribute(tiny, x, "guided-backprop", 0)
    ggc = lenses.attribute(tiny, x, "guided-gradcam", 0)
    cam = lenses.attribute(tiny, x, "gradcam", 0)  # (B, 1, H, W) normalised to max 1 per image
    ratio = ggc.abs().sum((1, 2, 3)) / (gb * cam).abs().sum((1, 2, 3)).clamp_min(1e-12)
    # captum's Grad-CAM is not normalised: guided Grad-CAM = guided backprop x cam x (a positive scale per image)
    scaled = gb * cam * ratio[:, None, None, None]
    assert torch.allclose(ggc, scaled, atol=1e-5 * float(ggc.abs().max()))
    assert ggc.shape == x.shape and hook_count(tiny.model) == 0


@pytest.mark.filterwarnings("ignore:Setting backward hooks on ReLU")  # captum's notice, every call
@pytest.mark.parametrize("target", [None, [2, 0]])
def test_guided_gradcam_equals_captums(tiny, target):
    """captum's GuidedGradCam (the reference, here only: the product multiplies guided backprop by our one-pass
    Grad-CAM) at the same layer, bilinear: the same values, not just the same picture."""
    from captum.attr import GuidedGradCam

    x = torch.stack([tiny.preprocess(pattern(k)) for k in ("circle", "stripes")])
    chosen = lenses.targets(tiny, x, target)
    layer = dict(tiny.model.named_modules())[tiny.block_module(list(tiny.se_blocks)[-1])]
    ref = GuidedGradCam(tiny.model, layer).attribute(x.clone().requires_grad_(True), target=chosen,
                                                      interpolate_mode="bilinear").detach()
    got = lenses.attribute(tiny, x, "guided-gradcam", target)
    assert ref.abs().max() > 0 and torch.allclose(got, ref, atol=1e-6 * float(ref.abs().max()))
    assert hook_count(tiny.model) == 0


def test_batched_equals_one_at_a_time_and_bad_input(tiny):
    x = torch.stack([tiny.preprocess(pattern(k, seed=i)) for i, k in enumerate(("circle", "square", "stripes"))])
    for method in lenses.METHODS:
        whole = lenses.attribute(tiny, x, method)
        ones = torch.cat([lenses.attribute(tiny, x[i:i + 1], method) for i in range(3)])
        assert torch.allclose(whole, ones, atol=1e-5), method
    with pytest.raises(UnknownMethodError, match="guided-backprop"):
        lenses.attribute(tiny, x, "lrp")
    with pytest.raises(UnknownClassError):
        lenses.attribute(tiny, x, "guided-backprop", target=7)


def test_filter_grid_colour_and_grey():
    rgb, grey = make_loaded(3), make_loaded(1)
    g = lenses.filter_grid(rgb.model, patch=6, gap=1)
    # 8 filters -> 3 x 3 grid of 6 px patches with 1 px gaps
    assert g.size == (3 * 7 + 1, 3 * 7 + 1)
    arr = np.asarray(g)
    assert (arr[1:7, 1:7].std(-1) > 0).any()  # colour: the three channels differ somewhere in a patch
    arr = np.asarray(lenses.filter_grid(grey.model, patch=6, gap=1))
    assert (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()
    w = lenses.first_conv(grey.model).weight[0, 0]
    lo, hi = int(w.argmin()), int(w.argmax())  # each filter spans black .. white
    assert arr[1 + lo // 3 * 2, 1 + lo % 3 * 2, 0] == 0 and arr[1 + hi // 3 * 2, 1 + hi % 3 * 2, 0] == 255


def test_explain_picture(tiny):
    img = pattern("circle", size=40)
    for method in lenses.METHODS:
        pic, target = lenses.explain(tiny, img, method, size=64)
        assert pic.size == (64, 64) and pic.mode == "RGB" and 0 <= target < 3


# ---- similarity measures --------------------------------------------------------------------------------------

def test_ssim_known_values():
    r = torch.rand(2, 20, 20, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(sanity.ssim(r, r), torch.ones(2), atol=1e-6)
    # constant maps p and q: contrast/structure terms are C2/C2 = 1, luminance (2pq + C1) / (p² + q² + C1)
    p, q, c1 = 0.2, 0.6, 0.01 ** 2
    got = sanity.ssim(torch.full((1, 20, 20), p), torch.full((1, 20, 20), q))
    assert got.item() == pytest.approx((2 * p * q + c1) / (p * p + q * q + c1), rel=1e-5)
    # an inverted map has the opposite structure: SSIM clearly negative; unrelated noise: near 0
    assert sanity.ssim(r[:1], 1 - r[:1]).item() < -0.5
    assert abs(sanity.ssim(r[:1], r[1:]).item()) < 0.1
    assert sanity.ssim(r[:1], (r[:1] * 0.5)).item() < 1  # same structure, less contrast: below 1


def test_spearman_known_values():
    a = torch.arange(16.0).view(1, 4, 4)
    assert sanity.spearman(a, a ** 3).item() == pytest.approx(1.0)  # monotone: same ranks
    assert sanity.spearman(a, -a).item() == pytest.approx(-1.0)
    assert sanity.spearman(a, torch.zeros(1, 4, 4)).item() == 0.0  # a constant map has no ranking


def test_sanity_sentence_follows_the_numbers():
    def said(rho, images=20):
        return sanity_finding(rho, lenses.METHODS, images).text
    as_paper = said({"gradcam": 0.05, "guided-backprop": 0.8, "deconvnet": 0.2})
    assert "as Adebayo et al." in as_paper and "Grad-CAM's map changes most" in as_paper
    flipped = said({"gradcam": 0.7, "guided-backprop": 0.1, "deconvnet": 0.2})
    assert "unlike Adebayo et al." in flipped and "Guided backprop's map changes most" in flipped
    tied = said({"gradcam": 0.51, "guided-backprop": 0.53})
    assert "about equally" in tied and "Adebayo" not in tied
    one = said({"gradcam": 0.05, "guided-backprop": 0.8}, images=1)  # one image is read as one image
    assert one.startswith("On this one image") and "as Adebayo et al. (2018) found" not in one


def _faithful(f, method):
    """The Methods view's reading of one method's curves (findings.methods)."""
    c = f.curves[method]
    return faithfulness_finding(lenses.METHODS[method], c.deletion_auc, c.insertion_auc, f.random_range("deletion"),
                                f.random_range("insertion"), len(f.random))


def test_cascade_randomises_from_the_top(tiny):
    control = make_loaded(seed=1)
    steps = sanity.cascade(tiny, control)
    units = [u for u, _ in steps]
    assert units[0] == "fc" and units[-1] == "conv1" and units.index("layer2.1") < units.index("layer1.0")
    last = steps[-1][1].model.state_dict()
    assert all(torch.equal(v, control.model.state_dict()[k]) for k, v in last.items())
    first = steps[0][1].model.state_dict()
    assert torch.equal(first["conv1.weight"], tiny.model.state_dict()["conv1.weight"])
    assert not torch.equal(first["fc.weight"], tiny.model.state_dict()["fc.weight"])


# ---- faithfulness ------------------------------------------------------------------------------------------------

class Spotlight(nn.Module):
    """Class 0's logit is 8 x the mean of the top-left quadrant of the image (nothing else matters)."""

    def forward(self, x):
        h = x.shape[-1] // 2
        s = x[:, 0, :h, :h].mean((1, 2)) * 8
        return torch.stack([s, torch.zeros_like(s)], 1)


def test_deletion_auc_of_the_perfect_map_beats_random_maps():
    image = -torch.ones(1, 16, 16)
    image[:, :8, :8] = 1.0  # the blurred start of the insertion curve dims the quadrant's edge
    perfect = torch.zeros(16, 16)
    perfect[:8, :8] = 1.0
    loaded = _loaded(Spotlight())
    f = sanity.faithfulness(loaded, image, {"gradcam": perfect}, target=0, steps=16, n_random=8)
    assert f.curves["gradcam"].deletion[0] == pytest.approx(1 / (1 + np.exp(-8)), abs=1e-5)  # untouched image
    # after 1/4 of the pixels the whole quadrant is the blurred copy's: logit 8 x its mean there
    from torchvision.transforms.functional import gaussian_blur
    blurred = gaussian_blur(image[None], kernel_size=9, sigma=2.0)[0]
    expected = torch.tensor([8 * blurred[0, :8, :8].mean(), 0.0]).softmax(0)[0].item()
    assert f.curves["gradcam"].deletion[4] == pytest.approx(expected, abs=1e-4)
    assert f.beats_random("gradcam", "deletion") and f.beats_random("gradcam", "insertion")
    assert "beats all 8 random maps both ways" in _faithful(f, "gradcam").text
    # the inverted map removes the quadrant last: worse than random, and the sentence says so
    g = sanity.faithfulness(loaded, image, {"gradcam": 1 - perfect}, target=0, steps=16, n_random=8)
    assert not g.beats_random("gradcam", "deletion")
    worse = _faithful(g, "gradcam")
    assert worse.holds is False and "worse than all 8 random maps in deletion" in worse.text


@pytest.mark.slow
def test_sanity_ordering_on_the_bundled_default():
    """Measured on the default CIFAR-10 model with the shipped photos and on Fashion-MNIST's bundled samples:
    Grad-CAM's map changes more under randomisation than guided backprop's (lower median Spearman)."""
    from se_models import load_image, load_model
    from se_models.data.datasets import photos, sample_images

    for name, paths in (("se_resnet20_cifar10", [p["path"] for p in photos()]),
                        ("se_resnet20_fashion_mnist", [p for p, _ in sample_images("fashion-mnist")][::25])):
        trained, control = load_model(name), load_model(name, weights="random")
        x = torch.stack([trained.preprocess(load_image(p)) for p in paths])
        r = sanity.sanity_check(trained, control, x, ("gradcam", "guided-backprop"))
        gc, gb = r.spearman["gradcam"].median().item(), r.spearman["guided-backprop"].median().item()
        assert gc < gb, (name, gc, gb)
