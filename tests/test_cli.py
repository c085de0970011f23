"""The command line: every command from the one table, the model options on every command that runs a model, JSON
schema, exit codes, and bad input reported without losing the good."""
import argparse
import json

import pytest
from PIL import Image

from se_models.cli import build_parser, main
from se_models.cli.registry import COMMANDS
from se_models.data.datasets import bundled_samples_dir
from se_models.models.registry import load_card
from se_models.stats.stored import reference_path

BLOCK_KEYS = {"name", "module", "stage", "index", "channels", "divergence", "eta_squared", "probe_accuracy",
              "chance", "mean", "std", "saturated_high", "saturated_low", "class_means", "divergence_null",
              "divergence_p", "divergence_ci", "divergence_corrected", "probe_ci", "probe_null", "class_specific",
              "above_chance", "learned"}


@pytest.fixture(scope="module")
def sample_images():
    root = bundled_samples_dir("fashion-mnist")
    return [str(next((root / c).iterdir())) for c in ("Bag", "Trouser")]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand of the parser the CLI runs (argparse lists them only in its private actions)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def dummy_argv(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """The command with a placeholder for every positional and required option; --data bundled where there is a
    --data and --compute where there is one, so that no command takes its no-model path (stats' stored reference,
    the listing of stored epochs)."""
    argv = [name]
    for a in parser._actions:
        if not a.option_strings and a.dest != "help":
            argv.append("x.png")
        elif a.required:
            argv += [a.option_strings[0], "0" if a.type is int else "x"]
    return (argv + (["--data", "bundled"] if "--data" in options(parser) else [])
            + (["--compute", "x"] if "--compute" in options(parser) else []))


class Reached(Exception):
    """Raised by the stand-in load_model / train: the command got this far, with this device."""

    def __init__(self, device):
        super().__init__(device)
        self.device = device


def test_every_command_comes_from_the_one_table_and_every_command_that_runs_a_model_takes_the_model_options():
    parsers = subcommands()
    assert list(parsers) == list(COMMANDS)
    assert set(parsers) == {"models", "predict", "gradcam", "explain", "sanity", "faithfulness", "stats",  # all kept
                            "ablate", "train", "samples", "reference", "download", "channel", "epochs", "kinds"}
    for name, parser in parsers.items():
        opts = options(parser)
        assert ("--model" in opts) == COMMANDS[name].runs_model, name  # naming a model = running one
        if "--model" in opts:
            assert "--device" in opts, f"{name} runs a model but takes no --device"
            # reference: always the model's own weights; epochs: the weights of every epoch
            assert "--weights" in opts or name in ("reference", "epochs"), name
    assert "--device" in options(parsers["train"])


def test_the_device_given_reaches_the_model_in_every_command_that_takes_one(monkeypatch):
    from se_models.models import device, registry
    from se_models.training import train

    def fake_load_model(name=None, weights=None, device="cpu"):
        raise Reached(device)

    def fake_train(cfg, **_kw):
        raise Reached(cfg.device)

    monkeypatch.setattr(registry, "load_model", fake_load_model)
    monkeypatch.setattr(train, "train", fake_train)
    monkeypatch.setattr(device, "resolve_device", lambda name: name)  # mps on this machine: not refused first
    walked = []
    for name, parser in subcommands().items():
        if "--device" not in options(parser):
            continue
        argv = dummy_argv(name, parser)
        with pytest.raises(Reached) as given:
            main([*argv, "--device", "mps"])
        assert given.value.device == "mps", name
        with pytest.raises(Reached) as default:
            main(argv)
        assert default.value.device == "cpu", name  # the CPU stays the default
        walked.append(name)
    assert set(walked) == {n for n, c in COMMANDS.items() if c.runs_model} | {"train"}
    assert len(walked) == 11


def test_models(capsys):
    assert main(["models"]) == 0
    assert "(default)" in capsys.readouterr().out


def test_predict_json_and_bad_file(tmp_path, capsys, sample_images):
    bad = tmp_path / "bad.png"
    bad.write_text("oops")
    code = main(["predict", "--model", "se_resnet20_fashion_mnist", *sample_images, str(bad), "--top", "2",
                 "--json"])
    out = capsys.readouterr()
    assert code == 1 and "bad.png: not an image" in out.err
    res = json.loads(out.out)
    assert [r["image"] for r in res["predictions"]] == sample_images  # the good files are still analysed
    assert res["predictions"][0]["top"][0]["class"] == "Bag" and len(res["predictions"][1]["top"]) == 2


def test_gradcam_writes_png(tmp_path, sample_images):
    out = tmp_path / "cam.png"
    assert main(["gradcam", "--model", "se_resnet20_fashion_mnist", sample_images[0], "--target", "Trouser",
                 "--layer", "SE_3_3", "--out", str(out), "--size", "128"]) == 0
    assert Image.open(out).size == (128, 128)
    assert main(["gradcam", "--model", "se_resnet20_fashion_mnist", sample_images[0], "--target", "Dog",
                 "--out", str(out)]) == 2


@pytest.mark.slow
def test_gradcam_draws_on_what_a_timm_model_saw(tmp_path):
    """timm's SE-ResNet-50 resizes to 224 / crop_pct then crops 224: the PNG is the map over that crop, not over
    the photo's whole centre square."""
    import numpy as np

    from se_models import analyze_image, load_image, load_model
    from se_models.explain.overlay import overlay, square_crop

    loaded = load_model("seresnet50.a1_in1k", weights="random")
    resize = loaded.transform.transforms[0].size  # 224 / crop_pct, then a centre crop of 224
    assert resize > 224
    photo = "assets/photos/chelsea.jpg"
    out = tmp_path / "cam.png"
    assert main(["gradcam", "--model", "seresnet50.a1_in1k", "--weights", "random", photo, "--layer", "SE_4_6",
                 "--out", str(out), "--size", "96", "--alpha", "0"]) == 0
    drawn = np.asarray(Image.open(out).convert("RGB"), dtype=float)
    image = load_image(photo)
    view = np.asarray(overlay(loaded.model_view(image), analyze_image(loaded, image).cams["SE_4_6"], 0.0, 96),
                      dtype=float)
    whole = np.asarray(square_crop(image).resize((96, 96), Image.BICUBIC), dtype=float)
    assert np.abs(drawn - view).mean() < 1.0 < np.abs(drawn - whole).mean()


def test_stats_schema_bundled(tmp_path, capsys):
    out, html = tmp_path / "s.json", tmp_path / "s.html"
    assert main(["stats", "--model", "se_resnet20_fashion_mnist", "--data", "bundled", "--classes", "Bag",
                 "Trouser", "Sneaker", "--per-class", "10", "--control", "--json", str(out), "--html",
                 str(html), "--workers", "0"]) == 0
    d = json.loads(out.read_text())
    assert {"model", "classes", "per_class", "blocks", "control"} <= d.keys()
    assert d["classes"] == ["Bag", "Trouser", "Sneaker"] and d["per_class"] == 10
    assert len(d["blocks"]) == len(d["control"]) == 9
    for b in d["blocks"] + d["control"]:
        assert BLOCK_KEYS <= b.keys() and set(b["class_means"]) == set(d["classes"])
        assert len(b["class_means"]["Bag"]) == b["channels"]
    assert html.read_text().count("plotly") > 3
    assert d["processes"] == 1 and d["counts"] == {"Bag": 10, "Trouser": 10, "Sneaker": 10}
    b = d["blocks"][-1]
    assert b["divergence_ci"][0] <= b["divergence"] <= b["divergence_ci"][1] and 0 < b["divergence_p"] <= 1
    err = capsys.readouterr().err
    assert "verdicts are weak" in err  # 10 images a class
    assert ("not distinguishable from chance" in err) == (not all(x["above_chance"] for x in d["blocks"]))
    assert all(x["class_specific"] == x["learned"] for x in d["blocks"])  # kept for old readers, equal to learned
    assert all(x["learned"] is None for x in d["control"])  # the untrained control is never learned


def test_stats_says_how_many_images_were_used_and_refuses_one_class(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["stats", "--model", "se_resnet20_fashion_mnist", "--data", "bundled", "--classes", "Bag",
                 "Trouser", "--per-class", "500", "--json", str(out), "--workers", "0"]) == 0
    d = json.loads(out.read_text())
    assert d["counts"] == {"Bag": 100, "Trouser": 100} and "Asked for 500 images per class" in d["notes"][0]
    assert "Asked for 500 images per class; fewer exist" in capsys.readouterr().err
    assert main(["stats", "--model", "se_resnet20_fashion_mnist", "--data", "bundled", "--classes", "Bag",
                 "--json", str(out)]) == 2
    assert "at least 2 classes" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["se_resnet20_fashion_mnist"])
def test_stats_from_reference(tmp_path, name):
    if not reference_path(name).exists():
        pytest.fail(f"{reference_path(name)} is missing: run python -m se_models reference --model {name}")
    out = tmp_path / "r.json"
    assert main(["stats", "--model", name, "--data", "reference", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["model"] == name and len(d["control"]) == len(d["blocks"])
    assert sum(d["counts"].values()) == load_card(name).test_images


def test_bad_inputs_exit_nonzero(tmp_path, capsys):
    assert main(["stats", "--data", str(tmp_path / "none"), "--json", str(tmp_path / "x.json")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["predict", "--model", "nope", "x.png"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_a_bug_is_not_printed_as_a_user_error(monkeypatch, capsys):
    from se_models.models import registry

    def broken(*_args, **_kwargs):
        raise RuntimeError("a torch bug")
    monkeypatch.setattr(registry, "load_model", broken)
    with pytest.raises(RuntimeError, match="a torch bug"):
        main(["predict", "x.png"])
    assert "error:" not in capsys.readouterr().err
