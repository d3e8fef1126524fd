"""The error of a backend that cannot run here (a leaf module: every backend module may raise it)."""


class BackendUnavailable(RuntimeError):
    """A backend cannot run here (missing package, no GPU, failed export or engine build); says why."""
