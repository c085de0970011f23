"""`python -m se_models train`: train a small SE-ResNet (resumable), its weights and card into assets/models/."""
from __future__ import annotations

import shlex
import sys

from se_models import config
from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", required=True, help="fashion-mnist | cifar10[:DIR] | imagefolder:DIR")
    parser.add_argument("--name")
    parser.add_argument("--arch", default="se_resnet20",
                        help="se_resnet20 | se_resnet20_w24 (1.5x wide) | se_resnet20_w32 (2x wide) | eca_resnet20 | "
                             "cbam_resnet20")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.15)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--pad", type=int, default=4)
    parser.add_argument("--cutout", type=int, default=0, help="Cutout square side in pixels (0: none)")
    parser.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=1, help="test accuracy every N epochs")
    parser.add_argument("--init", help="start from these weights (.safetensors or a training checkpoint), "
                                       "e.g. a warm restart of a trained model with a new learning-rate cycle")
    parser.add_argument("--out", default=str(config.MODELS_DIR))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--epoch-weights", metavar="DIR", help="keep the initial weights and each epoch's in DIR")
    parser.add_argument("--epoch-stats", action="store_true",
                        help="after the initialisation and every epoch, the reference statistics over the test split "
                             "(trained + untrained control), into <out>/<name>.epochs.json: about a minute an epoch "
                             "for 10 000 test images on 2 CPU cores")


@command("train", help="train a small SE-ResNet (resumable)", device=True)
def run(args) -> int:
    from se_models.training.train import TrainConfig, train

    cfg = TrainConfig(dataset=args.dataset, name=args.name or "", arch=args.arch, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                      label_smoothing=args.label_smoothing, pad=args.pad, cutout=args.cutout, bf16=not args.fp32,
                      seed=args.seed, eval_every=args.eval_every, init=args.init or "", device=args.device,
                      out=args.out, epoch_weights=args.epoch_weights or "", epoch_stats=args.epoch_stats,
                      command="python -m se_models " + shlex.join(sys.argv[1:]))
    train(cfg, resume=args.resume, log=lambda m: print(m, file=sys.stderr))
    return 0
