"""Checkpoint reading: wrapped and DDP-prefixed training checkpoints load; anything else is a CheckpointError."""
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from se_models.errors import CheckpointError
from se_models.models.checkpoint import load_weights, read_state_dict


def tiny() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_prefixed_and_wrapped_checkpoints_load_the_same_tensors(tmp_path):
    source = tiny()
    state = source.state_dict()
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "ddp.pt")
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "wrapped.pt")
    torch.save({"model": {f"module.{k}": v for k, v in state.items()}, "opt": {}}, tmp_path / "both.pth")
    save_file(state, str(tmp_path / "plain.safetensors"))
    for name in ("ddp.pt", "wrapped.pt", "both.pth", "plain.safetensors"):
        model = load_weights(tiny(), tmp_path / name, "a tiny MLP")
        assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items()), name
    assert set(read_state_dict(tmp_path / "ddp.pt")) == set(state)


def test_bad_checkpoints_are_checkpoint_errors(tmp_path):
    torch.save({"0.weight": torch.zeros(4, 3)}, tmp_path / "part.pt")
    with pytest.raises(CheckpointError, match="does not match a tiny MLP: 3 missing tensors"):
        load_weights(tiny(), tmp_path / "part.pt", "a tiny MLP")
    torch.save({"epoch": 3}, tmp_path / "nothing.pt")
    with pytest.raises(CheckpointError, match="holds no state dict of tensors"):
        read_state_dict(tmp_path / "nothing.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="text.pt: not a readable checkpoint"):
        read_state_dict(tmp_path / "text.pt")
