"""Benchmark: the Image view's computation for one image against one bare forward + backward pass, interleaved.

Run by hand; results go into the README's Performance section.
  python benchmarks/bench_image_view.py                                            # the bundled default model
  python benchmarks/bench_image_view.py --model seresnet50.a1_in1k --weights random --repeats 10   # 224 px

The Image view's analysis is one forward and one backward pass (probabilities, every z and s, Grad-CAM at the end
of every stage) plus the overlays; the feature maps of the block shown are one more forward pass without gradients
(reported on their own line). The bare reference: model(x), then torch.autograd.grad of the predicted class's
score with respect to the input (no weight gradients). The previous path, captum's LayerGradCam once per stage plus
once for the main map, is timed too."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install needed

import se_models  # noqa: E402
from se_models.analysis import analyze_image, block_maps, stage_ends  # noqa: E402
from se_models.cam import grad_cam, overlay  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--image", default="assets/photos/chelsea.jpg")
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()
    loaded = se_models.load_model(args.model, args.weights)
    image = se_models.load_image(args.image)
    deepest = list(loaded.se_blocks)[-1]
    print(f"model {loaded.name} ({loaded.weights}), input {loaded.input_size}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, stages {stage_ends(loaded)}")

    def bare():
        x = loaded.preprocess(image)[None].requires_grad_()
        logits = loaded.model(x)
        torch.autograd.grad(logits[0].max(), x)

    def analysis():
        analyze_image(loaded, image)

    a = analyze_image(loaded, image)

    def overlays():  # the main map and the row of maps at the end of every stage, on the model's view
        view = loaded.model_view(image)
        overlay(view, a.cam, 0.5, 260)
        for cam in a.cams.values():
            overlay(view, cam, 0.5, 200)

    def feature_maps():
        block_maps(loaded, image, deepest)

    def captum_per_stage():  # the previous Image view: one LayerGradCam pass per stage and one for the main map
        x = loaded.preprocess(image)[None]
        for layer in [*stage_ends(loaded), deepest]:
            grad_cam(loaded, x, layer=layer)

    runs = {"bare forward + backward": bare, "analyze_image (1 forward + 1 backward)": analysis,
            "overlays (main map + one per stage)": overlays,
            "feature maps of one block (1 forward, no gradients)": feature_maps,
            "previous path: captum LayerGradCam per stage + main map": captum_per_stage}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():  # warm-up
        fn()
    for _ in range(args.repeats):  # interleaved: each round times every candidate once, in turn
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["bare forward + backward"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name}: {med * 1000:.1f} ms (median of {len(ts)}) -> {med / base:.2f}x bare")
    view = [a + o for a, o in zip(times["analyze_image (1 forward + 1 backward)"],
                                  times["overlays (main map + one per stage)"])]
    both = [v + m for v, m in zip(view, times["feature maps of one block (1 forward, no gradients)"])]
    print(f"Image view, first paint, without / with the feature maps: {statistics.median(view) * 1000:.1f} ms "
          f"({statistics.median(view) / base:.2f}x bare) / {statistics.median(both) * 1000:.1f} ms "
          f"({statistics.median(both) / base:.2f}x bare)")

if __name__ == "__main__":
    main()
