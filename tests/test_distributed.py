"""Several processes (torchrun, gloo on CPU) give the single-process statistics: the sums and samples merge exactly."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from se_models.cli import main
from se_models.config import PROJECT

ROOT = PROJECT
ARGS = ["stats", "--model", "se_resnet20_fashion_mnist", "--data", "bundled", "--classes", "Bag", "Trouser",
        "Sneaker", "--per-class", "20", "--control", "--workers", "0"]


@pytest.mark.slow
def test_torchrun_two_processes_equal_one(tmp_path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert main([*ARGS, "--json", str(one)]) == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "se_models", *ARGS, "--json", str(two)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    assert a["processes"] == 1 and b["processes"] == 2
    assert a["counts"] == b["counts"] == {"Bag": 20, "Trouser": 20, "Sneaker": 20}
    assert a["sample_counts"] == b["sample_counts"]
    for x, y in zip(a["blocks"] + a["control"], b["blocks"] + b["control"]):
        assert x["name"] == y["name"] and x["class_specific"] == y["class_specific"]
        assert x["divergence_p"] == y["divergence_p"]
        # the same images in other batches: float32 gates may differ in the last bit, the float64 sums do not add more
        for key in ("divergence", "divergence_corrected", "eta_squared", "mean", "std", "saturated_high"):
            assert x[key] == pytest.approx(y[key], rel=1e-5, abs=1e-9), key
        for key in ("divergence_ci", "divergence_null"):
            np.testing.assert_allclose(x[key], y[key], rtol=1e-4)
        assert x["probe_accuracy"] == y["probe_accuracy"]
        np.testing.assert_allclose(x["class_means"]["Bag"], y["class_means"]["Bag"], atol=2e-5)
