"""load_model: bundled weights, the random control, local checkpoints, and wrong checkpoints named."""
import pickle

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from se_models import DEFAULT_MODEL, CheckpointError, list_models, load_model
from se_models.models.architectures import build


def test_bundled_models_load():
    assert DEFAULT_MODEL in list_models()
    m = load_model()
    assert m.name == DEFAULT_MODEL and not m.model.training and m.weights == "trained"
    assert len(m.labels) == 10 and list(m.se_blocks)[0] == "SE_2_1"
    x = m.preprocess(Image.new("RGB", (300, 200), "white"))
    assert tuple(x.shape) == m.input_size  # photos are resized and centre-cropped to the model's input
    assert m.card.kind == "bundled" and m.card.dataset == "cifar10" and m.card.labels == m.labels
    assert m.card.epochs and m.card.params == sum(p.numel() for p in m.model.parameters())


def test_random_control_is_reproducible_and_differs():
    a, b = load_model(weights="random"), load_model(weights="random")
    trained = load_model()
    assert a.is_control and a.weights == "random"
    sa, sb, st = (dict(m.model.state_dict()) for m in (a, b, trained))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["fc.weight"], st["fc.weight"])


def test_local_checkpoints(tmp_path):
    trained = load_model()
    state = trained.model.state_dict()
    torch.save({"model": state, "epoch": 3}, tmp_path / "ckpt.pt")  # a training checkpoint wraps the weights
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    for path in (tmp_path / "ckpt.pt", tmp_path / "w.safetensors"):
        m = load_model(weights=path)
        assert m.weights == str(path) and torch.equal(m.model.state_dict()["fc.weight"], state["fc.weight"])


def test_wrong_checkpoints_name_the_mismatch(tmp_path):
    card = load_model().card
    other = build(card.architecture, 100, card.in_chans)  # another class count
    save_file(other.state_dict(), str(tmp_path / "c100.safetensors"))
    c = other.fc.in_features
    with pytest.raises(CheckpointError, match=rf"fc.weight: checkpoint \(100, {c}\) vs model \(10, {c}\)"):
        load_model(weights=tmp_path / "c100.safetensors")
    partial = {k: v for k, v in other.state_dict().items() if not k.startswith("layer3")}
    partial["extra.weight"] = torch.zeros(1)
    torch.save(partial, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match=r"missing tensors \(e.g. layer3.*unexpected tensors \(e.g. extra"):
        load_model(weights=tmp_path / "partial.pt")
    good = (tmp_path / "c100.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(good[: len(good) // 3])
    with pytest.raises(CheckpointError, match="cut.safetensors: not a readable checkpoint"):
        load_model(weights=tmp_path / "cut.safetensors")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(weights=tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        load_model("nope")


class Evil:
    def __reduce__(self):
        return (exec, ("raise SystemExit('arbitrary code ran')",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch's note on the hand-made pickle, expected
def test_never_unpickles_arbitrary_objects(tmp_path):
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"model": Evil()}, f)
    with pytest.raises(CheckpointError, match="evil.pt: not a readable checkpoint"):
        load_model(weights=tmp_path / "evil.pt")
