"""Where the package's files are, in a source checkout and in a colcon install."""

from __future__ import annotations

from pathlib import Path


def default_model_dir() -> Path:
    """The embedded default model: beside the sources, or in the package's share directory."""
    source = Path(__file__).resolve().parents[1] / "models" / "embedded"
    if source.is_dir():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("mlnet_ros")) / "models" / "embedded"
    except (LookupError, OSError):
        return source
