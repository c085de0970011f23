"""Channel attention of every kind (hooks.kinds): found by type, one block per module named KIND_stage_block with as
many gates as channels, U and s*U, CBAM's spatial gate, the ablation's overrides in every gate's own shape; all on
random-weight timm models, offline."""
from __future__ import annotations

import copy
import json

import pytest
import torch
from torch import nn

from se_models import SERecorder, analyze_image, block_maps, load_model
from se_models.errors import NoSEBlocksError, WeightsUnavailable
from se_models.hooks import naming
from se_models.hooks.blocks import find_se_blocks
from se_models.hooks.kinds import GATES, has_gate, spec_of
from se_models.models.architectures import build
from se_models.stats.ablation import ablate
from tests.fakes import pattern
from tests.probes import hook_count

pytestmark = pytest.mark.xdist_group("test_kinds")  # one worker builds the module-scoped fixture once

# name -> (kind prefix, the module type's name, the attention modules it has)
MODELS = {
    "timm:ecaresnet26t": ("ECA", "EcaModule", 8),
    "ceca_resnet18": ("CECA", "CecaModule", 8),
    "gc_resnet18": ("GC", "GlobalContext", 8),
    "ge_resnet18": ("GE", "GatherExcite", 8),
    "ge4_resnet18": ("GE", "GatherExcite", 8),
    "cbam_resnet18": ("CBAM", "CbamModule", 8),
    "lcbam_resnet18": ("CBAM", "LightCbamModule", 8),
}
X = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def loaded():
    """Each kind's random-weight model, with the residual branches' BatchNorm scales made non-zero: timm
    zero-initialises each branch's last BatchNorm, which would make every gate irrelevant to the output."""
    out = {}
    for name in MODELS:
        m = load_model(name, weights="random")
        for mod in m.model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                nn.init.uniform_(mod.weight, 0.5, 1.5)
        out[name] = m
    return out


@pytest.mark.parametrize("name", MODELS)
def test_one_block_per_attention_module_named_by_kind_with_a_gate_per_channel(name, loaded):
    kind, type_name, count = MODELS[name]
    m = loaded[name]
    modules = [p for p, mod in m.model.named_modules() if type(mod).__name__ == type_name]
    assert list(m.se_blocks.values()) == modules and len(modules) == count
    # the paper's scheme with the kind in front: stem = stage 1, so the first residual stage is 2
    assert list(m.se_blocks)[:2] == [f"{kind}_2_1", f"{kind}_2_2"] and list(m.se_blocks)[-1] == f"{kind}_5_2"
    assert all(naming.block_kind(b) == kind and naming.stage_index(b) for b in m.se_blocks)
    with torch.no_grad(), SERecorder(m, feature_maps=True) as rec:
        m.model(X)
    for b in m.se_blocks:
        s, u, su = rec.excitation[b], rec.before[b], rec.after[b]
        assert s.shape == (2, u.shape[1]), b  # as many gates as channels
        assert ((s >= 0) & (s <= 1)).all(), b
        assert torch.allclose(rec.squeeze[b], u.mean((2, 3)))
        if name != "ge4_resnet18":  # a per-channel gate: s*U is U scaled by s exactly
            assert torch.allclose(su, u * s[:, :, None, None], atol=1e-6), b
    assert hook_count(m.model) == 0


def test_a_spatial_gather_excite_gate_is_read_as_its_mean_over_positions(loaded):
    m = loaded["ge4_resnet18"]
    block = "GE_3_1"
    path = m.se_blocks[block]
    seen = {}
    gate = dict(m.model.named_modules())[f"{path}.gate"]
    handle = gate.register_forward_hook(lambda _m, _i, out: seen.__setitem__("map", out.detach().clone()))
    try:
        with torch.no_grad(), SERecorder(m, feature_maps=[block]) as rec:
            m.model(X)
    finally:
        handle.remove()
    gate_map = seen["map"]  # (B, C, H, W): it varies over positions
    assert gate_map.shape[-2:] == rec.before[block].shape[-2:] and gate_map.std((2, 3)).max() > 0
    assert torch.allclose(rec.excitation[block], gate_map.mean((2, 3)))
    assert torch.allclose(rec.after[block], rec.before[block] * gate_map, atol=1e-6)  # s*U is the module's output


@pytest.mark.parametrize("name", ["cbam_resnet18", "lcbam_resnet18"])
def test_cbam_spatial_gate_is_recorded_beside_the_channel_gate(name, loaded):
    m = loaded[name]
    with torch.no_grad(), SERecorder(m, feature_maps=["CBAM_4_2"]) as rec:
        out = m.model(X)
    sp = rec.spatial["CBAM_4_2"]
    assert set(rec.spatial) == {"CBAM_4_2"}  # only for blocks whose maps are asked for
    assert sp.shape == (2, *rec.before["CBAM_4_2"].shape[-2:]) and ((sp > 0) & (sp < 1)).all()
    # the module's output is the channel-gated U times the spatial map
    module = dict(m.model.named_modules())[m.se_blocks["CBAM_4_2"]]
    with torch.no_grad():
        whole = module(rec.before["CBAM_4_2"])
    assert torch.allclose(whole, rec.after["CBAM_4_2"] * sp[:, None], atol=1e-5)
    photo = pattern("circle", size=64)
    maps = block_maps(m, photo, "CBAM_5_2")
    assert maps.spatial is not None and maps.spatial.shape == maps.before.shape[-2:]
    a = analyze_image(m, photo, maps_block="CBAM_5_2")  # the Image view's one pass keeps it too
    assert torch.allclose(a.maps.spatial, maps.spatial, atol=1e-5)
    assert not torch.isnan(out).any()


def without_gate(model: nn.Module, blocks: dict[str, str]) -> nn.Module:
    """A copy with every gate taken out by hand: the scaling part replaced by nn.Identity (CBAM keeps its spatial
    gate: only its channel part goes)."""
    out = copy.deepcopy(model)
    for path in blocks.values():
        spec = spec_of(out.get_submodule(path))
        out.set_submodule(f"{path}.{spec.scaled}" if spec.scaled else path, nn.Identity())
    return out


@pytest.mark.parametrize("name", MODELS)
def test_identity_takes_out_exactly_the_gate_of_every_kind(name, loaded):
    m = loaded[name]
    with torch.no_grad():
        on = m.model(X)
        with ablate(m, mode="identity"):
            off = m.model(X)
        plain = without_gate(m.model, m.se_blocks)(X)
    assert torch.allclose(off, plain, atol=1e-5) and not torch.allclose(off, on, atol=1e-4)
    assert hook_count(m.model) == 0


@pytest.mark.parametrize("name", ["timm:ecaresnet26t", "ge4_resnet18", "lcbam_resnet18"])
def test_mean_and_transplant_gates_reach_every_gate_shape(name, loaded):
    """ECA's (B, 1, C), a spatial gate (B, C, H, W) and a logit (light CBAM): the recorder sees the given gates."""
    m = loaded[name]
    with torch.no_grad(), SERecorder(m) as rec:
        m.model(X)
    means = {b: torch.linspace(0.1, 0.9, s.shape[1]) for b, s in rec.excitation.items()}
    with torch.no_grad(), ablate(m, mode="mean", mean_gates=means), SERecorder(m) as rec2:
        m.model(X)
    for b, g in means.items():
        assert torch.allclose(rec2.excitation[b], g.expand(2, -1), atol=1e-5), b
    donors = {b: torch.rand(2, s.shape[1]) for b, s in rec.excitation.items()}
    with torch.no_grad(), ablate(m, mode="transplant", donor_gates=donors), SERecorder(m) as rec3:
        m.model(X)
    for b, g in donors.items():
        assert torch.allclose(rec3.excitation[b], g, atol=1e-5), b


def test_ecas_own_resnet20_and_cbams_follow_se_resnet20():
    for arch, kind in (("eca_resnet20", "ECA"), ("cbam_resnet20", "CBAM")):
        model = build(arch, 10, 1).eval()
        blocks = find_se_blocks(model)
        assert list(blocks) == [f"{kind}_{s}_{b}" for s in (2, 3, 4) for b in (1, 2, 3)]
        assert blocks[f"{kind}_4_3"] == "layer3.2.se"
        with torch.no_grad(), SERecorder(model) as rec:
            model(torch.randn(2, 1, 28, 28))
        assert [rec.excitation[f"{kind}_{s}_3"].shape[1] for s in (2, 3, 4)] == [16, 32, 64]


def test_global_context_fused_by_addition_is_refused_by_name():
    with pytest.raises(NoSEBlocksError, match="GlobalContext blocks fuse by addition.*no gate") as err:
        load_model("timm:gcresnet33ts", weights="random")
    assert "gc_efficientnetv2_rw_t" in str(err.value)
    gc = dict(load_model("gc_resnet18", weights="random").model.named_modules())["layer1.0.se"]
    assert has_gate(gc)


def test_built_models_have_no_pretrained_weights_and_say_what_to_do():
    with pytest.raises(WeightsUnavailable, match="cbam_resnet18: no pretrained weights exist.*weights='random'"):
        load_model("cbam_resnet18")


def test_names_read_without_torch():
    assert naming.stage_index("ECA_4_3") == (4, 3) and naming.stage_index("CBAM_5_2") == (5, 2)
    assert naming.stage_index("SE_4_3") == (4, 3) and naming.stage_index("XX_4_3") is None
    assert naming.paper_name("layer3.2.se", "CECA") == "CECA_4_3"
    assert naming.paper_name("stages.3.1.attn", "GC") == "GC_5_2"  # ByobNet / NFNet stages
    assert naming.paper_name("head.attn", "GE") == "GE_head_attn" and naming.block_kind("GE_head_attn") == "GE"
    assert naming.last_of_each_stage(["CBAM_2_1", "CBAM_2_2", "CBAM_3_1"]) == ["CBAM_2_2", "CBAM_3_1"]
    assert naming.kinds_of(["SE_2_1", "ECA_2_1", "SE_3_1"]) == ["SE", "ECA"]
    assert naming.block_kind("fc") is None and set(naming.KINDS) == {spec.kind for spec in GATES.values()}


def test_cli_stats_and_ablate_on_other_kinds(image_folder, tmp_path, capsys):
    from se_models import cli

    out = tmp_path / "eca.json"
    assert cli.main(["stats", "--model", "timm:ecaresnet26t", "--weights", "random", "--data", str(image_folder),
                     "--per-class", "3", "--json", str(out)]) == 0, capsys.readouterr().err
    d = json.loads(out.read_text())
    assert [b["name"] for b in d["blocks"]][:2] == ["ECA_2_1", "ECA_2_2"] and len(d["blocks"]) == 8
    assert [b["channels"] for b in d["blocks"]][-1] == 2048  # a gate per channel, counted by a forward pass
    imagenet = tmp_path / "val"  # the transplant needs true classes among the model's own: two ImageNet classes
    for cls, kind in (("goldfish", "circle"), ("pug", "stripes")):
        (imagenet / cls).mkdir(parents=True)
        for i in range(2):
            pattern(kind, size=40, seed=i).save(imagenet / cls / f"{i}.png")
    out = tmp_path / "cbam.json"
    assert cli.main(["ablate", "--model", "cbam_resnet18", "--weights", "random", "--data", str(imagenet),
                     "--mode", "transplant", "--json", str(out)]) == 0, capsys.readouterr().err
    d = json.loads(out.read_text())
    assert [r["label"] for r in d["rows"]] == ["stage 2", "stage 3", "stage 4", "stage 5", "all blocks"]
    assert d["weights"] == "random" and d["rows"][-1]["blocks"][0] == "CBAM_2_1"
    capsys.readouterr()
    assert cli.main(["ablate", "--model", "timm:gcresnet33ts", "--weights", "random", "--data",
                     str(image_folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fuse by addition" in err and "Traceback" not in err
    assert cli.main(["models"]) == 0
    listed = capsys.readouterr().out
    assert "cbam_resnet50: ResNet-50 with CBAM" in listed and "random weights only" in listed
