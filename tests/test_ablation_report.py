"""The ablation reading must say something else when the numbers say something else."""
from __future__ import annotations

from types import SimpleNamespace

from se_models.findings.ablation import ablation_sentence, stage_need
from se_models.plots.ablation import ablation_chart
from se_models.stats.tables import AblationRow, AblationTable


def table(mode: str, drops: dict[str, float], base: float = 0.9, n: int = 10_000) -> AblationTable:
    rows = [AblationRow(label, [label], base - d, None, d + 0.01) for label, d in drops.items()]
    return AblationTable("m", "test", mode, n, {"top1": base, "top5": None}, rows)


def stats(divergences: dict[str, float]):
    return SimpleNamespace(blocks=[SimpleNamespace(name=k, divergence=v, mean=0.5) for k, v in divergences.items()])


STAGES = ["stage 2", "stage 3", "stage 4"]


def test_sentence_names_the_stage_that_matters_and_follows_the_numbers():
    deep = stats({"SE_2_3": 0.01, "SE_3_3": 0.02, "SE_4_3": 0.08})
    late = {"mean": table("mean", dict(zip(STAGES + ["all blocks"], [0.005, 0.01, 0.06, 0.12])))}
    early = {"mean": table("mean", dict(zip(STAGES + ["all blocks"], [0.06, 0.01, 0.005, 0.12])))}
    s_late, s_early = ablation_sentence(late, deep, markdown=True), ablation_sentence(early, deep)
    assert "the gates of **stage 4**" in s_late and "of stage 4 matter most" in s_late and "are also the ones" in s_late
    assert "of stage 2 matter most" in s_early and "are not the ones" in s_early and "**" not in s_early
    close = {"mean": table("mean", dict(zip(STAGES + ["all blocks"], [0.012, 0.013, 0.014, 0.04])))}
    tie = ablation_sentence(close, deep)
    assert "cannot be told apart" in tie and "matter most" not in tie and "also the ones" not in tie
    assert stage_need(close).holds is None and stage_need(late).holds is True
    flat = {"mean": table("mean", dict(zip(STAGES + ["all blocks"], [0.0, 0.0, 0.0, 0.0])))}
    assert "no stage's input-dependent gating is needed" in ablation_sentence(flat, deep)
    assert stage_need(flat).holds is False


def test_the_lesson_and_the_classes_view_read_the_ablation_alike():
    """Lesson 5 once said 'stage 4 costs most … so its gates matter' where the Classes view said stages 3 and 4
    cannot be told apart: both now say the one finding."""
    from se_models.findings.lesson import ablation_step

    close = {"mean": table("mean", dict(zip(STAGES + ["all blocks"], [0.002, 0.007, 0.009, 0.035]))),
             "identity": table("identity", dict(zip(STAGES + ["all blocks"], [0.6, 0.4, 0.1, 0.53])))}
    lesson, classes = ablation_step(close), ablation_sentence(close, markdown=True)
    need = stage_need(close).markdown
    assert need in lesson and need in classes and "cannot be told apart" in need
    assert "SE removed" not in lesson + classes and "s = 1 in every block" in lesson



def test_sentence_separates_scale_from_attention():
    drops = dict(zip(STAGES + ["all blocks"], [0.01, 0.01, 0.02, 0.05]))
    mean = table("mean", drops)
    big = table("identity", {k: 10 * v for k, v in drops.items()})
    small = table("identity", drops)
    assert "most of that loss is the changed scale" in ablation_sentence({"mean": mean, "identity": big})
    assert "matters little here" in ablation_sentence({"mean": mean, "identity": small})


def test_per_block_rows_are_used_when_present():
    drops = dict(zip(STAGES + ["SE_2_3", "SE_4_3", "all blocks"], [0.01, 0.01, 0.05, 0.04, 0.001, 0.1]))
    s = ablation_sentence({"mean": table("mean", drops)}, stats({"SE_2_3": 0.01, "SE_4_3": 0.08}))
    assert "the block the prediction needs most is SE_2_3" in s and "are not the ones" in s


def test_chart_has_one_series_per_mode():
    drops = dict(zip(STAGES + ["all blocks"], [0.01, 0.01, 0.02, 0.05]))
    fig = ablation_chart({m: table(m, drops) for m in ("identity", "mean", "shuffle")})
    assert len(fig.data) == 3 and list(fig.data[0].x) == STAGES + ["all blocks"]
    assert abs(fig.data[0].y[-1] + 5.0) < 1e-9


def test_markdown_table_puts_the_modes_side_by_side_with_their_own_numbers():
    from se_models.cli.ablate import markdown_tables

    drops = {"identity": {"stage 2": 0.6, "all blocks": 0.8}, "mean": {"stage 2": 0.01, "all blocks": 0.1}}
    text = markdown_tables({m: table(m, d) for m, d in drops.items()})
    lines = text.splitlines()
    assert lines[0] == "**m** — test, 10000 images, baseline top-1 90.00%"
    assert lines[2] == ("| switched off | s = 1 (gates forced open), `identity` | mean gate (no input dependence), "
                        "`mean` |")
    # top-1, change ± 2 SE of the paired difference (sqrt(changed / n)), share changed: each mode its own column
    assert lines[4] == "| stage 2 | 30.0% (-60.0 ± 1.6; 61% changed) | 89.0% (-1.0 ± 0.3; 2% changed) |"
    assert lines[5].startswith("| all blocks | 10.0% (-80.0 ± 1.8; 81% changed) | 80.0% (-10.0 ± 0.7;")
