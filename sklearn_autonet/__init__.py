"""sklearn-autonet: AutoNet search for layer-wise convex networks, as a scikit-learn classifier."""

from ._version import __version__
from .architecture import Architecture, NetworkSpec
from .bound import ConvexityReport, convexity_report
from .estimator import AutoNetLCNClassifier
from .persistence import load_model as load
from .persistence import save_model as save

__all__ = [
    "AutoNetLCNClassifier",
    "Architecture",
    "ConvexityReport",
    "NetworkSpec",
    "convexity_report",
    "load",
    "save",
    "__version__",
]
