"""ModelCard: what is known of a model (bundled JSON card beside its weights, or a timm ImageNet model's)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

# the keys of a bundled model's JSON card, in the order train() writes them (the files on disk keep this format)
JSON_KEYS = ("name", "architecture", "dataset", "labels", "in_chans", "input_size", "mean", "std", "test_accuracy",
             "test_images", "epochs", "params", "train_command", "init", "config", "history")


@dataclass
class ModelCard:
    """One model's card; `kind` says where it comes from and which of the optional fields are filled."""
    name: str                                # the name it is loaded by: `se_resnet20_cifar10`, a zoo name, `timm:NAME`
    kind: str                                # "bundled" (trained here, JSON card), "zoo" (named ImageNet model), "timm"
    architecture: str                        # architectures.py name (bundled) or timm's model name
    dataset: str                             # fashion-mnist | cifar10 | imagenet | a folder's name
    labels: list[str] = field(default_factory=list)  # class names by output index; [] for a timm card not yet loaded
    in_chans: int = 3
    input_size: list[int] = field(default_factory=list)  # [C, H, W] the model is fed; [] before a timm model loads
    mean: list[float] = field(default_factory=list)  # per-channel normalisation of the preprocessing
    std: list[float] = field(default_factory=list)
    test_accuracy: float | None = None       # top-1 in [0, 1]: measured here (bundled) or ImageNet top-1 (zoo)
    # bundled models: how they were trained (written by train())
    test_images: int | None = None           # how many test images test_accuracy counts
    epochs: int | None = None
    params: int | None = None                # parameter count
    train_command: str = ""                  # the command line that trained it
    init: dict | None = None                 # a warm restart: the weights it started from, their epochs and accuracy
    config: dict = field(default_factory=dict)   # the TrainConfig, minus the command and output folder
    history: list[dict] = field(default_factory=list)  # per epoch: loss, seconds, test accuracy where evaluated
    # ImageNet models from timm
    note: str = ""                           # what the model is, in words ("SE-ResNet-50, the paper's original ...")
    accuracy_source: str | None = None       # where test_accuracy comes from (timm's evaluation, the paper's table)
    weights_source: str | None = None        # where pretrained weights download from (Hugging Face id or URL)
    interpolation: str | None = None         # timm's evaluation preprocessing: resize interpolation and crop share
    crop_pct: float | None = None

    @property
    def is_imagenet(self) -> bool:
        return self.kind != "bundled"

    @classmethod
    def from_json(cls, d: dict) -> ModelCard:
        """A bundled model's card from its JSON (unknown keys are ignored, missing optional ones default)."""
        known = {f.name for f in fields(cls)}
        return cls(kind="bundled", **{k: v for k, v in d.items() if k in known and k != "kind"})

    @classmethod
    def load(cls, path: str | Path) -> ModelCard:
        return cls.from_json(json.loads(Path(path).read_text()))

    def to_json(self) -> dict:
        """The JSON card of a bundled model, in the on-disk key order."""
        d = asdict(self)
        return {k: d[k] for k in JSON_KEYS}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")
