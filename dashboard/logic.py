"""Pure helpers of the dashboard (no Streamlit): model keys, image items, exports. Unit-testable."""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw

from se_models import ImageError, load_image
from se_models.architectures import display_name
from se_models.blocks import last_of_each_stage, stage_index
from se_models.data import safe_dirname
from se_models.zoo import ZOO, is_zoo_name

from . import wording

CONTROL = ":control"  # model key suffix: the same architecture with random (untrained) weights
FILE = ":file:"       # model key infix: weights from a local file, `name:file:<stamp>:<path>`
TIMM = "timm:"        # any timm model by name
WEIGHTS = {"pretrained": "pretrained (downloads once, then cached)", "upload": "upload a file",
           "file": "file on this server", "random": "random (untrained control)"}  # a zoo / timm model's (URL)
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"]
DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "imagenet": "ImageNet"}
VIEWS = ["image", "classes", "compare", "about"]


# ---- models -------------------------------------------------------------------------------------------------
def model_options(names: list[str]) -> list[str]:
    """Every bundled model, each followed by its untrained control."""
    return [key for n in names for key in (n, n + CONTROL)]


def parse_model_key(key: str) -> tuple[str, str | None]:
    """`name` -> (name, None) = its own weights (shipped, or timm's pretrained download);
    `name:control` -> (name, "random"); `name:file:<stamp>:<path>` -> (name, path)."""
    if FILE in key:
        name, rest = key.split(FILE, 1)
        return name, rest.split(":", 1)[1]
    return (key[: -len(CONTROL)], "random") if key.endswith(CONTROL) else (key, None)


def model_key(name: str, weights: str = "pretrained", path: str = "", stamp: str = "") -> str:
    """A model and its weights choice -> the key that caches (and names) everything computed with them.

    A local file's key carries its stamp (modification time and size), so a rewritten file is loaded afresh."""
    if weights == "random":
        return name + CONTROL
    if weights == "file":
        return f"{name}{FILE}{stamp}:{path}"
    return name


def file_stamp(path: str) -> str:
    """`<mtime_ns>-<size>` of a file, or "missing": part of a local-weights model key."""
    try:
        info = Path(path).stat()
    except OSError:
        return "missing"
    return f"{info.st_mtime_ns}-{info.st_size}"


def is_control(key: str) -> bool:
    return parse_model_key(key)[1] == "random"


def timm_option(text: str) -> str:
    """What the user typed in "Any timm model" -> a model option: a zoo name as it is, else `timm:NAME`; "" if
    nothing was typed."""
    name = (text or "").strip().removeprefix(TIMM).strip()
    if not name:
        return ""
    return name if name in ZOO else TIMM + name


def zoo_card(name: str) -> dict:
    """What is known of a zoo or `timm:` model before it is loaded (labels, picker, compare)."""
    z = ZOO.get(name, {})
    return {"name": name, "dataset": "imagenet", "architecture": name.removeprefix(TIMM),
            "note": z.get("note", "a timm model"), "test_accuracy": z["top1"] / 100 if z else None}


def has_stages(names: list[str]) -> bool:
    """Whether every SE block has a paper-style SE_stage_block name (ResNet-like stages): the Fig. 6 preset."""
    return bool(names) and all(stage_index(n) for n in names)


def dataset_name(card: dict) -> str:
    return DATASET_NAMES.get(card.get("dataset", ""), card.get("dataset", "?"))


def model_label(key: str, card: dict, with_arch: bool = False) -> str:
    """Short human name for the picker: the dataset, trained or untrained (and the architecture when asked)."""
    name, weights = parse_model_key(key)
    if is_zoo_name(name):
        tag = {None: "pretrained", "random": "untrained"}.get(weights, "local weights")
        return f"{name.removeprefix(TIMM)} · {tag}"
    arch = f" {display_name(card.get('architecture', ''))}" if with_arch else ""
    return f"{dataset_name(card)}{arch} · {'untrained' if is_control(key) else 'trained'}"


def picker_label(option: str, bundled: dict[str, str]) -> str:
    """The model picker's label of an option: bundled keys by their labels, the ImageNet zoo and typed timm names
    by their timm names (their weights are chosen below the picker)."""
    if option in bundled:
        return bundled[option]
    if option.startswith(TIMM):
        return f"timm · {option.removeprefix(TIMM)}"
    return f"ImageNet · {option}"


def model_labels(cards: dict[str, dict]) -> dict[str, str]:
    """Labels for every model key; the architecture is added only where two models share a dataset."""
    datasets = [c.get("dataset") for c in cards.values()]
    return {key: model_label(key, card, datasets.count(card.get("dataset")) > 1)
            for name, card in cards.items() for key in (name, name + CONTROL)}


def model_caption(card: dict, control: bool = False, weights: str | None = None) -> str:
    """One line under the picker: architecture, size, training (for a zoo model: what it is, its top-1)."""
    if card.get("note"):  # an ImageNet model from timm
        name = card.get("name", "")
        note = card["note"] if name in ZOO else f"timm {card.get('architecture', name)}"
        side = "×".join(map(str, card.get("input_size", [])[1:]))
        if control:
            return f"{note}: the architecture with random weights, the untrained control ({side} px)."
        if weights not in (None, "trained"):
            return f"{note}, with the weights of {Path(weights).name} ({side} px)."
        acc = card.get("test_accuracy")
        source = ZOO.get(name, {}).get("source")
        score = f"; {acc:.2%} ImageNet top-1" + (f" ({source})" if source else "") if acc is not None else ""
        return f"{note}, pretrained weights, {side} px{score}."
    arch = display_name(card.get("architecture", ""))
    params = card.get("params")
    size = f", {params / 1e6:.2f} M parameters" if params else ""
    epochs = card.get("epochs")
    first = (card.get("init") or {}).get("epochs")  # a warm restart: the run it started from, then this run
    if not epochs:
        trained = ""
    elif first:
        trained = f", {first} + {epochs} epochs"
    else:
        trained = f", {epochs} epoch{'s' if epochs != 1 else ''}"
    acc = card.get("test_accuracy")
    score = f"; {acc:.1%} test accuracy" if acc is not None else ""
    side = "×".join(map(str, card.get("input_size", [])[1:]))
    if control:
        return f"{arch} for {dataset_name(card)} {side} px with random weights: the untrained control."
    return f"{arch} on {dataset_name(card)} {side} px{size}{trained}{score}."


NO_SE = ("no squeeze-and-excitation blocks", "Unknown model")
SE_EXAMPLES = "timm:seresnet50, timm:regnety_002, timm:efficientnet_b0, timm:mobilenetv3_large_100"


def load_failure(name: str, weights: str | None, message: str) -> str:
    """A failed load as one Markdown message: the library's own words (they say what to download or pass), then
    what to choose in the sidebar instead."""
    if any(s in message for s in NO_SE):
        hint = (f"Pick a model with squeeze-and-excitation blocks: one of the ImageNet zoo, or e.g. {SE_EXAMPLES} "
                "under *Any timm model*.")
    elif is_zoo_name(name) and weights != "random":
        hint = ("In the sidebar, choose Weights → **random (untrained control)** to explore the architecture "
                "without a download, or **upload a file** with a downloaded checkpoint.")
    else:
        hint = "Choose another model, or its untrained control."
    return f"**Could not load {name}.** {wording.sentence(message)}\n\n{hint}"


def stats_command(name: str, weights: str | None) -> str:
    """The CLI line that computes the paper's Fig. 6 for a model over a folder of images."""
    extra = {None: " --control", "random": " --weights random"}.get(weights, f" --weights {weights} --control")
    return f"python -m se_models stats --model {name}{extra} --data DIR --per-class 50 --json fig6.json --png fig6"


def data_sources(has_reference: bool, has_samples: bool, dataset: str) -> list[str]:
    """The Classes view's data sources a model can use, best first: its reference statistics, its bundled samples,
    a local folder (always), the downloadable test split (the two small datasets torchvision fetches)."""
    return ((["reference"] if has_reference else []) + (["bundled"] if has_samples else []) + ["folder"]
            + (["test"] if dataset in ("fashion-mnist", "cifar10") else []))


# ---- images -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageItem:
    """One image the user chose: where it came from and its raw bytes (decoded later, with errors reported)."""
    id: str                        # stable id, also used in the URL: photo:chelsea.jpg, sample:Bag/00012.png
    label: str                     # shown under the thumbnail
    data: bytes
    source: str                    # photo | sample | upload | camera
    true_class: str | None = None  # known for samples (and photos of a class the model knows)
    credit: str | None = None
    hint: str | None = None        # what an ImageNet model should roughly see in a photo (not an exact label)

    @functools.cached_property
    def digest(self) -> str:
        """Content hash: the cache key of everything computed from this image (hashed once per item)."""
        return bytes_hash(self.data)

    @property
    def in_distribution(self) -> bool:
        """Bundled samples come from the model's own test set; everything else is a stranger to it."""
        return self.source == "sample"


def bytes_hash(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def photo_item(photo: dict, labels: list[str], imagenet: bool = False) -> ImageItem:
    """A demo photo; its CIFAR-10 class is the true class where the model has it. For ImageNet's 1000 classes the
    photo's hint stays a hint: a tabby is also fairly a tiger cat, so it is no verdict of right or wrong."""
    cls = photo.get("cifar10")
    return ImageItem(f"photo:{photo['file']}", photo["title"], Path(photo["path"]).read_bytes(), "photo",
                     cls if cls in labels else None, f"{photo['credit']} ({photo['licence']})",
                     photo.get("imagenet_hint") if imagenet else None)


def sample_id(path: str) -> str:
    """`.../fashion-mnist/Bag/00012.png` -> `Bag/00012.png`: short, and stable across machines."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def sample_class(folder: str, labels: list[str]) -> str:
    """A sample folder name back to the model's label (`T-shirt-top` -> `T-shirt/top`)."""
    return {safe_dirname(lab): lab for lab in labels}.get(folder, folder)


def sample_item(sid: str, root: Path, labels: list[str]) -> ImageItem:
    folder, name = sid.split("/", 1)
    cls = sample_class(folder, labels)
    return ImageItem(f"sample:{sid}", f"{cls} #{Path(name).stem}", (root / folder / name).read_bytes(), "sample", cls)


def upload_items(files: list[tuple[str, bytes]], source: str = "upload") -> list[ImageItem]:
    """Uploaded (name, bytes) pairs -> items; the hash keeps two files of the same name apart, and the same file
    uploaded twice (same bytes) is one item."""
    items = {}
    for name, data in files:
        digest = bytes_hash(data)
        items.setdefault(digest, ImageItem(f"{source}:{name}#{digest[:8]}", name, data, source))
    return list(items.values())


def decode_items(items: list[ImageItem], decode=None) -> tuple[list[tuple[ImageItem, Image.Image]], list[str]]:
    """Decode every item; a bad one becomes an error message naming the file, the others still decode."""
    decode = decode or (lambda item: load_image(item.data, name=item.label))
    good, errors = [], []
    for item in items:
        try:
            good.append((item, decode(item)))
        except ImageError as err:
            errors.append(str(err))
    return good, errors


def default_image(photos: list[dict], samples: list[tuple[str, str]], labels: list[str]) -> str | None:
    """First paint: a photo of a class the model knows, else one of its own test samples, else any photo."""
    for p in photos:
        if p.get("cifar10") in labels or p.get("imagenet_hint") in labels:
            return f"photo:{p['file']}"
    if samples:
        return f"sample:{sample_id(samples[0][0])}"
    return f"photo:{photos[0]['file']}" if photos else None


def pixelated(image: Image.Image, size: int) -> Image.Image:
    """Enlarge with nearest neighbour so 28 px stay visibly 28 px."""
    return image.convert("RGB").resize((size, size), Image.NEAREST)


def model_view_thumb(image: Image.Image, side: int) -> Image.Image:
    """The model's input as a thumbnail: small inputs enlarged pixel by pixel, 224 px ones shrunk smoothly."""
    return pixelated(image, 84) if side <= 84 else image.convert("RGB").resize((112, 112), Image.LANCZOS)


# ---- blocks -------------------------------------------------------------------------------------------------
def stage_blocks(names: list[str]) -> dict[str, str]:
    """{'stage 2 · SE_2_3': 'SE_2_3', ...}: the last SE block of each stage, the Grad-CAM layer choices."""
    out = {}
    for n in last_of_each_stage(names):
        si = stage_index(n)
        out[f"stage {si[0]} · {n}" if si else n] = n
    return out


def stats_for(stats, control: bool):
    """Reference statistics as shown for a model key: the control's blocks become the main ones."""
    if not control:
        return stats
    if not stats.control:
        return None
    return replace(stats, model=f"{stats.model} (untrained)", weights="random", blocks=stats.control, control=None)


METRICS = ["divergence", "eta_squared", "probe_accuracy", "chance", "mean", "std", "channel_spread",
           "saturated_high", "saturated_low", "channels"]


def metrics_rows(stats) -> list[dict]:
    """One row per (weights, block): the class-specificity metrics, ready for a table or CSV."""
    rows = []
    for tag, blocks in (("trained", stats.blocks), ("untrained control", stats.control or [])):
        for b in blocks:
            rows.append({"model": stats.model, "weights": tag, "block": b.name,
                         **{m: getattr(b, m) for m in METRICS}})
    return rows


def to_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def metrics_csv(stats) -> str:
    return to_csv(metrics_rows(stats))


def class_means_csv(stats) -> str:
    """Long format: weights, block, class, channel, mean, std (the numbers behind Fig. 6 and Fig. 7)."""
    rows = []
    for tag, blocks in (("trained", stats.blocks), ("untrained control", stats.control or [])):
        for b in blocks:
            for cls, mu in b.class_means.items():
                sd = b.class_stds.get(cls, [None] * len(mu))
                rows += [{"weights": tag, "block": b.name, "class": cls, "channel": k, "mean": m, "std": s}
                         for k, (m, s) in enumerate(zip(mu, sd))]
    return to_csv(rows)


def stats_json(stats) -> str:
    return json.dumps(stats.to_dict(), indent=1)


def figure_html(fig) -> str:
    """A self-contained HTML file (plotly.js inlined, so it opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def figure_png(fig, scale: float = 2.0) -> bytes:
    """PNG through kaleido (needs Chromium); on failure a PNG that says so instead of a traceback."""
    try:
        return fig.to_image(format="png", scale=scale)
    except Exception as err:  # noqa: BLE001 - any kaleido/Chromium failure becomes a readable image
        return message_png(f"PNG export failed ({type(err).__name__}).\n"
                           "Use the HTML download, or the camera icon above the chart.")


def message_png(text: str) -> bytes:
    img = Image.new("RGB", (640, 120), "white")
    ImageDraw.Draw(img).multiline_text((16, 24), text, fill=(170, 0, 0), spacing=8)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def image_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()[:60] or "figure"
