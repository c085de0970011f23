"""Do the maps explain the network? Adebayo et al.'s randomisation check and deletion / insertion faithfulness."""
from __future__ import annotations

import copy
import dataclasses
import threading

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

from se_models.explain import lenses


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) of maps (B, H, W) in [0, 1] -> (B,), Gaussian window, no padding.

    Written here (15 lines) because the library that has it (scikit-image, torchmetrics) is not a dependency;
    the window is 7 px, not Wang's 11, because our maps are 28-32 px wide; tests/test_lenses.py checks known values."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2  # Wang et al.'s K1, K2 for data range 1
    # float64 throughout: with a window summing to 1 + 1e-7 (float32), E[x²] - E[x]² of a flat map is off by
    # more than C2 can absorb
    g = torch.exp(-((torch.arange(window, dtype=torch.float64) - (window - 1) / 2) ** 2) / (2 * sigma ** 2))
    k = (g[:, None] * g[None, :] / g.sum() ** 2)[None, None]  # (1, 1, w, w), sums to 1
    a, b = a[:, None].double(), b[:, None].double()
    mu_a, mu_b = F.conv2d(a, k), F.conv2d(b, k)
    var_a = F.conv2d(a * a, k) - mu_a ** 2
    var_b = F.conv2d(b * b, k) - mu_b ** 2
    cov = F.conv2d(a * b, k) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1).float()


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of each pair of maps (B, H, W) -> (B,); 0 where a map is constant."""
    from scipy.stats import spearmanr  # imported on first use: scipy.stats is slow to import, few commands need it

    out = []
    for x, y in zip(a.flatten(1).numpy(), b.flatten(1).numpy()):
        rho = spearmanr(x, y).statistic if x.std() > 0 and y.std() > 0 else 0.0
        out.append(float(rho))
    return torch.tensor(out)


@dataclasses.dataclass
class SanityResult:
    """Per method, the maps of the trained network and of its control, and how alike they are (per image)."""
    trained: dict[str, torch.Tensor]   # method -> (B, H, W)
    control: dict[str, torch.Tensor]   # method -> (B, H, W)
    spearman: dict[str, torch.Tensor]  # method -> (B,)
    ssim: dict[str, torch.Tensor]      # method -> (B,)
    targets: list[int]


def sanity_check(trained, control, images: torch.Tensor, methods=tuple(lenses.METHODS), target=None) -> SanityResult:
    """Each method's map for the trained model and for the untrained control, for the trained model's class."""
    targets = lenses.targets(trained, images, target)  # the same class for both: the paper's setting
    a = lenses.maps(trained, images, methods, targets)
    b = lenses.maps(control, images, methods, targets)
    return SanityResult(a, b, {m: spearman(a[m], b[m]) for m in methods}, {m: ssim(a[m], b[m]) for m in methods},
                        targets)


def cascade(trained, control) -> list[tuple[str, object]]:
    """Adebayo et al.'s cascading randomisation: (what is random, LoadedModel) with the control's weights copied
    into the trained model unit by unit from the top (classifier, then the deepest residual block) down."""
    blocks = [loaded_path for loaded_path in dict.fromkeys(trained.block_module(n) for n in trained.se_blocks)]
    own = trained.model.state_dict()

    def unit(key: str) -> str:
        return next((b for b in blocks if key.startswith(b + ".")), key.split(".")[0])

    units = list(dict.fromkeys(unit(k) for k in own))[::-1]  # registration order = forward order, reversed
    rand = control.model.state_dict()
    out, state = [], dict(own)
    for u in units:
        state.update({k: rand[k] for k in own if unit(k) == u})
        model = copy.deepcopy(trained.model)
        model.load_state_dict(state)
        out.append((u, dataclasses.replace(trained, model=model.eval(), weights=f"random from {u} up",
                                           lock=threading.RLock())))
    return out


def median_ci(values, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(median, low, high): the median with a 95 % bootstrap interval."""
    v = np.asarray(values, dtype=float)
    boots = np.median(np.random.default_rng(seed).choice(v, (n_boot, len(v))), axis=1)
    return float(np.median(v)), float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))


# ---- faithfulness: deletion / insertion (Petsiuk et al. 2018, RISE) ----------------------------------------------

@dataclasses.dataclass
class Curves:
    """Class probability as the most important pixels are removed (deletion) or revealed (insertion)."""
    fractions: np.ndarray  # (S,) fraction of pixels removed / revealed, 0 .. 1
    deletion: np.ndarray   # (S,) probability of the class
    insertion: np.ndarray  # (S,)

    @property
    def deletion_auc(self) -> float:   # lower = the map found what the prediction rests on
        return float(np.trapezoid(self.deletion, self.fractions))

    @property
    def insertion_auc(self) -> float:  # higher = better
        return float(np.trapezoid(self.insertion, self.fractions))


def _order(sal: torch.Tensor, seed: int) -> torch.Tensor:
    """Pixel indices, most important first; ties (Grad-CAM's zeros) broken in a fixed random order."""
    flat = sal.flatten().double()
    perm = torch.randperm(len(flat), generator=torch.Generator().manual_seed(seed))
    return perm[torch.argsort(flat[perm], descending=True, stable=True)]


def deletion_insertion(loaded, image: torch.Tensor, sal: torch.Tensor, target: int, steps: int = 16,
                       seed: int = 0, batch: int = 128) -> Curves:
    """Curves for one preprocessed image (C, H, W) and one map (H, W). Deleted pixels take the value of a strongly
    blurred copy, and insertion starts from that copy (RISE's insertion baseline; for deletion RISE used black, but
    scattered flat pixels on a 32 px image push every order, random ones too, out of the training distribution:
    measured in the app, random orders then dropped the probability as fast as any map). All steps of both curves
    go through the model as one batch (chunks of `batch`)."""
    c, h, w = image.shape
    order = _order(sal, seed)
    fractions = np.linspace(0, 1, steps + 1)
    rank = torch.empty(h * w, dtype=torch.long)
    rank[order] = torch.arange(h * w)
    counts = torch.tensor(np.round(fractions * h * w), dtype=torch.long)
    masks = (rank[None] < counts[:, None]).view(-1, 1, h, w).float()  # (S, 1, H, W): 1 = removed / revealed
    blurred = gaussian_blur(image[None], kernel_size=2 * (h // 4) + 1, sigma=h / 8)[0]
    x = torch.cat([image * (1 - masks) + blurred * masks, blurred * (1 - masks) + image * masks])  # (2S, C, H, W)
    with loaded.lock, torch.no_grad():
        probs = torch.cat([loaded.model(x[i:i + batch].to(loaded.device)).float().softmax(1)[:, target].cpu()
                           for i in range(0, len(x), batch)]).numpy()
    return Curves(fractions, probs[:steps + 1], probs[steps + 1:])


@dataclasses.dataclass
class Faithfulness:
    """Per method the curves for one image, and the same curves for random maps (the chance baseline)."""
    target: int
    curves: dict[str, Curves]
    random: list[Curves]

    def random_range(self, which: str) -> tuple[float, float]:
        aucs = [getattr(c, f"{which}_auc") for c in self.random]
        return min(aucs), max(aucs)

    def beats_random(self, method: str, which: str) -> bool:
        """Better than every random order: lower deletion AUC, or higher insertion AUC."""
        lo, hi = self.random_range(which)
        auc = getattr(self.curves[method], f"{which}_auc")
        return auc < lo if which == "deletion" else auc > hi


def faithfulness(loaded, image: torch.Tensor, saliency_maps: dict[str, torch.Tensor], target: int,
                 steps: int = 16, n_random: int = 8) -> Faithfulness:
    """Deletion / insertion for each method's map (H, W) of one image, and for `n_random` random maps."""
    h, w = image.shape[-2:]
    curves = {m: deletion_insertion(loaded, image, s, target, steps) for m, s in saliency_maps.items()}
    gen = torch.Generator().manual_seed(0)
    rand = [deletion_insertion(loaded, image, torch.rand(h, w, generator=gen), target, steps, seed=i + 1)
            for i in range(n_random)]
    return Faithfulness(target, curves, rand)
