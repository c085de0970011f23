"""SE ablation: the hooks override s exactly, compose with the recorder and Grad-CAM, and cost one pass per row."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import timm
import torch
from timm.layers import EffectiveSEModule, SEModule
from timm.models._efficientnet_blocks import SqueezeExcite
from timm.models.senet import SEModule as LegacySEModule
from torch import nn
from torchvision.ops import SqueezeExcitation

from se_models import SERecorder
from se_models.errors import DatasetError, NoSEBlocksError, SEExplorerError, UnknownBlockError
from se_models.explain.cam import grad_cam
from se_models.hooks.blocks import find_se_blocks
from se_models.hooks.kinds import TYPES as SE_TYPES
from se_models.stats.ablation import AblationError, ablate, ablation_table, ablation_tables, stage_rows
from tests.fakes import make_loaded
from tests.probes import PassCounter, hook_count


def without_se(model: nn.Module) -> nn.Module:
    """A copy of the model with every SE module replaced by nn.Identity: SE removed, independently of the hooks."""
    out = copy.deepcopy(model)
    for path in [p for p, m in out.named_modules() if isinstance(m, SE_TYPES)]:
        out.set_submodule(path, nn.Identity())
    return out


@pytest.mark.parametrize("se", [SEModule(16, rd_ratio=0.25), EffectiveSEModule(16), SqueezeExcite(16),
                                LegacySEModule(16, 4), SqueezeExcitation(16, 4)], ids=lambda m: type(m).__name__)
def test_identity_is_exactly_no_se_for_every_se_type(se):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3), se).eval()
    x = torch.randn(4, 3, 9, 9)
    with torch.no_grad():
        with ablate(model, mode="identity"):
            off = model(x)
        on = model(x)
    assert torch.equal(off, model[0](x))  # x * 1 == x, bit for bit
    assert not torch.equal(on, off)       # and the gate really did something before and after
    assert hook_count(model) == 0


@pytest.mark.parametrize("arch", ["seresnet50", "legacy_seresnet50"])
def test_timm_resnets_identity_matches_identity_modules(arch):
    torch.manual_seed(0)
    model = timm.create_model(arch, pretrained=False, num_classes=7).eval()
    for m in model.modules():  # timm zero-initialises each branch's last BatchNorm, which would hide the SE effect
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        on = model(x)
        with ablate(model, mode="identity"):
            off = model(x)
        assert torch.equal(off, without_se(model)(x)) and not torch.allclose(off, on)
        with ablate(model, blocks=["SE_5_3"], mode="shuffle"):  # legacy and timm stages both named SE_2.._5
            assert not torch.allclose(model(x), on)
    assert hook_count(model) == 0


@pytest.mark.slow  # 5 passes over 200 bundled samples
def test_bundled_identity_reproduces_no_se_accuracy_exactly(tmp_path):
    """Done-when: `ablate` identity over all blocks = the model with nn.Identity for its SE modules, on the samples
    (the first 20 of each class: the equality holds image by image, so their number does not matter)."""
    import shutil

    from se_models import load_image, load_model
    from se_models.data.datasets import sample_images

    loaded = load_model("se_resnet20_fashion_mnist")
    samples = [(p, c) for c in sorted({c for _, c in sample_images("fashion-mnist")})
               for p in [p for p, k in sample_images("fashion-mnist") if k == c][:20]]
    for path, c in samples:
        (tmp_path / c).mkdir(exist_ok=True)
        shutil.copy(path, tmp_path / c)
    table = ablation_table(loaded, str(tmp_path), "identity")
    assert [r.label for r in table.rows] == ["stage 2", "stage 3", "stage 4", "all blocks"]
    x = torch.stack([loaded.preprocess(load_image(p)) for p, _ in samples])
    folder_to_label = {lab.replace("/", "-"): lab for lab in loaded.labels}
    y = torch.tensor([loaded.labels.index(folder_to_label[c]) for _, c in samples])
    with torch.no_grad():
        plain = without_se(loaded.model)(x).argmax(1)
        base = loaded.model(x).argmax(1)
    assert table.images == len(samples) == 200
    assert table.row("all blocks").top1 == round(float((plain == y).float().mean()), 5)
    assert table.baseline["top1"] == round(float((base == y).float().mean()), 5)
    assert table.row("all blocks").changed == round(float((plain != base).float().mean()), 5)


def test_one_forward_pass_per_row_and_one_decode_per_image(image_folder):
    loaded = make_loaded()
    calls = {"decode": 0}
    preprocess = loaded.preprocess
    loaded.preprocess = lambda img: (calls.__setitem__("decode", calls["decode"] + 1), preprocess(img))[1]
    modes = ("identity", "mean", "shuffle")
    with PassCounter(loaded.model) as counter:
        tables = ablation_tables(loaded, image_folder, modes, per_block=True, batch_size=5)
    rows = len(stage_rows(list(loaded.se_blocks), per_block=True))
    batches = -(-18 // 5)
    assert counter.forward == batches * (1 + rows * len(modes))  # baseline + one pass per (mode, row)
    assert calls["decode"] == 18
    assert tables["mean"].mean_source.startswith("mean gate over these same 18 images")
    assert tables["identity"].baseline["top5"] is None  # 3 classes: no top-5


def test_recorder_sees_the_overridden_gates_in_either_nesting_order(tiny):
    x = torch.randn(3, 3, 16, 16)
    first, second = list(tiny.se_blocks)[:2]
    with torch.no_grad(), SERecorder(tiny) as base:
        tiny.model(x)
    gates = {b: torch.full((base.excitation[b].shape[1],), 0.25) for b in tiny.se_blocks}
    with torch.no_grad(), SERecorder(tiny) as rec, ablate(tiny, [first], "mean", gates):
        tiny.model(x)
    assert torch.equal(rec.excitation[first], torch.full_like(rec.excitation[first], 0.25))
    assert not torch.allclose(rec.excitation[second], base.excitation[second])  # downstream changed too
    with torch.no_grad(), ablate(tiny, None, "identity"), SERecorder(tiny) as rec:
        tiny.model(x)
    assert all(torch.equal(s, torch.ones_like(s)) for s in rec.excitation.values())
    assert hook_count(tiny.model) == 0


def test_shuffle_gives_each_image_another_images_gates(tiny):
    x = torch.randn(6, 3, 16, 16)
    first = list(tiny.se_blocks)[0]
    with torch.no_grad(), SERecorder(tiny) as base:
        tiny.model(x)
    with torch.no_grad(), ablate(tiny, [first], "shuffle", seed=3), SERecorder(tiny) as rec:
        tiny.model(x)
    s, s0 = rec.excitation[first], base.excitation[first]
    donors = [int(torch.cdist(s[i:i + 1], s0).argmin()) for i in range(6)]
    assert sorted(donors) == list(range(6)) and all(d != i for i, d in enumerate(donors))
    assert torch.allclose(s, s0[donors])
    with pytest.raises(AblationError):
        with ablate(tiny, None, "shuffle"):
            tiny.model(x[:1])
    assert hook_count(tiny.model) == 0


def test_grad_cam_under_ablation_changes_and_leaves_no_hooks(tiny):
    x = torch.randn(1, 3, 16, 16)
    before = grad_cam(tiny, x, target=0)
    with ablate(tiny, None, "identity"):
        after = grad_cam(tiny, x, target=0)
    assert after.shape == before.shape and not torch.allclose(after, before)
    assert torch.allclose(grad_cam(tiny, x, target=0), before)
    assert hook_count(tiny.model) == 0


def test_hooks_removed_when_the_forward_pass_fails(tiny):
    with pytest.raises(RuntimeError):
        with ablate(tiny, None, "identity"):
            tiny.model(torch.randn(1, 5, 16, 16))  # wrong channel count
    assert hook_count(tiny.model) == 0


def test_bad_requests_raise_typed_errors(tiny, image_folder, tmp_path):
    with pytest.raises(UnknownBlockError, match="SE_9_9"):
        with ablate(tiny, ["SE_9_9"]):
            pass
    with pytest.raises(NoSEBlocksError):
        with ablate(nn.Sequential(nn.Conv2d(3, 4, 3))):
            pass
    with pytest.raises(AblationError, match="unknown ablation mode"):
        with ablate(tiny, None, "zero"):
            pass
    with pytest.raises(AblationError, match="needs a mean gate"):
        with ablate(tiny, None, "mean"):
            pass
    one = tmp_path / "one"
    (one / "circle").mkdir(parents=True)
    for p in (image_folder / "circle").iterdir():
        (one / "circle" / p.name).write_bytes(p.read_bytes())
    with pytest.raises(DatasetError, match="at least 2 classes"):
        ablation_table(tiny, one, "identity")
    assert all(issubclass(e, SEExplorerError) for e in (AblationError, DatasetError, UnknownBlockError))
    assert hook_count(tiny.model) == 0


def test_mean_mode_with_given_gates_is_one_sweep(image_folder):
    loaded = make_loaded()
    with torch.no_grad(), SERecorder(loaded) as rec:
        loaded.model(torch.randn(4, 3, 16, 16))
    gates = {b: np.full(s.shape[1], 0.5) for b, s in rec.excitation.items()}
    t = ablation_table(loaded, image_folder, "mean", mean_gates=gates, mean_source="given")
    assert t.mean_source == "given" and t.images == 18 and 0 <= t.row("all blocks").changed <= 1


def test_cli_ablate_json(tmp_path, capsys):
    from se_models.cli import main

    out = tmp_path / "a.json"
    assert main(["ablate", "--model", "se_resnet20_fashion_mnist", "--data", "bundled", "--per-class", "2",
                 "--mode", "shuffle", "--per-block", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert set(d) >= {"model", "data", "mode", "images", "baseline", "rows"} and d["images"] == 20
    assert [r["label"] for r in d["rows"]][:3] == ["stage 2", "stage 3", "stage 4"]
    assert d["rows"][-1]["label"] == "all blocks" and len(d["rows"]) == 3 + 9 + 1
    assert "stage 3" in capsys.readouterr().out
    assert main(["ablate", "--model", "se_resnet20_fashion_mnist", "--data", str(tmp_path), "--mode", "identity"]) == 2
    assert set(find_se_blocks(timm.create_model("seresnet18", pretrained=False))) >= {"SE_2_1", "SE_5_2"}


def test_the_image_analysis_composes_with_ablation(tiny):
    from se_models import analyze_image
    from tests.fakes import pattern

    img = pattern("circle")
    a = analyze_image(tiny, img)
    with ablate(tiny, None, "identity"):
        off = analyze_image(tiny, img, target=a.target)
    assert off.target == a.target and off.cam.shape == a.cam.shape
    assert not torch.allclose(off.probs, a.probs)
    assert all(torch.equal(s, torch.ones_like(s)) for s in off.excitation.values())
    assert hook_count(tiny.model) == 0
