"""`python -m se_models models`: the bundled models, the ImageNet zoo, the ResNets built with other channel attention
and timm:NAME."""
from __future__ import annotations

from se_models.cli.registry import command


@command("models", help="list the bundled models")
def run(args) -> int:
    from se_models.models.registry import DEFAULT_MODEL, list_models, load_card
    from se_models.models.zoo import BUILT, ZOO

    for name in list_models():
        card = load_card(name)
        mark = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{mark}: {card.architecture} on {card.dataset}, "
              f"test accuracy {card.test_accuracy:.2%}, {card.params:,} parameters")
    for name, info in ZOO.items():
        print(f"{name}: {info['note']}, ImageNet top-1 {info['top1']:.2f}% ({info['source']}); "
              "weights downloaded on first use")
    for name, info in BUILT.items():
        print(f"{name}: {info['note']}; random weights only (--weights random) or a local file")
    print("timm:NAME: any timm model with squeeze-and-excitation blocks or other channel attention (ECA, CECA, "
          "global context with scale fusion, gather-excite, CBAM), e.g. timm:ecaresnet26t, timm:eca_nfnet_l0, "
          "timm:gc_efficientnetv2_rw_t")
    return 0
