"""Measurement: issue #26's hostile inputs against a checkout of the app, one scenario per fresh process, memory as
resident set size before and after (the session deleted, garbage collected), wall and CPU seconds.

Run by hand; results go into docs/server.md's before/after table (check out the older commit elsewhere for "before").
  python benchmarks/server_budget.py [--checkout DIR] [--scenarios pngs timm:regnety_1280 ...]
Scenarios: pngs (twelve 6000 x 6000 grey PNGs uploaded in one session), timm:NAME (a timm model with random weights
through the app), fifo / zero / sparse (load_image on a named pipe, a link to /dev/zero, a 2 GB sparse .png), urls
(links with bad numbers), stats (one click: the Fashion-MNIST test split, 5000 images a class and the control)."""
from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIOS = ["pngs", "timm:regnety_1280", "timm:vit_large_patch16_224", "fifo", "zero", "sparse", "urls", "stats"]


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 ** 2


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def big_png(seed: int, side: int = 6000) -> bytes:
    import numpy as np
    from PIL import Image

    x = np.linspace(0, 255, side, dtype=np.float32)
    buf = io.BytesIO()
    Image.fromarray(((x[None, :] + x[:, None] * (seed + 1)) % 256).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()


def app(checkout: Path, **params):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(checkout / "dashboard" / "app.py"), default_timeout=900)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def problems(at) -> list[str]:
    return [e.value[:120] for e in (*at.error, *at.exception)]


def scenario(name: str, checkout: Path, folder: Path) -> dict:
    """One scenario in this process (a fresh one: the parent starts a process per scenario)."""
    out: dict = {"scenario": name}
    if name == "pngs":
        files = [(f"huge{i}.png", big_png(i), "image/png") for i in range(12)]
        out["upload_kb"] = round(sum(len(f[1]) for f in files) / 1024)
        at = app(checkout).run()
        gc.collect()
        before, t, c = rss_mb(), time.time(), cpu_s()
        at.file_uploader(key="uploads").set_value(files).run()
        out.update(wall_s=round(time.time() - t, 1), cpu_s=round(cpu_s() - c, 1), errors=problems(at))
        del at
        gc.collect()
        out["rss_held_mb"] = round(rss_mb() - before)
    elif name.startswith("timm:"):
        app(checkout).run()  # the app and its default model loaded first: the growth is the request's
        gc.collect()
        before, t, c = rss_mb(), time.time(), cpu_s()
        at = app(checkout, model=name, weights="random").run()
        out.update(wall_s=round(time.time() - t, 1), cpu_s=round(cpu_s() - c, 1), errors=problems(at))
        del at
        gc.collect()
        out["rss_held_mb"] = round(rss_mb() - before)
    elif name in ("fifo", "zero", "sparse"):
        from se_models import load_image

        if name == "zero":  # the old code reads until memory runs out: stop it at 4 GB of address space
            resource.setrlimit(resource.RLIMIT_AS, (4 * 1024 ** 3, 4 * 1024 ** 3))
        t = time.time()
        try:
            load_image(str(folder / f"{name}.png"))
            out["result"] = "loaded"
        except BaseException as err:  # noqa: BLE001 - MemoryError included: what happened is the measurement
            out["result"] = f"{type(err).__name__}: {str(err)[-70:]}"
        out.update(wall_s=round(time.time() - t, 2),
                   peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    elif name == "urls":
        for view, key, value in (("lesson", "step", "²"), ("classes", "per_class", "inf"), ("image", "k", "inf"),
                                 ("classes", "per_class", "١٢")):
            at = app(checkout, view=view, **{key: value}).run()
            out[f"{view}?{key}={value}"] = problems(at) or ["ok"] + [x.value[:70] for x in at.toast]
    elif name == "stats":
        t, c = time.time(), cpu_s()
        at = app(checkout, view="classes", model="se_resnet20_fashion_mnist", source="test", per_class="5000").run()
        out.update(wall_s=round(time.time() - t, 1), cpu_s=round(cpu_s() - c, 1), errors=problems(at),
                   data=[x.value[:110] for x in at.caption if x.value.startswith("Data:")][:1])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkout", default=str(Path(__file__).resolve().parent.parent))
    p.add_argument("--scenarios", nargs="+", default=SCENARIOS)
    p.add_argument("--timeout", type=float, default=900, help="seconds a scenario may take (a hang is a result)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # the child process: run this scenario
    p.add_argument("--folder", help=argparse.SUPPRESS)
    args = p.parse_args()
    checkout = Path(args.checkout).resolve()
    if args.one:
        os.chdir(checkout)
        sys.path.insert(0, str(checkout))
        os.environ["SE_EXPLORER_ROOTS"] = args.folder
        print(json.dumps(scenario(args.one, checkout, Path(args.folder)), ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.mkfifo(folder / "fifo.png")
        (folder / "zero.png").symlink_to("/dev/zero")
        with open(folder / "sparse.png", "wb") as f:
            f.truncate(2 * 1024 ** 3)
        for name in args.scenarios:
            try:
                done = subprocess.run([sys.executable, __file__, "--checkout", str(checkout), "--one", name,
                                       "--folder", str(folder)], capture_output=True, text=True, timeout=args.timeout)
                print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else
                      json.dumps({"scenario": name, "exit": done.returncode, "stderr": done.stderr[-300:]}))
            except subprocess.TimeoutExpired:
                print(json.dumps({"scenario": name, "result": f"no answer in {args.timeout:.0f} s (killed)"}))


if __name__ == "__main__":
    main()
