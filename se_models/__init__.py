"""SE-Net Excitation Explorer: models, hooks and analysis of squeeze-and-excitation blocks (no UI)."""
from se_models.data.images import load_image
from se_models.errors import CheckpointError, ImageError, SEExplorerError
from se_models.explain.analysis import BlockMaps, ImageAnalysis, analyze_image, block_maps, predict
from se_models.explain.cam import grad_cam
from se_models.explain.overlay import overlay
from se_models.hooks.recorder import SERecorder
from se_models.models.registry import DEFAULT_MODEL, LoadedModel, list_models, load_model
from se_models.stats.excitation import BlockStats, ExcitationStats, excitation_stats

__all__ = [
    "DEFAULT_MODEL", "BlockMaps", "BlockStats", "CheckpointError", "ExcitationStats", "ImageAnalysis", "ImageError",
    "LoadedModel", "SEExplorerError", "SERecorder", "analyze_image", "block_maps", "excitation_stats", "grad_cam",
    "list_models", "load_image", "load_model", "overlay", "predict",
]
