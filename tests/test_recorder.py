"""SERecorder: what it records, and that no hook outlives it."""
import pytest
import torch

from se_models import SERecorder
from se_models.models.architectures import build
from tests.probes import hook_count


def test_records_every_block_with_paper_names(tiny):
    x = torch.randn(5, 3, 16, 16)
    with SERecorder(tiny, feature_maps=True) as rec:
        tiny.model(x)
    assert list(rec.excitation) == ["SE_2_1", "SE_2_2", "SE_3_1", "SE_3_2"]
    assert rec.excitation["SE_2_1"].shape == (5, 8) and rec.excitation["SE_3_2"].shape == (5, 16)
    for name, s in rec.excitation.items():
        assert ((s > 0) & (s < 1)).all(), name
        u, su = rec.before[name], rec.after[name]
        assert torch.equal(su, u * s[:, :, None, None])  # scale step: s * U exactly
        assert torch.allclose(rec.squeeze[name], u.mean((2, 3)))  # squeeze step: global average pooling


def test_hooks_removed_on_exit_and_on_exception(tiny):
    assert hook_count(tiny.model) == 0
    with SERecorder(tiny):
        assert hook_count(tiny.model) == 8  # one on each SE module and one on each gate
        tiny.model(torch.randn(1, 3, 16, 16))
    assert hook_count(tiny.model) == 0
    with pytest.raises(RuntimeError):
        with SERecorder(tiny, feature_maps=True):
            tiny.model(torch.randn(1, 5, 16, 16))  # wrong channel count fails inside the forward pass
    assert hook_count(tiny.model) == 0


def test_records_are_detached_copies_immune_to_inplace_ops(tiny):
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    with SERecorder(tiny, blocks=["SE_3_2"], feature_maps=True) as rec:
        out = tiny.model(x)
    assert not rec.after["SE_3_2"].requires_grad
    kept = rec.after["SE_3_2"].clone()
    out.sum().backward()  # the graph still works: the recorder took nothing from it
    assert torch.equal(kept, rec.after["SE_3_2"])
    assert list(rec.excitation) == ["SE_3_2"] and not rec.before.keys() - {"SE_3_2"}


def test_feature_maps_only_when_asked_and_unknown_block_named(tiny):
    with SERecorder(tiny) as rec:
        tiny.model(torch.randn(1, 3, 16, 16))
    assert rec.before == {} and rec.after == {}
    with pytest.raises(ValueError, match="SE_9_9"):
        SERecorder(tiny, blocks=["SE_9_9"])


def test_resnet20_names_follow_the_paper():
    model = build("se_resnet20", 10, 3)
    with SERecorder(model) as rec:
        model.eval()(torch.randn(2, 3, 32, 32))
    assert list(rec.blocks.items())[0] == ("SE_2_1", "layer1.0.se")
    assert list(rec.blocks)[-1] == "SE_4_3" and rec.blocks["SE_4_3"] == "layer3.2.se"
    assert [rec.excitation[f"SE_{s}_3"].shape[1] for s in (2, 3, 4)] == [16, 32, 64]
    # no in-place ReLU anywhere outside SE's own squeezed vector: hooks and captum see intact tensors
    assert not any(getattr(m, "inplace", False) for n, m in model.named_modules() if ".se." not in n + ".")


def test_recorder_holds_the_models_lock(tiny):
    import threading

    with SERecorder(tiny):
        holder = threading.Thread(target=lambda: result.append(tiny.lock.acquire(timeout=0.05)))
        result = []
        holder.start()
        holder.join()
        assert result == [False]  # another thread must wait while the hooks are in
        with tiny.lock:  # the same thread may take it again (an RLock)
            pass
    assert tiny.lock.acquire(timeout=0.05)
    tiny.lock.release()
