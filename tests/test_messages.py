"""What a user reads when something fails: our own sentences, never a library's raw text."""
from __future__ import annotations

import socket
import urllib.error

import pytest
import torch

from se_models import offline
from se_models.errors import CheckpointError
from se_models.models.checkpoint import read_state_dict


@pytest.mark.parametrize("err, words", [
    (socket.gaierror(-2, "Name or service not known"), "no internet connection"),
    (urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")), "no internet connection"),
    (TimeoutError("timed out"), "timed out"),
    (ConnectionRefusedError(111, "Connection refused"), "refused"),
    (OSError("network is unreachable"), "could not be reached"),
])
def test_network_failures_in_plain_words(err, words):
    text = offline.reason(err)
    assert words in text and "Errno" not in text and "Name or service" not in text


class NotATensor:  # pickled by reference: a weights-only load refuses it
    pass


def test_a_checkpoint_with_python_objects_is_refused_in_our_words(tmp_path):
    torch.save({"w": torch.zeros(2), "opt": NotATensor()}, tmp_path / "full.pt")
    with pytest.raises(CheckpointError) as caught:
        read_state_dict(tmp_path / "full.pt")
    text = str(caught.value)
    assert "Python objects besides tensors" in text and "state_dict" in text
    assert "weights_only" not in text and "Re-running" not in text  # torch's advice to load unsafely stays out


def test_a_garbage_checkpoint_is_not_called_pickled(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"garbage" * 20)
    with pytest.raises(CheckpointError, match="junk.pt: not a readable checkpoint: it is truncated, or neither"):
        read_state_dict(tmp_path / "junk.pt")


def test_offline_timm_weights_say_what_to_run_with_a_command_that_works(monkeypatch):
    from se_models.models import zoo

    def refuse(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")
    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(zoo.WeightsUnavailable) as caught:
        zoo.check_online("timm:regnety_002", {"hf_hub_id": "timm/regnety_002.pycls_in1k"})
    text = str(caught.value)
    assert "Errno" not in text and "no internet connection" in text
    assert "python -m se_models download timm:regnety_002" in text
    assert "create_model('timm:" not in text  # timm itself does not know the timm: prefix


@pytest.mark.parametrize("text, expected", [
    ("Could not compute statistics: could not download CIFAR-10: no network. Pass a folder.",
     "Could not compute statistics: could not download CIFAR-10: no network. Pass a folder."),
    ("No folder at this path..", "No folder at this path."),
    ("expected DIR/<class>/<image> ", "expected DIR/<class>/<image>."),
    ("Really?", "Really?"),
    ("", ""),
])
def test_one_full_stop(text, expected):
    from dashboard.wording import sentence

    assert sentence(text) == expected


def test_a_load_failure_never_doubles_the_full_stop():
    from dashboard import wording
    from se_models.errors import WeightsUnavailable

    err = WeightsUnavailable("x: pretrained weights are not cached. Use weights='random'.")
    text = wording.load_failure("timm:x", None, err)
    assert ".." not in text and "random'." in text


def test_short_labels_cut_between_words():
    from dashboard.wording import short

    assert short("cat", 13) == "cat"
    assert short("Chelsea the cat", 13) == "Chelsea the…"
    assert short("IMG_20231105_123456.png", 13) == "IMG_20231105…"
    assert all(len(short(t, 11)) <= 11 for t in ("German shepherd", "Rhodesian ridgeback", "x" * 40))


def test_the_stats_command_prints_paper_names_and_fixed_decimals(tmp_path, capsys):
    import re

    from se_models import cli

    assert cli.main(["stats", "--data", "reference", "--json", str(tmp_path / "s.json")]) == 0
    # the per-block lines are the indented ones (the closing reading is a paragraph)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("  ") and "divergence" in ln]
    assert lines and all(re.match(r"\s+SE_\d+_\d+\s", ln) for ln in lines), lines  # paper names, not layer3.2
    for ln in lines:
        assert re.search(r"probe (\d\.\d{3}|–)\s", ln), ln  # always three decimals: 0.900 next to 0.318
        assert "layer" not in ln
