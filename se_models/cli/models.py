"""`python -m se_models models`: the bundled models, the ImageNet zoo and timm:NAME."""
from __future__ import annotations

from se_models.cli.registry import command


@command("models", help="list the bundled models")
def run(args) -> int:
    from se_models.models.registry import DEFAULT_MODEL, list_models, load_card
    from se_models.models.zoo import ZOO

    for name in list_models():
        card = load_card(name)
        mark = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{mark}: {card.architecture} on {card.dataset}, "
              f"test accuracy {card.test_accuracy:.2%}, {card.params:,} parameters")
    for name, info in ZOO.items():
        print(f"{name}: {info['note']}, ImageNet top-1 {info['top1']:.2f}% ({info['source']}); "
              "weights downloaded on first use")
    print("timm:NAME: any timm model with squeeze-and-excitation blocks")
    return 0
