"""Benchmark: the Image view's computation for one image against one bare forward + backward pass, interleaved.

Run by hand; results go into the README's Performance section.
  python benchmarks/bench_image_view.py                                            # the bundled default model
  python benchmarks/bench_image_view.py --model seresnet50.a1_in1k --weights random --repeats 10   # 224 px

The Image view's first paint is one forward and one backward pass (probabilities, every z and s, Grad-CAM at the
end of every stage, and U and s*U of the block whose feature maps are shown) plus the overlays: the view enlarged
once, one map per stage blended on it and JPEG-encoded, as the app sends them (the main map is one of those; at
most 4 px per model pixel, overlay.overlay_size). The bare reference: model(x), then torch.autograd.grad of the
predicted class's score with respect to the input (no weight gradients). The previous path, a Grad-CAM pass (one
forward + one backward) per stage plus one for the main map, is timed too (it was captum's LayerGradCam; grad_cam
now computes the same maps, one pass per call)."""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install needed

import se_models  # noqa: E402
from se_models.explain.analysis import analyze_image, stage_ends  # noqa: E402
from se_models.explain.cam import grad_cam  # noqa: E402
from se_models.explain.overlay import enlarge, overlay, overlay_size  # noqa: E402


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

    def analysis():  # with the feature maps of the block shown first (the deepest), as the app asks
        analyze_image(loaded, image, maps_block=deepest)

    a = analyze_image(loaded, image)

    def overlays():  # the row of maps at the end of every stage, on the model's view, as JPEG; the main map is one
        view = a.view  # of them at the same size (the app encodes it once); the analysis made the model's view
        px = overlay_size(view, 240)  # as the app draws maps shown 240 px wide
        base = enlarge(view, px)
        for cam in a.cams.values():
            overlay(view, cam, 0.5, px, base=base).save(io.BytesIO(), "JPEG", quality=92)

    def pass_per_stage():  # the previous Image view: one Grad-CAM pass per stage and one for the main map
        x = loaded.preprocess(image)[None]
        for layer in [*stage_ends(loaded), deepest]:
            grad_cam(loaded, x, layer=layer)

    runs = {"bare forward + backward": bare,
            "analyze_image (1 forward + 1 backward, feature maps of one block kept)": analysis,
            "overlays (view enlarged once, one map per stage, JPEG)": overlays,
            "previous path: a Grad-CAM pass per stage + main map": pass_per_stage}
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
    first = [a + o for a, o in zip(times["analyze_image (1 forward + 1 backward, feature maps of one block kept)"],
                                   times["overlays (view enlarged once, one map per stage, JPEG)"])]
    print(f"Image view, first paint (analysis + overlays): {statistics.median(first) * 1000:.1f} ms "
          f"({statistics.median(first) / base:.2f}x bare)")


if __name__ == "__main__":
    main()
