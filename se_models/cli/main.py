"""The command line: python -m se_models models | predict | gradcam | explain | sanity | faithfulness | stats |
ablate | train | samples | reference | download."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from se_models import config
from se_models.cli.common import progress_bar, test_split
from se_models.models.device import DEVICES


def default_workers() -> int:
    """Image-decoding worker processes: one per spare core, at most 4 (0 on a single core)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def _class_index(loaded, target: str | None) -> int | None:
    from se_models.errors import UnknownClassError

    if target is None:
        return None
    if target in loaded.labels:
        return loaded.labels.index(target)
    if target.isdigit() and int(target) < len(loaded.labels):
        return int(target)
    raise UnknownClassError(f"unknown class {target!r}; classes: {', '.join(loaded.labels)}")


def cmd_models(args) -> int:
    from se_models.models.registry import DEFAULT_MODEL, list_models, load_card

    for name in list_models():
        card = load_card(name)
        mark = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{mark}: {card.architecture} on {card.dataset}, "
              f"test accuracy {card.test_accuracy:.2%}, {card.params:,} parameters")
    from se_models.models.zoo import ZOO

    for name, info in ZOO.items():
        print(f"{name}: {info['note']}, ImageNet top-1 {info['top1']:.2f}% ({info['source']}); "
              "weights downloaded on first use")
    print("timm:NAME: any timm model with squeeze-and-excitation blocks")
    return 0


def cmd_predict(args) -> int:
    import torch

    from se_models.data.images import ImageError, load_image
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights, device=args.device)
    results, failed = [], 0
    for path in args.images:
        try:
            x = loaded.preprocess(load_image(path))[None]
        except ImageError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        with torch.inference_mode():
            probs = loaded.model(x.to(loaded.device))[0].softmax(0).cpu()
        top = probs.topk(min(args.top, len(probs)))
        preds = [{"class": loaded.labels[i], "index": int(i), "probability": round(float(p), 4)}
                 for p, i in zip(top.values, top.indices)]
        results.append({"image": path, "top": preds})
        if not args.json:
            print(f"{path}: " + ", ".join(f"{p['class']} {p['probability']:.1%}" for p in preds))
    if args.json:
        print(json.dumps({"model": loaded.name, "weights": loaded.weights, "predictions": results}, indent=2))
    return 1 if failed else 0


def cmd_gradcam(args) -> int:
    from se_models.data.images import load_image
    from se_models.explain.analysis import analyze_image
    from se_models.explain.cam import overlay
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights)
    image = load_image(args.image)
    layer = args.layer or list(loaded.se_blocks)[-1]
    a = analyze_image(loaded, image, target=_class_index(loaded, args.target), layers=[layer])
    # drawn on the model's own resize + centre crop: the only picture the map lines up with
    overlay(loaded.model_view(image), a.cams[layer], args.alpha, args.size).save(args.out)
    print(f"{args.image}: predicted {loaded.labels[a.predicted]} ({a.probs.max():.1%}); Grad-CAM for "
          f"{loaded.labels[a.target]} at {layer} ({loaded.block_module(layer)}) -> {args.out}")
    return 0


def _write_html(stats, path: str, blocks: list[str] | None) -> None:
    from se_models.plots.figures import class_curves, specificity_vs_depth

    figs = [class_curves(stats, blocks), specificity_vs_depth(stats)]
    if stats.control:
        figs.insert(1, class_curves(stats, blocks, control=True))
    html = "".join(f.to_html(full_html=False, include_plotlyjs="cdn" if i == 0 else False)
                   for i, f in enumerate(figs))
    Path(path).write_text(f"<html><head><meta charset='utf-8'><title>{stats.model}</title></head>"
                          f"<body>{html}</body></html>")


def cmd_stats(args) -> int:
    from se_models.errors import DatasetError
    from se_models.findings.numbers import p_value
    from se_models.findings.readings import block_table, specificity_reading, verdict_words
    from se_models.models.device import resolve_device
    from se_models.models.registry import DEFAULT_MODEL, load_model
    from se_models.stats import distributed
    from se_models.stats.excitation import ExcitationStats, excitation_stats
    from se_models.stats.stored import find_reference

    if args.data == "reference":
        path = find_reference(args.model or DEFAULT_MODEL)
        if path is None:
            raise DatasetError(f"{args.model or 'the default model'} has no reference statistics; "
                             "run: python -m se_models reference --model NAME [--data DIR]")
        stats = ExcitationStats.load(path)
        if args.weights == "random":  # the reference's untrained control, on its own: never the trained numbers
            stats = stats.control_only()
        if args.classes:
            stats = stats.subset(args.classes)
    else:
        device = resolve_device(args.device)
        distributed.init_from_env(device)
        rank, _ = distributed.rank_and_world()
        loaded = load_model(args.model, args.weights, device=device)
        control = load_model(loaded.name, "random", device=device) if args.control else None
        update, close = progress_bar("excitation statistics") if rank == 0 else (None, lambda: None)
        data = test_split(loaded) if args.data == "test" else args.data
        stats = excitation_stats(loaded, data, classes=args.classes, per_class=args.per_class, progress=update,
                                 control=control, workers=args.workers)
        close()
        if rank != 0:  # rank 0 writes the merged result
            return 0
        for msg in stats.skipped:
            print(f"skipped: {msg}", file=sys.stderr)
    Path(args.json).write_text(stats.to_json())
    if args.html:
        _write_html(stats, args.html, args.blocks)
    if args.png:
        from se_models.plots.figures import class_curves, specificity_vs_depth

        class_curves(stats, args.blocks).write_image(f"{args.png}_curves.png", width=1300, scale=1.5)
        specificity_vs_depth(stats).write_image(f"{args.png}_depth.png", width=1300, scale=1.5)
    if args.markdown:
        print(block_table(stats))
    procs = f" from {stats.processes} processes" if stats.processes > 1 else ""
    print(f"{stats.model}: {sum(stats.counts.values())} images{procs}, {len(stats.blocks)} SE blocks -> {args.json}",
          file=sys.stderr)
    for b in stats.blocks:
        p = "p –" if b.divergence_p is None else p_value(b.divergence_p, stats.permutations)
        verdict = verdict_words(b, stats.untrained)  # above chance? learned? (findings.readings)
        print(f"  {b.name:8s} divergence {b.divergence:.4f}  chance (99th pct) "
              f"{b.divergence_null[1] if b.divergence_null else float('nan'):.4f}  {p:11s} {verdict:34s} "
              f"probe {'–' if b.probe_accuracy is None else f'{b.probe_accuracy:.3f}'}  "  # 0.900, not 0.9
              f"eta2 {b.eta_squared if b.eta_squared is None else round(b.eta_squared, 3)}", file=sys.stderr)
    for note in stats.sample_notes():
        print(f"note: {note}", file=sys.stderr)
    if stats.blocks[0].divergence_p is not None:
        print(specificity_reading(stats), file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from se_models.training.train import TrainConfig, train

    cfg = TrainConfig(dataset=args.dataset, name=args.name or "", arch=args.arch, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                      label_smoothing=args.label_smoothing, pad=args.pad, cutout=args.cutout, bf16=not args.fp32,
                      seed=args.seed, eval_every=args.eval_every, init=args.init or "", device=args.device,
                      out=args.out, epoch_weights=args.epoch_weights or "",
                      command="python -m se_models " + shlex.join(sys.argv[1:]))
    train(cfg, resume=args.resume, log=lambda m: print(m, file=sys.stderr))
    return 0


def cmd_reference(args) -> int:
    from se_models.models.registry import load_model
    from se_models.stats.excitation import excitation_stats
    from se_models.stats.stored import writable_reference_path

    loaded = load_model(args.model, device=args.device)
    data = args.data or "test"
    dataset = test_split(loaded) if data == "test" else data  # a DIR is named by its path in the statistics
    update, close = progress_bar("reference statistics (trained + control)")
    stats = excitation_stats(loaded, dataset, per_class=None, progress=update, workers=args.workers,
                             control=load_model(loaded.name, "random", device=args.device))
    close()
    if args.label or data != "test":  # a folder is named by its name: the app shows this to every student
        stats.data = args.label or Path(data).resolve().name
    out = writable_reference_path(loaded.name)  # a zoo / timm model's go to the user cache, never the package
    out.parent.mkdir(parents=True, exist_ok=True)
    stats.save(out)
    print(f"wrote {out}: {sum(stats.counts.values())} images", file=sys.stderr)
    return 0


def cmd_download(args) -> int:
    from se_models.models.prefetch import download

    for name in args.names:
        print(f"{name}: {download(name)}", file=sys.stderr)
    return 0


def cmd_samples(args) -> int:
    from se_models.data.datasets import export_samples, training_data

    root = export_samples(training_data(args.dataset, train=False)[0], args.dataset, args.per_class)
    print(f"wrote {args.per_class} test images per class to {root}", file=sys.stderr)
    return 0


def cmd_explain(args) -> int:
    from se_models.cli.lenses import explain_command

    return explain_command(args, _class_index)


def cmd_sanity(args) -> int:
    from se_models.cli.lenses import sanity_command

    return sanity_command(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m se_models", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the bundled models").set_defaults(fn=cmd_models)

    def model_args(sp):
        sp.add_argument("--model", default=None, help="model name (default: the default model)")
        sp.add_argument("--weights", default=None, help="a local checkpoint, or 'random' for the untrained control")

    def device_arg(sp):
        sp.add_argument("--device", default="cpu", choices=DEVICES,
                        help="cpu (default) | cuda | mps | auto (the best available)")

    def workers_arg(sp):
        sp.add_argument("--workers", type=int, default=default_workers(),
                        help=f"image-decoding processes beside the model (default here: {default_workers()})")

    sp = sub.add_parser("predict", help="classify images")
    model_args(sp)
    device_arg(sp)
    sp.add_argument("images", nargs="+")
    sp.add_argument("--top", type=int, default=3)
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.set_defaults(fn=cmd_predict)

    sp = sub.add_parser("gradcam", help="write a Grad-CAM overlay PNG")
    model_args(sp)
    sp.add_argument("image")
    sp.add_argument("--target", help="class name or index (default: the predicted class)")
    sp.add_argument("--layer", help="module path or SE block name, e.g. SE_3_3 (default: the last residual block)")
    sp.add_argument("--alpha", type=float, default=0.5)
    sp.add_argument("--size", type=int, default=256)
    sp.add_argument("--out", required=True)
    sp.set_defaults(fn=cmd_gradcam)

    from se_models.cli.lenses import add_parsers

    add_parsers(sub, model_args, cmd_explain, cmd_sanity)

    sp = sub.add_parser("stats", help="class-wise excitation statistics (paper Fig. 6) and class-specificity")
    model_args(sp)
    sp.add_argument("--data", default="reference",
                    help="reference (precomputed, offline) | bundled (sample images) | test (the dataset's test "
                         "split, downloaded) | DIR (DIR/<class>/<image>)")
    sp.add_argument("--classes", nargs="+")
    sp.add_argument("--per-class", type=int, default=50)
    sp.add_argument("--control", action="store_true", help="also the untrained control")
    sp.add_argument("--json", required=True)
    sp.add_argument("--blocks", nargs="+", help="SE blocks in the class-curve figure (default: the paper's Fig. 6 "
                    "choice, the last block of every stage plus every block of the last stage)")
    sp.add_argument("--html", help="write the figures as one HTML page")
    sp.add_argument("--png", metavar="PREFIX", help="write PREFIX_curves.png and PREFIX_depth.png")
    sp.add_argument("--markdown", action="store_true", help="print the per-block table as Markdown")
    device_arg(sp)
    workers_arg(sp)
    sp.set_defaults(fn=cmd_stats)

    sp = sub.add_parser("train", help="train a small SE-ResNet (resumable)")
    sp.add_argument("--dataset", required=True, help="fashion-mnist | cifar10[:DIR] | imagefolder:DIR")
    sp.add_argument("--name")
    sp.add_argument("--arch", default="se_resnet20",
                    help="se_resnet20 | se_resnet20_w24 (1.5x wide) | se_resnet20_w32 (2x wide) | eca_resnet20 | "
                         "cbam_resnet20")
    sp.add_argument("--epochs", type=int, default=15)
    sp.add_argument("--batch-size", type=int, default=128)
    sp.add_argument("--lr", type=float, default=0.15)
    sp.add_argument("--weight-decay", type=float, default=5e-4)
    sp.add_argument("--label-smoothing", type=float, default=0.0)
    sp.add_argument("--pad", type=int, default=4)
    sp.add_argument("--cutout", type=int, default=0, help="Cutout square side in pixels (0: none)")
    sp.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--eval-every", type=int, default=1, help="test accuracy every N epochs")
    sp.add_argument("--init", help="start from these weights (.safetensors or a training checkpoint), "
                                   "e.g. a warm restart of a trained model with a new learning-rate cycle")
    sp.add_argument("--out", default=str(config.MODELS_DIR))
    sp.add_argument("--resume", action="store_true")
    sp.add_argument("--epoch-weights", metavar="DIR", help="keep the initial weights and each epoch's in DIR")
    device_arg(sp)
    sp.set_defaults(fn=cmd_train)

    sp = sub.add_parser("samples", help="write held-out test images per class as PNG into assets/samples/")
    sp.add_argument("--dataset", default="fashion-mnist", help="fashion-mnist (CIFAR-10 images may not be shipped)")
    sp.add_argument("--per-class", type=int, default=100)
    sp.set_defaults(fn=cmd_samples)

    sp = sub.add_parser("reference", help="a model's reference statistics (trained + control): a bundled model's "
                                          "into assets/models/, any other's into the user cache")
    sp.add_argument("--model", default=None)
    sp.add_argument("--data", help="DIR (DIR/<class>/<image>; needed for an ImageNet model), or 'test' for a bundled "
                                   "model's test split (default)")
    sp.add_argument("--label", help="how the statistics name their data (default: the split, or DIR's name)")
    device_arg(sp)
    workers_arg(sp)
    sp.set_defaults(fn=cmd_reference)

    sp = sub.add_parser("download", help="fetch zoo / timm:NAME pretrained weights into timm's cache, for offline use")
    sp.add_argument("names", nargs="+", metavar="NAME")
    sp.set_defaults(fn=cmd_download)

    from se_models.cli.ablate import add_parser as add_ablate

    add_ablate(sub, model_args, device_arg)
    return p


def main(argv: list[str] | None = None) -> int:
    from se_models.errors import SEExplorerError

    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (SEExplorerError, OSError) as err:  # the user's input (or an unwritable --out); anything else is a bug
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
