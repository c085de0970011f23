"""ImageNet SE networks from timm and SE discovery in any model — all offline, random weights."""
import time

import pytest
import timm
import torch
import torchvision
from PIL import Image
from safetensors.torch import save_file

from se_models import CheckpointError, SERecorder, analyze_image, block_maps, load_model
from se_models.hooks.blocks import find_se_blocks
from se_models.models.zoo import WeightsUnavailable

PAPER_BLOCKS = [f"SE_{s}_{b}" for s, n in ((2, 3), (3, 4), (4, 6), (5, 3)) for b in range(1, n + 1)]


@pytest.fixture(scope="module")
def photo():
    return Image.open("assets/photos/chelsea.jpg").convert("RGB")


@pytest.mark.slow  # a full SE-ResNet-50
@pytest.mark.parametrize("name, se_attr", [("seresnet50.a1_in1k", "se"), ("legacy_seresnet50.in1k", "se_module"),
                                           ("seresnext50_32x4d.racm_in1k", "se")])
def test_resnet50_family_blocks_follow_the_paper(name, se_attr, photo):
    m = load_model(name, weights="random")
    assert list(m.se_blocks) == PAPER_BLOCKS
    assert m.se_blocks["SE_2_3"] == f"layer1.2.{se_attr}" and m.se_blocks["SE_5_1"] == f"layer4.0.{se_attr}"
    assert len(m.labels) == 1000 and m.labels[1] == "goldfish"
    x = m.preprocess(photo)
    assert x.shape == (3, 224, 224)  # from the model's own pretrained config, not hard-coded
    a = analyze_image(m, photo)
    assert {k: v.shape[0] for k, v in a.excitation.items() if k.endswith("_1")} == {
        "SE_2_1": 256, "SE_3_1": 512, "SE_4_1": 1024, "SE_5_1": 2048}
    assert list(a.cams) == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_3"]
    assert a.cams["SE_4_6"].shape == (224, 224) and 0 <= a.cam.min() and a.cam.max() <= 1
    maps = block_maps(m, photo, "SE_5_3")
    assert maps.before.shape == (2048, 7, 7)
    assert torch.allclose(maps.after, maps.before * maps.excitation[:, None, None])


@pytest.mark.slow  # a full SE-ResNet-50
def test_local_safetensors_file(tmp_path, photo):
    torch.manual_seed(1)
    model = timm.create_model("seresnet50", pretrained=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "w.safetensors"))
    m = load_model("seresnet50.a1_in1k", weights=tmp_path / "w.safetensors")
    assert torch.equal(m.model.state_dict()["fc.weight"], model.state_dict()["fc.weight"])
    assert analyze_image(m, photo).probs.shape == (1000,)


@pytest.mark.slow  # a full SE-ResNet-50
def test_wrong_checkpoints_for_timm_models(tmp_path):
    save_file(timm.create_model("seresnet50", num_classes=10).state_dict(), str(tmp_path / "c10.safetensors"))
    with pytest.raises(CheckpointError, match=r"fc.weight: checkpoint \(10, 2048\) vs model \(1000, 2048\)"):
        load_model("seresnet50.a1_in1k", weights=tmp_path / "c10.safetensors")
    torch.save(timm.create_model("resnet18").state_dict(), tmp_path / "r18.pt")
    with pytest.raises(CheckpointError, match="does not match legacy_seresnet50.in1k.*missing tensors"):
        load_model("legacy_seresnet50.in1k", weights=tmp_path / "r18.pt")
    data = (tmp_path / "c10.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:1000])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_model("seresnet50.a1_in1k", weights=tmp_path / "cut.safetensors")


@pytest.mark.parametrize("factory, count", [
    (lambda: timm.create_model("regnety_002"), 13),
    (lambda: timm.create_model("efficientnet_b0"), 16),
    (lambda: timm.create_model("mobilenetv3_small_050"), 9),
    (lambda: torchvision.models.mobilenet_v3_small(), 9),
    (lambda: torchvision.models.efficientnet_b0(), 16),
])
def test_discovery_in_other_architectures(factory, count):
    model = factory().eval()
    blocks = find_se_blocks(model)
    assert len(blocks) == count and len(set(blocks)) == count
    with torch.no_grad(), SERecorder(model) as rec:
        model(torch.randn(2, 3, 96, 96))
    assert set(rec.excitation) == set(blocks)
    for s in rec.excitation.values():
        assert s.shape[0] == 2 and s.min() >= 0 and s.max() <= 1


def test_models_without_se_are_refused():
    with pytest.raises(ValueError, match="ResNet has no squeeze-and-excitation blocks"):
        load_model("timm:resnet18", weights="random")
    with pytest.raises(ValueError, match="timm:not_a_model"):
        load_model("timm:not_a_model", weights="random")


def test_any_timm_model_by_name():
    m = load_model("timm:regnety_002", weights="random")
    assert list(m.se_blocks)[0] == "SE_2_1" and m.input_size == (3, 224, 224)


def test_offline_uncached_fails_fast_with_instructions(tmp_path, monkeypatch):
    import socket

    import huggingface_hub.constants

    # an empty cache, even on a machine that has downloaded these weights before
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")
    monkeypatch.setattr(socket, "create_connection", no_network)  # the same on a machine with internet
    t = time.time()
    for name in ("legacy_seresnet50.in1k", "seresnet50.a1_in1k"):
        with pytest.raises(WeightsUnavailable, match=f"{name}: pretrained weights are not cached.*--weights PATH"):
            load_model(name)
    assert time.time() - t < 30


@pytest.mark.slow  # a full SE-ResNet-50
def test_paper_figure_preset_is_the_default_choice_for_se_resnet50():
    from se_models.plots.figures import default_blocks

    blocks = list(load_model("legacy_seresnet50.in1k", weights="random").se_blocks)
    assert default_blocks(blocks) == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]
