"""Class-specificity metrics on hand-made data with known answers, and excitation_stats end to end."""
import json
import sys

import numpy as np
import pytest
from PIL import Image

from se_models import ExcitationStats, excitation_stats
from se_models.errors import DatasetError
from se_models.stats.excitation import class_divergence, eta_squared, probe_accuracy
from tests.fakes import LABELS


def test_eta_squared_known_values():
    y = np.array([0, 0, 1, 1])
    assert eta_squared(np.array([[0.0], [2.0], [1.0], [3.0]]), y) == pytest.approx(0.2)  # SS_b 1 / SS_t 5
    assert eta_squared(np.array([[0.1], [0.1], [0.9], [0.9]]), y) == pytest.approx(1.0)  # class explains all
    assert eta_squared(np.array([[0.2], [0.8], [0.2], [0.8]]), y) == pytest.approx(0.0)  # same mean per class
    # a constant channel carries no variation and is skipped, not counted as 0 or NaN
    assert eta_squared(np.array([[0.0, 5], [2, 5], [1, 5], [3, 5]]), y) == pytest.approx(0.2)


def test_class_divergence_is_the_spread_of_class_curves():
    y = np.repeat([0, 1], 10)
    s = np.where(y[:, None] == 0, 0.2, 0.6) * np.ones((20, 7))
    assert class_divergence(s, y) == pytest.approx(0.2)  # class means 0.2 and 0.6: std across classes 0.2
    assert class_divergence(np.full((20, 7), 0.5), y) == 0.0


def test_probe_separable_vs_random(rng):
    y = np.repeat(np.arange(4), 50)
    separable = rng.normal(0, 0.05, (200, 6)) + np.eye(4, 6)[y]
    assert probe_accuracy(separable, y) == 1.0
    noise = rng.normal(0, 1, (200, 6))
    assert probe_accuracy(noise, y) < 0.45  # chance is 0.25
    assert probe_accuracy(noise[:5], np.array([0, 1, 2, 3, 3])) is None  # one image of a class: no held-out set


def test_excitation_stats_on_a_folder(tiny, image_folder):
    Image.new("RGB", (4, 4)).save(image_folder / "square" / "ok.png")
    (image_folder / "circle" / "broken.png").write_bytes(b"not a png")
    calls = []
    st = excitation_stats(tiny, image_folder, per_class=None, channels=6,
                          progress=lambda d, t: calls.append((d, t)), batch_size=4)
    assert st.classes == LABELS and st.counts == {"circle": 6, "square": 7, "stripes": 6}  # the broken file not counted
    assert calls[-1][0] == calls[-1][1]
    b = st.block("SE_3_2")
    assert b.channels == 16 and len(b.sampled_channels) == 6 and b.sampled_channels == sorted(b.sampled_channels)
    assert set(b.class_means) == set(LABELS) and len(b.class_means["stripes"]) == 16
    # the mean over all images is the count-weighted mean of the class means (rounded to 5 decimals in the JSON)
    weighted = sum(st.counts[c] * np.mean(b.class_means[c]) for c in LABELS) / sum(st.counts.values())
    assert b.mean == pytest.approx(weighted, abs=1e-4) and b.std > 0 and b.chance == pytest.approx(1 / 3)
    # the all-classes line is the mean of the class means
    np.testing.assert_allclose(b.all_mean, np.mean(list(b.class_means.values()), 0), atol=1e-5)
    # a broken file selected by the sampler is reported, not fatal
    assert len(st.skipped) == 1 and "broken.png" in st.skipped[0]


def test_control_roundtrip_and_subset(tiny, image_folder, tmp_path):
    from tests.fakes import make_loaded

    st = excitation_stats(tiny, image_folder, classes=["circle", "stripes"], per_class=None,
                          control=make_loaded(seed=1))
    assert st.classes == ["circle", "stripes"] and st.counts == {"circle": 6, "stripes": 6}
    assert [b.name for b in st.control] == [b.name for b in st.blocks]
    assert st.control[0].class_means != st.blocks[0].class_means  # other weights, other numbers
    st.save(tmp_path / "s.json")
    again = ExcitationStats.load(tmp_path / "s.json")
    assert again == st and json.loads((tmp_path / "s.json").read_text())["model"] == "tiny"
    one = st.subset(["stripes", "circle"])
    b = one.block("SE_2_1")
    mu = np.array([b.class_means["stripes"], b.class_means["circle"]])
    assert b.divergence == pytest.approx(float(np.sqrt(mu.var(0).mean())))
    assert b.eta_squared is None and b.probe_accuracy is None and b.divergence_p is None and b.class_specific is None
    with pytest.raises(ValueError, match="unknown class"):
        st.subset(["dog"])
    with pytest.raises(ValueError, match="unknown class"):
        excitation_stats(tiny, image_folder, classes=["dog"])


def test_no_readable_image_is_one_clear_error(tiny, tmp_path):
    for c in ("circle", "square"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "a.png").write_bytes(b"broken")
    with pytest.raises(DatasetError, match="none of the 2 selected images could be read, e.g. .*a.png"):
        excitation_stats(tiny, tmp_path)


def test_one_class_is_refused_clearly(tiny, image_folder):
    with pytest.raises(DatasetError, match="at least 2 classes; .* gives 1 \\(circle\\)"):
        excitation_stats(tiny, image_folder, classes=["circle"])
    with pytest.raises(DatasetError, match="at least 2 classes"):
        excitation_stats(tiny, image_folder / "circle" / "..", classes=["stripes", "stripes"])


def test_worker_processes_give_the_same_statistics_and_report_bad_files(tiny, image_folder):
    (image_folder / "square" / "broken.png").write_bytes(b"not a png")
    one = excitation_stats(tiny, image_folder, per_class=None, workers=0, permutations=20, bootstrap=20)
    two = excitation_stats(tiny, image_folder, per_class=None, workers=2, batch_size=4, permutations=20,
                           bootstrap=20)
    assert one.counts == two.counts == {"circle": 6, "square": 6, "stripes": 6}
    assert len(two.skipped) == 1 and "broken.png" in two.skipped[0]
    for a, b in zip(one.blocks, two.blocks):
        assert a.divergence == pytest.approx(b.divergence, rel=1e-5) and a.class_means == b.class_means


def test_the_allocator_fix_applies_on_linux_and_is_a_no_op_elsewhere(monkeypatch):
    from se_models.stats import allocator

    allocator.fix_mmap_threshold.cache_clear()
    assert allocator.fix_mmap_threshold() is sys.platform.startswith("linux")  # glibc here and in CI
    allocator.fix_mmap_threshold.cache_clear()
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.fix_mmap_threshold() is False
    allocator.fix_mmap_threshold.cache_clear()
