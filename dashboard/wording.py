"""What the app calls models and says about them: picker labels, captions, load failures, data sources; and
sentences joined from parts with one full stop, labels cut between words."""
from __future__ import annotations

from pathlib import Path

from dashboard.state.modelkeys import CONTROL, TIMM, ModelKey
from se_models.errors import ModelTooLarge, NoSEBlocksError, UnknownModelError
from se_models.models.architectures import display_name
from se_models.models.card import ModelCard
from se_models.models.zoo import BUILT, is_zoo_name

DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "imagenet": "ImageNet"}


def dataset_name(card: ModelCard) -> str:
    return DATASET_NAMES.get(card.dataset, card.dataset or "?")


def model_label(key: ModelKey, card: ModelCard, with_arch: bool = False) -> str:
    """Short human name for the picker: the dataset, trained or untrained (and the architecture when asked)."""
    if is_zoo_name(key.name):
        tag = {"own": "pretrained", "random": "untrained"}.get(key.weights, "local weights")
        if card.kind == "built":  # no pretrained weights exist: the label says what the model is
            return f"{key.name} · {tag}"
        return f"{key.name.removeprefix(TIMM)} · {tag}"
    arch = f" {display_name(card.architecture)}" if with_arch else ""
    return f"{dataset_name(card)}{arch} · {'untrained' if key.is_control else 'trained'}"


def picker_label(option: str, bundled: dict[str, str]) -> str:
    """The model picker's label of an option: bundled keys by their labels, the ImageNet zoo and typed timm names
    by their timm names (their weights are chosen below the picker)."""
    if option in bundled:
        return bundled[option]
    if option.startswith(TIMM):
        return f"timm · {option.removeprefix(TIMM)}"
    if option in BUILT:
        return f"random weights · {option}"
    return f"ImageNet · {option}"


def model_labels(cards: dict[str, ModelCard]) -> dict[str, str]:
    """Labels for every model key; the architecture is added only where two models share a dataset."""
    datasets = [c.dataset for c in cards.values()]
    return {key: model_label(ModelKey.from_option(key), card, datasets.count(card.dataset) > 1)
            for name, card in cards.items() for key in (name, name + CONTROL)}


def model_caption(card: ModelCard, control: bool = False, weights: str | None = None) -> str:
    """One line under the picker: architecture, size, training (for a zoo model: what it is, its top-1)."""
    side = "×".join(map(str, card.input_size[1:]))
    if card.is_imagenet:  # an ImageNet model from timm
        note = card.note if card.kind in ("zoo", "built") else f"timm {card.architecture}"
        if control:
            return f"{note}: the architecture with random weights, the untrained control ({side} px)."
        if weights not in (None, "trained"):
            return f"{note}, with the weights of {Path(weights).name} ({side} px)."
        acc, source = card.test_accuracy, card.accuracy_source
        score = f"; {acc:.2%} ImageNet top-1" + (f" ({source})" if source else "") if acc is not None else ""
        return f"{note}, pretrained weights, {side} px{score}."
    arch = display_name(card.architecture)
    params = card.params
    size = f", {params / 1e6:.2f} M parameters" if params else ""
    epochs = card.epochs
    first = (card.init or {}).get("epochs")  # a warm restart: the run it started from, then this run
    if not epochs:
        trained = ""
    elif first:
        trained = f", {first} + {epochs} epochs"
    else:
        trained = f", {epochs} epoch{'s' if epochs != 1 else ''}"
    acc = card.test_accuracy
    score = f"; {acc:.1%} test accuracy" if acc is not None else ""
    if control:
        return f"{arch} for {dataset_name(card)} {side} px with random weights: the untrained control."
    return f"{arch} on {dataset_name(card)} {side} px{size}{trained}{score}."


SE_EXAMPLES = "timm:seresnet50, timm:regnety_002, timm:efficientnet_b0, timm:mobilenetv3_large_100"
OTHER_EXAMPLES = "timm:ecaresnet26t, timm:eca_nfnet_l0, timm:gc_efficientnetv2_rw_t"  # ECA and global context


def load_failure(name: str, weights: str | None, err: Exception) -> str:
    """A failed load as one Markdown message: the library's own words (they say what to download or pass), then
    what to choose in the sidebar instead."""
    message = str(err) or type(err).__name__
    if isinstance(err, ModelTooLarge):
        hint = (f"Pick a smaller model: one of the ImageNet zoo, or e.g. {SE_EXAMPLES}, {OTHER_EXAMPLES} under "
                "*Any timm model*.")
    elif isinstance(err, (NoSEBlocksError, UnknownModelError)):
        hint = (f"Pick a model with squeeze-and-excitation blocks or other channel attention: one of the ImageNet zoo, "
                f"or e.g. {SE_EXAMPLES}, {OTHER_EXAMPLES} under *Any timm model*.")
    elif is_zoo_name(name) and weights != "random":
        hint = ("In the sidebar, choose Weights → **random (untrained control)** to explore the architecture "
                "without a download, or **upload a file** with a downloaded checkpoint.")
    else:
        hint = "Choose another model, or its untrained control."
    return f"**Could not load {name}.** {sentence(message)}\n\n{hint}"


def stats_command(key: ModelKey) -> str:
    """The CLI line that computes the paper's Fig. 6 for a model over a folder of images (a weights file by its name
    only: the command runs on the user's own machine, and the server's folders are not shown)."""
    extra = {"own": " --control", "random": " --weights random"}.get(key.weights,
                                                                     f" --weights {Path(key.path).name} --control")
    name = key.name
    return f"python -m se_models stats --model {name}{extra} --data DIR --per-class 50 --json fig6.json --png fig6"


def data_sources(has_reference: bool, has_samples: bool, dataset: str) -> list[str]:
    """The Classes view's data sources a model can use, best first: its reference statistics, its bundled samples,
    a local folder (always), the downloadable test split (the two small datasets torchvision fetches)."""
    return ((["reference"] if has_reference else []) + (["bundled"] if has_samples else []) + ["folder"]
            + (["test"] if dataset in ("fashion-mnist", "cifar10") else []))


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own ! or ?); an empty text stays empty."""
    text = text.strip().rstrip(".").rstrip()
    return text if not text or text[-1] in "!?" else text + "."


def short(text: str, most: int) -> str:
    """At most `most` characters, cut at a word boundary where one is near, with an ellipsis: a caption under a
    thumbnail then wraps between words instead of breaking one in the middle."""
    if len(text) <= most:
        return text
    cut = text[:most - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= most // 2 else cut).rstrip(" ,·-_") + "…"
