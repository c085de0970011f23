"""`python -m se_models epochs`: a model's statistics at every epoch of its training (epoch 0 = the initialisation):
list them, or compute them from a folder of kept epoch weights with the same function `train --epoch-stats` runs."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from se_models.cli.common import add_workers_argument, test_split
from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.add_argument("--compute", metavar="DIR",
                        help="compute them from DIR/epoch_NN.safetensors (train --epoch-weights DIR keeps them) and "
                             "write <model>.epochs.json beside the model (a bundled one's into assets/models)")
    parser.add_argument("--data", help="with --compute: DIR (DIR/<class>/<image>) instead of the model's test split")
    parser.add_argument("--out", help="with --compute: the file to write (default: beside the model)")
    add_workers_argument(parser)


def listing(history) -> dict:
    """Every epoch's accuracy and per-block divergence, interval and verdicts, and when each block became learned."""
    from se_models.findings.epochs import became_learned, epochs_reading

    epochs = []
    for e in history.epochs:
        stats = history.at(e.epoch)
        epochs.append({"epoch": e.epoch, "weights": e.weights, "test_accuracy": e.test_accuracy,
                       "learned": [b.name for b in stats.blocks if b.learned],
                       "blocks": {b.name: {"divergence": b.divergence, "divergence_ci": b.divergence_ci,
                                           "chance_p99": b.divergence_null[1] if b.divergence_null else None,
                                           "p": b.divergence_p, "above_chance": b.above_chance, "learned": b.learned}
                                  for b in stats.blocks}})
    return {"model": history.model, "data": history.data, "epochs": epochs,
            "became_learned": became_learned(history), "reading": epochs_reading(history)}


def compute(args, loaded) -> int:
    """The shipped file from a finished run's kept weights: every epoch through training.epochs.record_epoch."""
    from se_models import config
    from se_models.errors import DatasetError
    from se_models.stats.stored import epochs_path
    from se_models.training.epochs import epoch_files, history_over, same_weights

    if loaded.card.kind != "bundled":
        raise DatasetError(f"{loaded.name} is not a model trained here: epoch statistics need its card's architecture")
    files = epoch_files(args.compute)
    # the card's per-epoch test accuracies belong to these weights only when the folder is the run that made the
    # model: its last epoch is then the card's last and the shipped weights, tensor for tensor
    shipped = max(files) == loaded.card.epochs and same_weights(files[max(files)],
                                                                config.MODELS_DIR / f"{loaded.name}.safetensors")
    accuracies = {h["epoch"]: h["test_accuracy"] for h in loaded.card.history if "test_accuracy" in h} \
        if shipped else None
    data = test_split(loaded) if not args.data else args.data
    print(f"{len(files)} epochs, each: that epoch's weights and the untrained control over every image (about a "
          "minute an epoch for 10 000 images on 2 CPU cores)", file=sys.stderr)
    history = history_over(loaded.card, args.compute, data, accuracies, args.device,
                           log=lambda m: print(m, file=sys.stderr), workers=args.workers)
    history = replace(history, last_is_model=shipped)
    out = Path(args.out) if args.out else epochs_path(loaded.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    history.save(out)
    last = "" if shipped else " (not the run of the shipped weights: its card's test accuracies are left out)"
    print(f"wrote {out}: epochs {history.numbers[0]}..{history.last}{last}", file=sys.stderr)
    return 0


# no --weights: the epochs are the weights (kept during training, or read from --compute's folder)
@command("epochs", help="a model's statistics at every epoch of its training: list them, or compute them from kept "
                        "epoch weights", runs_model=True, weights=False)
def run(args) -> int:
    from se_models.errors import DatasetError
    from se_models.models.registry import DEFAULT_MODEL, load_model
    from se_models.stats.epochs import EpochHistory
    from se_models.stats.stored import find_epochs

    name = args.model or DEFAULT_MODEL
    if args.compute:
        return compute(args, load_model(name, device=args.device))
    path = find_epochs(name)
    if path is None:
        raise DatasetError(f"{name} has no per-epoch statistics; they come from training with --epoch-stats, or "
                           f"from its kept epoch weights: python -m se_models epochs --model {name} --compute DIR")
    d = listing(EpochHistory.load(path))
    if args.json:
        print(json.dumps(d, indent=1))
        return 0
    print(f"{d['model']}: statistics of {len(d['epochs'])} epochs over the {d['data']}")
    for e in d["epochs"]:
        acc = "–" if e["test_accuracy"] is None else f"{e['test_accuracy']:.2%}"
        deep = list(e["blocks"])[-1]
        print(f"  epoch {e['epoch']:3d}  test accuracy {acc:>7s}  {len(e['learned'])} of {len(e['blocks'])} blocks "
              f"learned  {deep} divergence {e['blocks'][deep]['divergence']:.4f}")
    print(d["reading"])
    return 0
