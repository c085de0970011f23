"""Training: augmentation, a resumable run on a tiny ImageFolder, the card it writes, and offline datasets."""
import json

import pytest
import torch
from safetensors.torch import load_file
from torchvision import datasets

from se_models.data.datasets import DatasetError, image_folder_arrays, training_data
from se_models.errors import CheckpointError
from se_models.models.architectures import build, display_name
from se_models.models.card import ModelCard
from se_models.training.train import TrainConfig, augment, cutout, train
from tests.fakes import LABELS, pattern


def test_augment_is_per_image_crop_and_flip():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.uint8).view(2, 1, 4, 4)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(augment(x, pad=0, flip=False, gen=g), x)
    out = augment(x, pad=2, flip=True, gen=g)
    assert out.shape == x.shape and out.dtype == torch.uint8
    # every output row is a (possibly shifted / mirrored) piece of the input or zero padding
    assert set(out.unique().tolist()) <= set(x.unique().tolist()) | {0}
    # one image repeated: each copy gets its own crop (one crop for the whole batch would give one distinct output)
    same = torch.arange(1, 65, dtype=torch.uint8).view(1, 1, 8, 8).repeat(32, 1, 1, 1)
    crops = augment(same, pad=2, flip=False, gen=g)
    assert len({c.numpy().tobytes() for c in crops}) > 5
    padded = torch.nn.functional.pad(same[0], (2, 2, 2, 2))  # each crop is one 8 x 8 window of the padded image
    windows = {padded[:, i:i + 8, j:j + 8].numpy().tobytes() for i in range(5) for j in range(5)}
    assert all(c.numpy().tobytes() in windows for c in crops)


def test_cutout_zeroes_one_square_per_image_at_different_places():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(200, 3, 32, 32)
    assert torch.equal(cutout(x, 0, g), x)
    holes = (cutout(x, 12, g) == 0)  # (B, C, H, W)
    assert torch.equal(holes[:, :1].expand_as(holes), holes)  # the same square in every channel
    area = holes[:, 0].sum((1, 2))
    assert area.max() == 144 and area.min() > 0  # 12 x 12 when inside; clipped at the border, never empty
    rows = holes[:, 0].any(2).float().argmax(1)  # each image's first zeroed row
    assert len(rows.unique()) > 10


@pytest.fixture
def split_folder(tmp_path):
    for split, n in (("train", 12), ("test", 4)):
        for c in LABELS:
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(n):
                pattern(c, size=32, seed=i).save(tmp_path / split / c / f"{i}.png")
    return tmp_path


def test_train_resume_and_card(split_folder, tmp_path):
    data = image_folder_arrays(split_folder / "train", 32)
    assert data.images.shape == (36, 3, 32, 32) and data.classes == LABELS
    out = tmp_path / "models"
    cfg = TrainConfig(dataset=f"imagefolder:{split_folder}", name="toy", arch="se_resnet20_w24", epochs=1,
                      batch_size=8, bf16=False, out=str(out), command="test")
    train(cfg, log=lambda m: None)
    assert (out / "toy.ckpt.pt").exists()
    logs = []
    cfg.epochs, cfg.eval_every = 3, 3
    card = train(cfg, resume=True, log=logs.append)
    assert logs[0] == "resumed toy at epoch 1" and [h["epoch"] for h in card.history] == [1, 2, 3]
    # evaluated after epoch 1 (the first run's last), not after 2, then after 3 (a multiple of eval_every)
    assert ["test_accuracy" in h for h in card.history] == [True, False, True]
    saved = json.loads((out / "toy.json").read_text())
    assert saved["labels"] == LABELS and saved["input_size"] == [3, 32, 32] and saved["epochs"] == 3
    model = build("se_resnet20_w24", 3, 3)
    right = saved["test_accuracy"] * 12  # k of the 12 test images, rounded to 4 decimals in the card
    assert saved["test_images"] == 12 and abs(right - round(right)) < 1e-3
    assert saved["params"] == sum(p.numel() for p in model.parameters()) and len(saved["mean"]) == 3
    assert saved["test_accuracy"] == card.history[-1]["test_accuracy"]  # the last epoch's, not a second pass
    assert ModelCard.load(out / "toy.json") == card  # the JSON on disk is the card train() returned
    model.load_state_dict(load_file(str(out / "toy.safetensors")))
    assert model.layer3[0].conv1.out_channels == 96


def test_init_warm_starts_from_a_trained_model(split_folder, tmp_path):
    out = tmp_path / "models"
    cfg = TrainConfig(dataset=f"imagefolder:{split_folder}", name="toy", epochs=1, batch_size=8, bf16=False,
                      out=str(out), command="first")
    first = train(cfg, log=lambda m: None)
    # lr 0: SGD moves nothing, so the warm start must come out with exactly the weights it went in with
    again = TrainConfig(dataset=f"imagefolder:{split_folder}", name="again", epochs=1, batch_size=8, bf16=False,
                        lr=0.0, init=str(out / "toy.safetensors"), out=str(out), command="second")
    card = train(again, log=lambda m: None)
    start, end = load_file(str(out / "toy.safetensors")), load_file(str(out / "again.safetensors"))
    assert torch.equal(start["conv1.weight"], end["conv1.weight"])
    assert card.init == {"weights": "toy.safetensors", "epochs": 1, "test_accuracy": first.test_accuracy,
                            "train_command": "first"}
    wrong = TrainConfig(dataset=f"imagefolder:{split_folder}", name="wrong", arch="se_resnet20_w24", epochs=1,
                        init=str(out / "toy.safetensors"), out=str(out))
    with pytest.raises(CheckpointError, match="does not match se_resnet20_w24 with 3 classes: shape mismatch"):
        train(wrong, log=lambda m: None)


def test_architectures_are_named_from_their_layout():
    names = [display_name(a) for a in ("se_resnet20", "se_resnet20_w24", "se_resnet20_w32", "timm:seresnet50")]
    assert names == ["SE-ResNet-20", "SE-ResNet-20 (1.5× wide)", "SE-ResNet-20 (2× wide)", "timm:seresnet50"]
    assert build("se_resnet20_w32", 10, 3).layer3[-1].conv2.out_channels == 128
    with pytest.raises(ValueError, match="unknown architecture 'resnet20'; known: "):
        build("resnet20", 10, 3)


def test_offline_download_is_one_clear_error(monkeypatch, tmp_path):
    def offline(self, *a, **k):
        raise OSError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(datasets.CIFAR10, "download", offline)
    monkeypatch.setenv("SE_MODELS_CACHE", str(tmp_path))
    with pytest.raises(DatasetError, match="could not download CIFAR-10: the network could not be reached. Pass a "
                                           "local folder") as caught:
        training_data("cifar10", train=False)
    assert "Errno" not in str(caught.value)  # the socket's own words stay out of what a user reads
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        training_data("mnist", train=True)


def test_export_samples_writes_pngs_per_class(tmp_path):
    from se_models.data.datasets import ArrayDataset, export_samples

    data = ArrayDataset(torch.randint(0, 255, (9, 1, 8, 8), dtype=torch.uint8), torch.tensor([0, 1, 2] * 3),
                        ["T-shirt/top", "Bag", "Coat"])
    root = export_samples(data, "toy", per_class=2, out=tmp_path)
    assert sorted(p.name for p in root.iterdir()) == ["Bag", "Coat", "T-shirt-top"]
    assert sorted(p.name for p in (root / "Bag").iterdir()) == ["00001.png", "00004.png"]
