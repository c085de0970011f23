"""How every number about data is written, once: gates, divergences, intervals, p-values, ratios, shares. Each
keeps enough digits never to contradict the sentence it sits in (no "s = 1.00" beside "no gate reaches 1")."""
from __future__ import annotations

import math


def gate(s: float) -> str:
    """A gate value in (0, 1): two decimals, three near the ends, bounds beyond (0.9996 is not 1, 0.0004 not 0)."""
    if 0.01 <= s <= 0.99:
        return f"{s:.2f}"
    if 0.001 <= s <= 0.999:
        return f"{s:.3f}"
    return "< 0.001" if s < 0.5 else "> 0.999"


def gate_eq(s: float) -> str:
    """'s = 0.57', 's > 0.999': a gate with its symbol."""
    g = gate(s)
    return f"s {g}" if g[0] in "<>" else f"s = {g}"


def units(x: float | None) -> str:
    """A divergence or distance in gate units: three decimals from 0.01 up, two significant digits below (the
    untrained control's 0.0013 is not '0.001', nor 0.0035 '0.004')."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x == 0 or abs(x) >= 0.01:
        return f"{x:.3f}"
    return f"{x:.{max(0, 1 - math.floor(math.log10(abs(x))))}f}"


def interval(ci, fmt=units) -> str:
    """' [0.028–0.030]' or '' without an interval."""
    return f" [{fmt(ci[0])}–{fmt(ci[1])}]" if ci else ""


def p_value(p: float | None, permutations: int) -> str:
    """'p ≤ 0.005' at the floor of `permutations` shuffles (1/(n+1): no finer p can come out of them), else
    'p = 0.012'."""
    if p is None:
        return "no p-value"
    floor = 1 / (permutations + 1) if permutations else 0.0
    if permutations and p < 1.5 * floor:  # p comes in steps of the floor (stored rounded to 5 decimals)
        digits = max(3, -math.floor(math.log10(floor)))  # rounded up, so the bound stays true: 1/201 -> 0.005
        return f"p ≤ {math.ceil(floor * 10 ** digits) / 10 ** digits:.{digits}f}"
    return f"p = {p:.3f}" if p >= 0.001 else f"p = {p:.1e}"


def times(r: float) -> str:
    """'7.8×', '172×' (whole numbers from 20 up), '0.40×' below 1."""
    if math.isinf(r):
        return "∞×"
    return f"{r:.0f}×" if r >= 20 else f"{r:.1f}×" if r >= 1 else f"{r:.2f}×"


def ratio(r: float, ci=None) -> str:
    """'7.8× [7.7–7.9]': a ratio with its interval, both at the ratio's own precision."""
    if not ci:
        return times(r)
    lo, hi = times(ci[0]).rstrip("×"), times(ci[1]).rstrip("×")
    return f"{times(r)} [{lo}–{hi}]"


def share(x: float) -> str:
    """A share in percent that never rounds 0.9996 to 100 % or 0.0004 to 0 %."""
    if 0.01 <= x <= 0.99:
        return f"{x:.0%}"
    return f"{x:.1%}" if 0.001 <= x <= 0.999 else ("under 0.1%" if x < 0.5 else "over 99.9%")


def points(x: float) -> str:
    """Percentage points of accuracy, one decimal."""
    return f"{x:.1f}"
