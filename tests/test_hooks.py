"""ModelHooks, the one hook manager: modules by name, a typed error for a bad one, the model's lock held while hooked,
outputs looked at or replaced, and no hook left behind whatever happens inside the block."""
import threading

import pytest
import torch
from torch import nn

from se_models.errors import SEExplorerError, UnknownBlockError
from se_models.hooks.manager import ModelHooks, hook_count
from tests.probes import PassCounter


def forward_hooks_left(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def lock_is_free(lock) -> bool:
    """Whether another thread can take the lock now (it takes it and gives it back)."""
    taken = []

    def take():
        taken.append(lock.acquire(timeout=0.05))
        if taken[0]:
            lock.release()
    other = threading.Thread(target=take)
    other.start()
    other.join()
    return taken[0]


def test_no_hook_is_left_after_an_exception_inside_the_block(tiny):
    x = torch.randn(2, 3, 16, 16)
    with pytest.raises(ZeroDivisionError):
        with ModelHooks(tiny) as hooks:
            hooks.forward("layer1.0", lambda *_: None)
            hooks.forward("layer2.1.se.gate", lambda *_: None, prepend=True)
            hooks.pre_forward("", lambda *_: None)
            assert forward_hooks_left(tiny.model) == 3
            tiny.model(x)
            raise ZeroDivisionError
    assert forward_hooks_left(tiny.model) == 0 and hook_count(tiny.model) == 0

    def failing(*_):
        raise RuntimeError("in the hook")

    with pytest.raises(RuntimeError, match="in the hook"):  # a hook that raises inside the forward pass: the same
        with ModelHooks(tiny) as hooks:
            hooks.forward("fc", failing)
            tiny.model(x)
    assert forward_hooks_left(tiny.model) == 0 and lock_is_free(tiny.lock)


def test_a_bad_layer_is_named_by_a_typed_error_and_nothing_stays(tiny):
    with pytest.raises(UnknownBlockError, match="'layer9.0'") as err:
        with ModelHooks(tiny) as hooks:
            hooks.forward("layer1.0", lambda *_: None)
            hooks.forward("layer9.0", lambda *_: None)
    assert isinstance(err.value, SEExplorerError) and forward_hooks_left(tiny.model) == 0


def test_a_subclass_whose_attach_fails_leaves_no_hook_and_no_lock(tiny):
    class HalfAttached(ModelHooks):
        def attach(self):
            self.forward("layer1.0", lambda *_: None)
            self.forward("layer1.0.se", lambda *_: None)
            raise KeyError("the third hook fails")

    with pytest.raises(KeyError):
        with HalfAttached(tiny):
            pass  # never reached
    assert forward_hooks_left(tiny.model) == 0
    assert lock_is_free(tiny.lock)


def test_hooks_only_inside_the_block():
    model = nn.Linear(2, 2)
    hooks = ModelHooks(model)
    with pytest.raises(RuntimeError, match="inside"):
        hooks.forward("", lambda *_: None)
    assert forward_hooks_left(model) == 0


def test_a_hook_that_returns_a_tensor_replaces_the_output_and_one_that_returns_none_looks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(5, 3)
    seen = {}
    with ModelHooks(model) as hooks:
        hooks.forward("0", lambda _m, _i, out: seen.__setitem__("first", out.detach().clone()))
        hooks.forward("1", lambda _m, _i, out: torch.zeros_like(out))
        out = model(x)
    assert torch.equal(out, model[2].bias.expand(5, 2))  # everything after the ReLU was replaced by zeros
    assert torch.equal(seen["first"], model[0](x))
    assert not torch.equal(model(x), out)  # the replacement is gone with the block


def test_the_lock_is_held_while_hooked_and_the_same_thread_may_enter_again(tiny):
    with ModelHooks(tiny):
        with ModelHooks(tiny):  # nested (an SERecorder around the Grad-CAM pass): an RLock
            assert not lock_is_free(tiny.lock)
        assert not lock_is_free(tiny.lock)  # still held by the outer block
    assert lock_is_free(tiny.lock)


def test_the_pass_counter_goes_through_the_manager(tiny):
    with PassCounter(tiny.model) as counter:
        assert forward_hooks_left(tiny.model) == 1
        tiny.model(torch.randn(1, 3, 16, 16)).sum().backward()
        with torch.no_grad():
            tiny.model(torch.randn(1, 3, 16, 16))
        assert (counter.forward, counter.backward) == (2, 1)
    assert hook_count(tiny.model) == 0
