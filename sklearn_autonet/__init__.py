"""sklearn-autonet: AutoNet search for layer-wise convex networks, as a scikit-learn classifier."""

__version__ = "0.1.0"

from .architecture import Architecture, NetworkSpec  # noqa: E402
from .bound import ConvexityReport, convexity_report  # noqa: E402
from .estimator import AutoNetLCNClassifier  # noqa: E402
from .persistence import load_model as load  # noqa: E402
from .persistence import save_model as save  # noqa: E402

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
