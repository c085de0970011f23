"""What the gate transplant says: whether another class's mean gates move predictions to that class, deep and
shallow, against the control (the image's own class mean); and the lesson's one image in another class's gates."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from se_models.stats.tables import CONTROL_SUFFIX

# verdicts of a transplant table, by which rows move predictions beyond the control
VERDICTS = {
    "deep": "deep transplants move predictions and shallow ones do not",
    "both": "both deep and shallow transplants move predictions",
    "shallow": "shallow transplants move predictions and deep ones do not",
    "neither": "neither deep nor shallow transplants move predictions beyond the control",
}


@dataclass(frozen=True)
class TransplantReading:
    """One transplant table in words: the verdict (a key of VERDICTS), the rows it compared, and the sentence."""
    verdict: str
    shallow: str   # the row label read as shallow (the first stage)
    deep: str      # the row label read as deep (the deepest stage)
    sentence: str


def _share(x: float) -> str:
    """A share in percent with one decimal that never rounds a small share to 0 or a large one to 100 %."""
    if 0.001 <= x <= 0.999 or x in (0.0, 1.0):
        return f"{x:.1%}"
    return "under 0.1%" if x < 0.5 else "over 99.9%"


def _ci(ci) -> str:
    return f" [{_share(ci[0])}–{_share(ci[1])}]" if ci else ""


def _ends(table) -> tuple:
    """The first-stage row and the deepest-stage row (per-block rows for a network without stages)."""
    stages = [r for r in table.rows if r.label.startswith("stage ")]
    rows = stages or [r for r in table.rows if r.label != "all blocks"]
    return rows[0], rows[-1]


def _row_text(r) -> str:
    return (f"{_share(r.moved)}{_ci(r.moved_ci)} of the (image, class) pairs move to the donor class, against "
            f"{_share(r.moved_control)}{_ci(r.moved_control_ci)} with the image's own class mean")


def transplant_reading(table) -> TransplantReading:
    """Which transplants move predictions to the donor class beyond the control (intervals apart), deep (the deepest
    stage) and shallow (the first stage), with the numbers; for random weights, said as the untrained network."""
    shallow, deep = _ends(table)
    verdict = ("both" if deep.moves and shallow.moves else "deep" if deep.moves else
               "shallow" if shallow.moves else "neither")
    untrained = table.weights == "random"
    who = "In the untrained network (random weights)" if untrained else "Here"
    text = (f"Gate transplant over {table.images} images, each given the mean gates of {table.donors} other "
            f"class{'es' if table.donors != 1 else ''} in turn: in "
            f"{deep.label} {_row_text(deep)}; in {shallow.label} {_row_text(shallow)}")
    all_row = next((r for r in table.rows if r.label == "all blocks"), None)
    if all_row is not None and all_row is not deep:
        text += (f"; in all blocks {_share(all_row.moved)}{_ci(all_row.moved_ci)} against "
                 f"{_share(all_row.moved_control)}{_ci(all_row.moved_control_ci)}")
    text += f". {who}, {VERDICTS[verdict]}"
    if untrained:
        text += (", as expected: nothing was learned, so no class identity in the gates can be used." if
                 verdict == "neither" else ", although nothing was learned: the random network's class means differ "
                 "in ways that happen to shift its outputs.")
    elif verdict == "deep":
        text += (": the deep gates carry class identity that the network uses to decide "
                 f"({_share(deep.kept)} of the deep transplants keep their prediction, {_share(shallow.kept)} of the "
                 "shallow ones).")
    elif verdict == "neither":
        text += (": another class's gates are not enough to carry a prediction to that class, so the class identity "
                 f"in these gates is not what the network decides by ({_share(deep.kept)} of the predictions stay as "
                 "they were with another class's deep gates).")
    else:
        text += "."
    return TransplantReading(verdict, shallow.label, deep.label, text)


def transplant_sentence(tables: dict) -> str:
    """The trained model's transplant reading and, when stored beside it, the untrained control's."""
    parts = [transplant_reading(tables[m]).sentence for m in ("transplant", "transplant" + CONTROL_SUFFIX)
             if m in tables]
    return " ".join(parts)


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


def lesson_transplant(source_class: str, donor_class: str, before: dict, afters: dict[str, dict], chosen: bool,
                      table=None) -> str:
    """One image of `source_class` with `donor_class`'s mean gates put into the blocks of each key of `afters` (a row
    label: "stage 4", "all blocks"): what the network said before and then (class -> probability). chosen: the
    classes were picked because the model has no cat and dog (said so, with the rule of lesson_classes). table: the
    stored transplant over the test split, whose verdict closes the step."""
    top_b = max(before, key=before.get)
    pick = (f"This model has no cat and dog, so two of its classes stand in: {source_class} (what the network says "
            f"for this image) for the cat, and {donor_class} (the class whose deepest gates differ most from "
            f"{source_class}'s) for the dog. " if chosen else "")
    text = f"{pick}The network says **{top_b}** ({_share(before[top_b])}) for this {source_class} image. "
    moved = []
    for where, after in afters.items():
        top_a = max(after, key=after.get)
        text += (f"With the average gates of {donor_class} images in {where}, it says **{top_a}** "
                 f"({_share(after[top_a])}); {donor_class} goes from {_share(before[donor_class])} to "
                 f"{_share(after[donor_class])}. ")
        if top_a == donor_class and top_b != donor_class:
            moved.append(where)
    if moved:
        text += f"The gates alone moved the prediction to {donor_class} ({' and '.join(moved)})."
    else:
        text += f"The gates of {donor_class} did not make this image a {donor_class}."
    if table is not None:
        reading = transplant_reading(table)
        text += (f" Over {table.images} test images and every pair of classes, {VERDICTS[reading.verdict]} (the "
                 "Classes view has the numbers).")
    return text
