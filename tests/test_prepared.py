"""ImageNet models prepared ahead of class: timm's real pretrained loading from a populated cache with the network
blocked, the download command, and reference statistics of a user's model in the user cache."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file
from streamlit.testing.v1 import AppTest

from se_models import cli, load_model
from se_models.models.registry import MODELS_DIR
from se_models.stats.stored import find_reference, user_reference_path
from tests.apphelp import APP
from tests.fakes import pattern

HF_MODEL = "regnety_002.pycls_in1k"  # a 3 M-parameter SE network whose weights timm takes from the Hugging Face hub
URL_MODEL = "legacy_seresnet18.in1k"  # one whose weights timm takes from a GitHub release URL (torch hub cache)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Empty Hugging Face and torch hub caches under tmp_path, the hub in offline mode, and every socket connection
    refused as on a machine without network, and recorded: (hub cache, torch hub dir, attempts)."""
    import huggingface_hub.constants as hf

    hub = tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(hub))  # the constants are read when huggingface_hub is imported
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "torch"))

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[-1] if args else kwargs)
        raise OSError("network is unreachable (blocked by the test)")
    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family == socket.AF_UNIX:  # local IPC (DataLoader workers hand tensors over Unix sockets)
            return real_connect(self, address)
        return refuse(address)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return hub, tmp_path / "torch", attempts


def put_in_hub_cache(hub: Path, arch: str, seed: int) -> dict:
    """Random weights for a timm model, written where huggingface_hub keeps a download:
    models--<org>--<repo>/snapshots/<revision>/model.safetensors, with refs/main naming the revision."""
    torch.manual_seed(seed)
    state = timm.create_model(arch, pretrained=False).state_dict()
    org, repo = timm.get_pretrained_cfg(arch).hf_hub_id.split("/")
    revision = "0123456789abcdef0123456789abcdef01234567"
    folder = hub / f"models--{org}--{repo}"
    (folder / "snapshots" / revision).mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "snapshots" / revision / "model.safetensors"))
    return state


def test_pretrained_weights_load_offline_from_the_hub_cache(offline):
    hub, _, attempts = offline
    state = put_in_hub_cache(hub, HF_MODEL, seed=7)
    m = load_model(f"timm:{HF_MODEL}")  # weights=None: timm's own pretrained path (create_model(pretrained=True))
    assert m.weights == "trained"
    own = m.model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in state.items() if v.is_floating_point())
    assert not torch.equal(own["head.fc.weight"], load_model(f"timm:{HF_MODEL}", weights="random").model
                           .state_dict()["head.fc.weight"])  # and they are not the random control's
    assert attempts == []


def test_pretrained_weights_load_offline_from_the_torch_hub_cache(offline):
    _, torch_dir, attempts = offline
    torch.manual_seed(8)
    state = timm.create_model(URL_MODEL, pretrained=False).state_dict()
    url = timm.get_pretrained_cfg(URL_MODEL).url
    (torch_dir / "checkpoints").mkdir(parents=True)
    torch.save(state, torch_dir / "checkpoints" / url.rsplit("/", 1)[1])
    m = load_model(f"timm:{URL_MODEL}")
    own = m.model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in state.items() if v.is_floating_point())
    assert attempts == []


def test_uncached_weights_offline_fail_in_one_clear_error(offline):
    from se_models.models.zoo import WeightsUnavailable

    with pytest.raises(WeightsUnavailable, match="pretrained weights are not cached"):
        load_model(f"timm:{HF_MODEL}")


def test_download_command_reports_cached_and_offline(offline, capsys):
    hub, _, _ = offline
    assert cli.main(["download", f"timm:{HF_MODEL}"]) == 2  # not cached, no network: one clear line
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cannot be reached" in err and "Traceback" not in err
    put_in_hub_cache(hub, HF_MODEL, seed=1)
    assert cli.main(["download", f"timm:{HF_MODEL}"]) == 0
    assert f"timm:{HF_MODEL}: cached" in capsys.readouterr().err
    assert cli.main(["download", "timm:resnet18"]) == 2
    assert "no squeeze-and-excitation blocks" in capsys.readouterr().err


def test_reference_for_a_users_model_goes_to_the_user_cache_and_shows_in_the_app(offline, tmp_path, monkeypatch,
                                                                                      capsys):
    hub, _, attempts = offline
    put_in_hub_cache(hub, HF_MODEL, seed=2)
    monkeypatch.setenv("SE_MODELS_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "val"
    for cls, kind in (("goldfish", "circle"), ("pug", "stripes")):
        (data / cls).mkdir(parents=True)
        for i in range(3):
            pattern(kind, size=40, seed=i).save(data / cls / f"{i}.png")
    name = f"timm:{HF_MODEL}"
    before = sorted(p.name for p in MODELS_DIR.iterdir())
    assert cli.main(["reference", "--model", name, "--data", str(data)]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in MODELS_DIR.iterdir()) == before  # never into the package
    path = user_reference_path(name)
    assert path == tmp_path / "cache" / "reference" / "timm_regnety_002.pycls_in1k.json" == find_reference(name)
    saved = json.loads(path.read_text())
    assert saved["data"] == "val" and saved["counts"] == {"goldfish": 3, "pug": 3} and saved["control"]

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(view="classes", model=name)
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert at.selectbox(key="source").value == "reference"  # the instant source, as for the bundled models
    curves = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "per channel and class" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert {t.get("name") for t in curves["data"]} == {"goldfish", "pug", "all"}
    assert any(c.value.startswith("Data: val") for c in at.caption)
    assert attempts == []


@pytest.mark.parametrize("arch, kind, blocks", [("ecaresnet26t.ra2_in1k", "ECA", 8),
                                                ("gc_efficientnetv2_rw_t.agc_in1k", "GC", 29)])
def test_other_channel_attention_loads_pretrained_from_the_hub_cache(offline, arch, kind, blocks):
    """ECA and global context (scale fusion) as the SE-ResNet-50 path: timm's own pretrained loading, from a cache
    populated with random weights, the network blocked."""
    from PIL import Image

    from se_models import analyze_image

    hub, _, attempts = offline
    state = put_in_hub_cache(hub, arch, seed=5)
    m = load_model(f"timm:{arch}")
    assert m.weights == "trained"
    own = m.model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in state.items() if v.is_floating_point())
    assert len(m.se_blocks) == blocks and all(b.startswith(f"{kind}_") for b in m.se_blocks)
    a = analyze_image(m, Image.open("assets/photos/chelsea.jpg").convert("RGB"))
    assert a.probs.shape == (1000,) and set(a.excitation) == set(m.se_blocks)
    assert list(a.cams)[-1] == list(m.se_blocks)[-1]
    assert attempts == []
