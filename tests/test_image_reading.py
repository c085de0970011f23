"""The Image view's sentences follow this image's numbers: each case builds gates or distances where they change."""
import numpy as np
import pytest

from se_models.explain.analysis import class_distances
from se_models.findings.image import (
    GATE_BANDS,
    cam_finding,
    cam_label,
    extreme_channels,
    gate_band,
    gate_words,
    input_caption,
    profile_finding,
    profile_sentence,
    scale_sentence,
    truth_finding,
    typical_distance,
)


@pytest.mark.parametrize("s, words", [(0.97, "passes almost unchanged"), (0.9, "passes almost unchanged"),
                                      (0.89, "is mildly scaled down"), (0.79, "is mildly scaled down"),
                                      (0.57, "is markedly scaled down"), (0.2, "is strongly suppressed"),
                                      (0.03, "is nearly switched off")])
def test_gate_words_follow_the_number(s, words):
    assert gate_words(s) == words
    assert gate_band(s) in words


def test_bands_cover_the_sigmoid_range_and_never_say_amplified():
    lowers = [lower for lower, _ in GATE_BANDS]
    assert lowers == sorted(lowers, reverse=True) and lowers[-1] == 0.0
    assert not any("amplif" in words for _, words in GATE_BANDS)


def test_scale_sentence_says_unchanged_only_for_high_gates():
    low = scale_sentence([0.57, 0.79, 0.2])  # the highest gate is 0.79: not "almost unchanged"
    assert "almost unchanged" not in low
    assert "Channel 1 has the highest gate (s = 0.79): it is mildly scaled down" in low
    assert "Channel 2 has the lowest (s = 0.20): it is strongly suppressed" in low
    assert "no channel is amplified" in low and "4.0×" in low and "relative scaling" in low
    high = scale_sentence([0.95, 0.3, 0.5])
    assert "Channel 0 has the highest gate (s = 0.95): it passes almost unchanged" in high
    saturated = scale_sentence([0.9994, 0.0003, 0.5])  # no "s = 1.00" next to "no gate reaches 1"
    assert "(s > 0.999)" in saturated and "(s < 0.001)" in saturated
    assert "over 100×" in saturated and "1.00" not in saturated
    even = scale_sentence([0.50, 0.52, 0.51])  # no relative change worth the name
    assert "nearly equal" in even and "relative scaling" not in even


def test_profile_sentence_states_what_this_image_shows():
    means = {"SE_2_3": {"cat": [0.5, 0.5], "dog": [0.52, 0.48]}, "SE_4_3": {"cat": [0.2, 0.9], "dog": [0.8, 0.1]}}
    typical = {"SE_2_3": 0.02, "SE_4_3": 0.2}  # deep gates spread ten times as much within the class
    # close to the class line at SE_2_3, far at SE_4_3, for each block's own spread
    far_deep = class_distances({"SE_2_3": np.array([0.51, 0.49]), "SE_4_3": np.array([0.5, 0.5])}, means)
    text = profile_sentence(far_deep, "cat", typical)
    assert "0.010 at SE_2_3, 0.350 at SE_4_3" in text and "0.50× and 1.7× a typical cat image's" in text
    assert "closer to its class line in the shallowest block than in the deepest" in text
    # an image whose deep gates sit on the cat line
    on_line = class_distances({"SE_2_3": np.array([0.7, 0.3]), "SE_4_3": np.array([0.25, 0.85])}, means)
    text = profile_sentence(on_line, "cat", typical)
    assert "closer to its class line in the deepest block than in the shallowest" in text
    assert ("the cat one is the 2nd nearest at SE_2_3 and the nearest at SE_4_3: the deep gates point to this class"
            in text)
    assert "2nd nearest at SE_4_3" in profile_sentence(on_line, "dog", typical)
    assert profile_sentence({"SE_4_3": {"cat": 0.1}}, "cat") is None  # one block: nothing to compare


def test_profile_raw_distances_are_not_compared_across_blocks():
    """The raw distance grows with depth because deep gates spread more: 0.010 -> 0.100 is ten times the
    distance but the same place within each block's spread, and the sentence says so."""
    means = {"SE_2_3": {"cat": [0.5, 0.5]}, "SE_4_3": {"cat": [0.5, 0.5]}}
    d = class_distances({"SE_2_3": np.array([0.51, 0.49]), "SE_4_3": np.array([0.6, 0.4])}, means)
    f = profile_finding(d, "cat", {"SE_2_3": 0.01, "SE_4_3": 0.1})
    assert f.holds is None and "about as typical of the class at both depths" in f.text and "closer" not in f.text
    raw = profile_finding(d, "cat")  # without the spreads: no comparison across depth at all
    assert raw.holds is None and "do not compare across depth" in raw.text and "closer" not in raw.text
    assert typical_distance([0.1, 0.1]) == pytest.approx(0.1 * (2 / np.pi) ** 0.5)


def test_truth_is_said_only_for_an_image_with_one_true_class():
    assert truth_finding(None, "truck") is None  # a photo of a dog, a bicycle and a truck: no verdict
    right, wrong = truth_finding("cat", "cat"), truth_finding("cat", "dog")
    assert right.holds and right.markdown == "True class: **cat** — correct."
    assert wrong.holds is False and wrong.text == "True class: cat — misclassified as dog."
    from se_models.data.datasets import photos

    several = next(p for p in photos() if p["file"] == "dog.jpg")
    assert several["cifar10"] is None  # so the Image view never calls it misclassified


def test_a_grad_cam_map_says_its_class_probability_and_warns_when_unlikely():
    assert cam_label("truck", 0.003) == "Evidence for “truck” (0.3% probability)"
    unlikely = cam_finding("truck", 0.003, "cat")
    assert unlikely.holds is False and "0.3% probability" in unlikely.text and "not strong evidence" in unlikely.text
    likely = cam_finding("cat", 0.87, "cat")
    assert likely.holds and likely.text == ""
    assert cam_finding("dog", 0.2, "cat").holds  # a likely runner-up: no warning
    assert cam_finding("cat", 0.01, "cat").holds  # the prediction itself, however unsure: no warning


def test_extreme_channels_are_one_choice_without_overlap():
    assert extreme_channels([0.2, 0.9, 0.5, 0.9], 2) == ([3, 1], [0, 2])
    high, low = extreme_channels([0.5, 0.5], 2)
    assert high == [1, 0] and low == []  # two channels: both are "high", none is left for "low"


def test_profile_distance_is_the_mean_absolute_gap():
    d = class_distances({"A": np.array([0.0, 1.0, 0.5])}, {"A": {"k": [0.5, 0.5, 0.5]}, "B": {"k": [0, 0, 0]}})
    assert d == {"A": {"k": pytest.approx(1 / 3)}}  # block B: not in the image's excitations, left out


def test_imagenet_caption_is_no_fair_test_claim_for_random_weights():
    trained = input_caption(True, False, True, 224, "tabby cat")
    assert "fair test image" in trained and "tabby cat" in trained
    random = input_caption(True, True, True, 224, "tabby cat")
    assert "fair test" not in random and "random weights" in random
    assert input_caption(False, False, True, 32, None) is None  # small models: the out-of-distribution note instead
