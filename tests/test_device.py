"""The compute device: names resolved (auto = the best available), a device this machine lacks refused by type (every
command that runs a model takes --device: tests/test_cli.py walks them), and results that come back to the CPU
whatever the model's device."""
from __future__ import annotations

import pytest
import torch

import se_models
from se_models.cli import main
from se_models.errors import DeviceUnavailable
from se_models.explain.analysis import analyze_image
from se_models.models.device import resolve_device


def test_auto_is_the_best_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("CUDA:1") == torch.device("cuda", 1)


def test_a_device_this_machine_lacks_is_refused_by_type(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    for name in ("cuda", "cuda:0", "mps", "tpu"):
        with pytest.raises(DeviceUnavailable):
            resolve_device(name)
    # on the command line: one line saying what to do, exit code 2, no traceback
    assert main(["predict", "--device", "cuda", "assets/photos/chelsea.jpg"]) == 2
    assert "no CUDA GPU; use --device cpu or auto" in capsys.readouterr().err


def test_results_come_back_to_the_cpu_and_match_the_cpu_model():
    """On a machine with a GPU this runs the model there (auto); here, on the CPU: the same code path either way."""
    image = se_models.load_image("assets/photos/chelsea.jpg")
    on_cpu, best = se_models.load_model(None, None), se_models.load_model(None, None, device="auto")
    assert on_cpu.device == torch.device("cpu") and best.device.type == resolve_device("auto").type
    a, b = analyze_image(on_cpu, image, maps_block="SE_4_3"), analyze_image(best, image, maps_block="SE_4_3")
    assert all(t.device.type == "cpu" for t in [b.probs, *b.cams.values(), *b.excitation.values(), b.maps.after])
    assert a.predicted == b.predicted and torch.allclose(a.probs, b.probs, atol=1e-4)
    assert all(torch.corrcoef(torch.stack([a.cams[k].flatten(), b.cams[k].flatten()]))[0, 1] > 0.999
               for k in a.cams if a.cams[k].max() > 0)
    assert torch.allclose(se_models.predict(on_cpu, [image]), se_models.predict(best, [image]), atol=1e-4)


def test_ablation_attributions_and_deletion_curves_run_wherever_the_model_is():
    from se_models.data.datasets import bundled_samples_dir
    from se_models.explain import lenses, sanity
    from se_models.stats.ablation import ablation_tables

    name = "se_resnet20_fashion_mnist"
    on_cpu, best = se_models.load_model(name), se_models.load_model(name, device="auto")
    root = bundled_samples_dir("fashion-mnist")
    t = [ablation_tables(m, root, ("identity", "mean", "shuffle"), per_class=4)
         for m in (on_cpu, best)]  # mean over these same images: the gates are summed on the CPU
    assert [(r.label, r.top1) for r in t[0]["mean"].rows] == [(r.label, r.top1) for r in t[1]["mean"].rows]
    assert t[0]["shuffle"].baseline == t[1]["shuffle"].baseline
    x = on_cpu.preprocess(se_models.load_image(next((root / "Bag").iterdir())))[None]
    a, b = (lenses.maps(m, x, target=0) for m in (on_cpu, best))
    for method in a:
        assert b[method].device.type == "cpu"
        assert torch.corrcoef(torch.stack([a[method].flatten(), b[method].flatten()]))[0, 1] > 0.99, method
    curves = [sanity.deletion_insertion(m, x[0], a["gradcam"][0], 0, steps=4) for m in (on_cpu, best)]
    assert abs(curves[0].deletion_auc - curves[1].deletion_auc) < 1e-3
