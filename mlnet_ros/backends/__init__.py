"""Former location of ``mlnet_ros.inference.backends``; kept so ``from mlnet_ros.backends import
load_backend`` keeps working."""
from mlnet_ros.inference.backends import BACKENDS, BackendUnavailable, load_backend

__all__ = ["BACKENDS", "BackendUnavailable", "load_backend"]
