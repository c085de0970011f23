"""The library's typed errors: one base class, caught by type (never by message text) in the CLI and the app."""
from __future__ import annotations


class SEExplorerError(Exception):
    """A problem with what the user asked for, with a message that says what to do; not a bug."""


class UnknownModelError(SEExplorerError, ValueError):
    """No model of that name: not bundled, not in the zoo, not a timm model."""


class NoSEBlocksError(SEExplorerError, ValueError):
    """The model has no squeeze-and-excitation blocks to analyse."""


class UnknownClassError(SEExplorerError, ValueError):
    """A class name (or index) the model or the data does not have."""


class UnknownBlockError(SEExplorerError, ValueError):
    """An SE block or layer name the model does not have."""


class ModelTooLarge(SEExplorerError, ValueError):
    """A model with more parameters than the budget allows (checked before its weights are allocated)."""


class CheckpointError(SEExplorerError, ValueError):
    """A weights file that cannot be read, or does not fit the model it is loaded into."""


class WeightsUnavailable(SEExplorerError, RuntimeError):
    """Pretrained weights are neither cached nor downloadable (offline)."""


class ImageError(SEExplorerError, ValueError):
    """An image that cannot be used: unreadable, empty, damaged, too large."""


class DatasetError(SEExplorerError, ValueError):
    """A dataset that cannot be found, fetched or used (too few classes, no images, bad layout)."""


class PathNotAllowed(SEExplorerError, PermissionError):
    """A path typed by a user that lies outside the roots the operator allows (names nothing found there)."""


class DeviceUnavailable(SEExplorerError, ValueError):
    """A compute device that is unknown, or that this machine's torch cannot use (no CUDA GPU, no Apple MPS)."""


class UnknownMethodError(SEExplorerError, ValueError):
    """An attribution method the library does not have (gradcam, guided-backprop, deconvnet, guided-gradcam)."""


class AblationError(SEExplorerError, ValueError):
    """An ablation that cannot be run as asked: unknown mode, mean without mean gates, shuffle of one image."""
