"""The ROS 2 user's path: `colcon build` of the package in a workspace, against the venv."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


@pytest.fixture(scope="module")
def colcon_install(tmp_path_factory) -> Path:
    colcon = VENV / "bin" / "colcon"
    if not colcon.exists():
        pytest.fail(f"colcon is not installed in {VENV}: run scripts/setup.sh")
    workspace = tmp_path_factory.mktemp("ws")
    (workspace / "src").mkdir()
    (workspace / "src" / "mlnet_ros").symlink_to(REPO)
    env = dict(os.environ, CMAKE_PREFIX_PATH=str(VENV), AMENT_PREFIX_PATH=str(VENV),
               PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
    result = subprocess.run(
        [str(colcon), "build",
         "--cmake-args", f"-DPython3_EXECUTABLE={sys.executable}", "-DBUILD_TESTING=OFF"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    yield workspace / "install" / "mlnet_ros"
    shutil.rmtree(workspace, ignore_errors=True)


def test_colcon_installs_executables_launch_and_config(colcon_install):
    for executable in ("mlnet_entity_node", "mlnet_demo", "mlnet_tag", "mlnet_bench"):
        path = colcon_install / "lib" / "mlnet_ros" / executable
        assert path.is_file() and os.access(path, os.X_OK), f"{path} missing or not executable"
    share = colcon_install / "share"
    assert (share / "mlnet_ros" / "launch" / "mlnet.launch.py").is_file()
    assert (share / "mlnet_ros" / "config" / "mlnet.yaml").is_file()
    assert (share / "mlnet_ros" / "models" / "embedded" / "config.json").is_file()
    assert (share / "ament_index" / "resource_index" / "packages" / "mlnet_ros").is_file()


def test_colcon_installed_package_imports_its_interfaces(colcon_install):
    site_packages = colcon_install / "lib" / "python3.11" / "site-packages"
    code = ("import mlnet_ros.msg, mlnet_ros.core.results;"
            "print(mlnet_ros.msg.__file__); print(mlnet_ros.core.results.__file__)")
    env = dict(os.environ, PYTHONPATH=str(site_packages),
               LD_LIBRARY_PATH=f"{colcon_install / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    msg_file, code_file = result.stdout.split()
    assert msg_file.startswith(str(site_packages)) and code_file.startswith(str(site_packages))
