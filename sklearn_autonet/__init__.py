"""sklearn-autonet: AutoNet search for layer-wise convex networks, as a scikit-learn classifier."""

from .architecture import Architecture, NetworkSpec
from .bound import ConvexityReport, convexity_report
from .estimator import AutoNetLCNClassifier

__version__ = "0.1.0"

__all__ = [
    "AutoNetLCNClassifier",
    "Architecture",
    "ConvexityReport",
    "NetworkSpec",
    "convexity_report",
    "__version__",
]
