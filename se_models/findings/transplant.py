"""What the gate transplant says: whether another class's mean gates move predictions to that class, deep and
shallow, against the control (the image's own class mean); and the lesson's one image in another class's gates."""
from __future__ import annotations

import numpy as np

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em, render
from se_models.stats.tables import CONTROL_SUFFIX

# verdicts of a transplant table, by which rows move predictions beyond the control
VERDICTS = {
    "deep": "deep transplants move predictions and shallow ones do not",
    "both": "both deep and shallow transplants move predictions",
    "shallow": "shallow transplants move predictions and deep ones do not",
    "neither": "neither deep nor shallow transplants move predictions beyond the control",
}


def _pct(x: float, ci=None) -> str:
    return num.share(x) + num.interval(ci, num.share)


def ends(table) -> tuple:
    """The first-stage row and the deepest-stage row (per-block rows for a network without stages)."""
    stages = [r for r in table.rows if r.label.startswith("stage ")]
    rows = stages or [r for r in table.rows if r.label != "all blocks"]
    return rows[0], rows[-1]


def verdict(table) -> str:
    """Which transplants move predictions to the donor class beyond the control (intervals apart): a VERDICTS key."""
    shallow, deep = ends(table)
    return ("both" if deep.moves and shallow.moves else "deep" if deep.moves else
            "shallow" if shallow.moves else "neither")


def _row_text(r) -> str:
    return (f"{em(_pct(r.moved))}{num.interval(r.moved_ci, num.share)} of the (image, class) pairs move to the donor "
            f"class, against {_pct(r.moved_control, r.moved_control_ci)} with the image's own class mean")


def transplant_finding(table) -> Finding:
    """'Deep gates carry class identity that the network uses': holds when deep transplants (the deepest stage) move
    predictions to the donor class beyond the control and shallow ones (the first stage) do not; the verdict (a
    VERDICTS key) is among its numbers. For random weights it is said as the untrained network, where nothing should
    move."""
    shallow, deep = ends(table)
    v = verdict(table)
    untrained = table.weights == "random"
    nums = dict(verdict=v, shallow=shallow.label, deep=deep.label, deep_moved=deep.moved,
                deep_control=deep.moved_control, shallow_moved=shallow.moved, shallow_control=shallow.moved_control,
                images=table.images, donors=table.donors, untrained=untrained)
    text = (f"Gate transplant over {table.images} images, each given the mean gates of {table.donors} other "
            f"class{'es' if table.donors != 1 else ''} in turn: in {deep.label} {_row_text(deep)}; in "
            f"{shallow.label} {_row_text(shallow)}")
    all_row = next((r for r in table.rows if r.label == "all blocks"), None)
    if all_row is not None and all_row is not deep:
        text += f"; in all blocks {_pct(all_row.moved, all_row.moved_ci)} against " \
                f"{_pct(all_row.moved_control, all_row.moved_control_ci)}"
    text += f". {'In the untrained network (random weights)' if untrained else 'Here'}, {VERDICTS[v]}"
    if untrained:
        text += (", as expected: nothing was learned, so no class identity in the gates can be used." if
                 v == "neither" else ", although nothing was learned: the random network's class means differ in "
                 "ways that happen to shift its outputs.")
    elif v == "deep":
        text += (f": the deep gates carry class identity that the network uses to decide ({num.share(deep.kept)} of "
                 f"the deep transplants keep their prediction, {num.share(shallow.kept)} of the shallow ones).")
    elif v == "neither" and deep.moved > deep.moved_control_ci[1]:  # a point above the control, intervals overlap
        text += (f": in {deep.label} the share lies above the control's interval, but the two intervals overlap, so "
                 f"{table.images} images cannot tell it from the control; more images would.")
    elif v == "neither":
        text += (": another class's mean gates do not carry a prediction to that class here "
                 f"({num.share(deep.kept)} of the predictions stay as they were with another class's deep gates).")
    else:
        text += "."
    return Finding("deep_gates_decide", v == "deep", nums, text)


def transplant_findings(tables: dict) -> list[Finding]:
    """The trained model's transplant and, when stored beside it, the untrained control's."""
    return [transplant_finding(tables[m]) for m in ("transplant", "transplant" + CONTROL_SUFFIX) if m in tables]


def transplant_sentence(tables: dict, markdown: bool = False) -> str:
    return render(transplant_findings(tables), markdown)


def lesson_classes(labels: list[str], predicted: str, deep_means: dict[str, list[float]]) -> tuple[str, str, bool]:
    """The lesson's (cat, dog, chosen): cat and dog when the model has both; else the class the network says for the
    image stands for the cat, and the class whose mean gates in the deepest block lie farthest from it (mean
    absolute difference) for the dog, which gives the transplant its best chance; chosen = True then."""
    if "cat" in labels and "dog" in labels:
        return "cat", "dog", False
    own = np.asarray(deep_means[predicted], dtype=float)
    others = {c: float(np.abs(np.asarray(m, dtype=float) - own).mean()) for c, m in deep_means.items()
              if c != predicted}
    return predicted, max(others, key=others.get), True


def lesson_transplant(source_class: str, donor_class: str, before: dict, afters: dict[str, dict],
                      chosen: bool) -> Finding:
    """'The gates alone moved this image's prediction to the donor class': one image of `source_class` with
    `donor_class`'s mean gates put into the blocks of each key of `afters` (a row label: "stage 4", "all blocks"),
    what the network said before and then (class -> probability). chosen: the classes were picked because the model
    has no cat and dog (said so, with the rule of lesson_classes)."""
    top_b = max(before, key=before.get)
    pick = (f"This model has no cat and dog, so two of its classes stand in: {source_class} (what the network says "
            f"for this image) for the cat, and {donor_class} (the class whose deepest gates differ most from "
            f"{source_class}'s) for the dog. " if chosen else "")
    text = f"{pick}The network says {em(top_b)} ({num.share(before[top_b])}) for this {source_class} image. "
    moved = []
    for where, after in afters.items():
        top_a = max(after, key=after.get)
        text += (f"With the average gates of {donor_class} images in {where}, it says {em(top_a)} "
                 f"({num.share(after[top_a])}); {donor_class} goes from {num.share(before[donor_class])} to "
                 f"{num.share(after[donor_class])}. ")
        if top_a == donor_class and top_b != donor_class:
            moved.append(where)
    text += (f"The gates alone moved the prediction to {donor_class} ({' and '.join(moved)})." if moved else
             f"The gates of {donor_class} did not make this image a {donor_class}.")
    return Finding("gates_move_prediction", bool(moved), dict(source=source_class, donor=donor_class, moved=moved),
                   text)


def transplant_step(source_class: str, donor_class: str, before: dict, afters: dict[str, dict], chosen: bool,
                    table=None) -> str:
    """The lesson's step in Markdown: the one image, then the stored transplant's verdict over the test split."""
    text = lesson_transplant(source_class, donor_class, before, afters, chosen).markdown
    if table is not None:
        text += (f" Over {table.images} test images and every pair of classes, {VERDICTS[verdict(table)]} (the "
                 "Classes view has the numbers).")
    return text
