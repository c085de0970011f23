"""SE-Net Excitation Explorer: models, hooks and analysis of squeeze-and-excitation blocks (no UI)."""
from .analysis import BlockMaps, ImageAnalysis, analyze_image, block_maps, predict
from .cam import grad_cam, overlay
from .errors import CheckpointError, ImageError, SEExplorerError
from .images import load_image
from .recorder import SERecorder
from .registry import DEFAULT_MODEL, LoadedModel, list_models, load_model
from .stats import BlockStats, ExcitationStats, excitation_stats

__all__ = [
    "DEFAULT_MODEL", "BlockMaps", "BlockStats", "CheckpointError", "ExcitationStats", "ImageAnalysis", "ImageError",
    "LoadedModel", "SEExplorerError", "SERecorder", "analyze_image", "block_maps", "excitation_stats", "grad_cam",
    "list_models", "load_image", "load_model", "overlay", "predict",
]
