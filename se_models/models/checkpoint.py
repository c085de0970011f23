"""Reading weights files (safetensors, or torch files with weights_only=True) and loading them into a model."""
from __future__ import annotations

import pickle
import stat
import struct
from pathlib import Path

import torch
from safetensors import SafetensorError
from timm.models import load_state_dict as timm_load_state_dict
from torch import nn

from se_models.errors import CheckpointError

NOT_A_CHECKPOINT = "it is truncated, or neither a safetensors file nor a weights-only torch file"
ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6
PICKLE_MAGIC = b"\x80"      # the legacy torch.save format opens with a pickle protocol >= 2 marker


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A safetensors file, or a torch file read with weights_only=True (never arbitrary unpickling).

    timm's reader unwraps training checkpoints (`state_dict_ema` / `model_ema` / `state_dict` / `model`) and strips
    DDP's `module.` and torch.compile's `_orig_mod.` prefixes; its errors become CheckpointErrors that say what to
    do."""
    path = Path(path)
    _check_format(path)
    try:
        state = timm_load_state_dict(str(path), use_ema=True, weights_only=True)
    except (SafetensorError, pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError, KeyError,
            AttributeError, IndexError, TypeError, OverflowError, struct.error) as err:
        # a damaged file reaches torch's unpickler, whose failures have no common type (IndexError, struct.error..)
        # torch's own text ("Weights only load failed ... Re-running torch.load with weights_only set to False")
        # suggests the unsafe way out; say instead what the file is not. (torch and timm have no error type for it:
        # the message names the refused class as an "Unsupported global")
        pickled = isinstance(err, (pickle.UnpicklingError, RuntimeError)) and "Unsupported global" in str(err)
        why = ("it holds Python objects besides tensors, which are not loaded from a file for safety: save the "
               "state dict alone (torch.save(model.state_dict(), path)) or as safetensors" if pickled else
               NOT_A_CHECKPOINT)
        raise CheckpointError(f"{path.name}: not a readable checkpoint: {why}") from err
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: holds no state dict of tensors")
    return state


def _check_format(path: Path) -> None:
    """CheckpointError, naming the file only, unless it is a regular file that opens as a safetensors file (an 8-byte
    header length, then a JSON header) or a torch file: what else a user names (a text file, an image, a FIFO,
    /dev/zero) is refused here, before any reader sees it, with one line instead of a reader's traceback."""
    try:
        info = path.stat()
    except OSError as err:  # missing, a name too long, no permission
        raise CheckpointError(f"{path.name}: no such checkpoint file") from err
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"{path.name}: not a checkpoint file (a folder, pipe or device)")
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as err:
        raise CheckpointError(f"{path.name}: cannot be read ({err.strerror or err})") from err
    header = int.from_bytes(head[:8], "little") if len(head) == 9 else 0
    safetensors = head[8:9] == b"{" and 0 < header <= info.st_size - 8
    if not (safetensors or head.startswith(ZIP_MAGIC) or head.startswith(PICKLE_MAGIC)):
        raise CheckpointError(f"{path.name}: not a readable checkpoint: {NOT_A_CHECKPOINT}")


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Raise CheckpointError naming every missing, unexpected and wrongly shaped tensor."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
              for k, v in own.items() if k in state and state[k].shape != v.shape]
    problems = []
    if shapes:
        problems.append("shape mismatch " + "; ".join(shapes[:5]) + (" ..." if len(shapes) > 5 else ""))
    if missing:
        problems.append(f"{len(missing)} missing tensors (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (e.g. {', '.join(unexpected[:3])})")
    if problems:
        raise CheckpointError(f"checkpoint does not match {what}: " + "; ".join(problems))


def load_weights(model: nn.Module, path: str | Path, what: str) -> nn.Module:
    """Read a weights file, check it against the model (`what` names the model in the message), load it."""
    state = read_state_dict(path)
    check_state_dict(model, state, what)
    model.load_state_dict(state)
    return model
