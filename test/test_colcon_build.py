"""The ROS 2 user's path: `colcon build` of the package in a workspace, against the venv."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

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
    for executable in ("mlnet_entity_node", "mlnet_demo", "mlnet_tag", "mlnet_bench", "mlnet_export"):
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


def installed_environment(colcon_install: Path, scratch: Path) -> dict:
    """The workspace's environment of a ROS 2 machine: the installed code and interfaces, the package's
    share directory on AMENT_PREFIX_PATH, python3 from the venv, and not the source tree (the venv's
    editable install puts it on sys.path; a sitecustomize on PYTHONPATH takes it off again)."""
    site_packages = colcon_install / "lib" / "python3.11" / "site-packages"
    (scratch / "sitecustomize.py").write_text(
        "import os, sys\n"
        f"sys.path[:] = [p for p in sys.path if os.path.realpath(p or '.') != {str(REPO.resolve())!r}]\n"
    )
    return dict(os.environ, PYTHONPATH=f"{scratch}:{site_packages}",
                LD_LIBRARY_PATH=f"{colcon_install / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
                AMENT_PREFIX_PATH=f"{colcon_install}:{VENV}", PATH=f"{VENV / 'bin'}:{os.environ['PATH']}",
                XDG_CACHE_HOME=str(scratch / "cache"), OMP_NUM_THREADS="1")


def test_colcon_installed_bench_runs_without_the_source_tree(colcon_install, tmp_path):
    env = installed_environment(colcon_install, tmp_path)
    site_packages = colcon_install / "lib" / "python3.11" / "site-packages"
    probe = subprocess.run(
        [sys.executable, "-c", "import importlib.util, mlnet_ros.cli.bench as b;"
         "print(b.__file__); print(importlib.util.find_spec('training'))"],
        env=env, capture_output=True, text=True, timeout=120, cwd="/")
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert probe.stdout.split() == [str(site_packages / "mlnet_ros" / "cli" / "bench.py"), "None"]

    bench = str(colcon_install / "lib" / "mlnet_ros" / "mlnet_bench")
    out = tmp_path / "bench.json"
    run = subprocess.run([bench, "--backends", "torch", "--iterations", "2", "--json", str(out)],
                         env=env, capture_output=True, text=True, timeout=600, cwd="/")
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results) == {"torch", "machine"}
    assert results["torch"]["text_only_p50_ms"] > 0 and results["torch"]["batch32_utterances_per_s"] > 0
    assert results["machine"]["utterances"].endswith("pass --data FILE for a CoNLL file)")  # no shared/data here
    assert f"Model: {colcon_install / 'share' / 'mlnet_ros' / 'models' / 'embedded'} " in run.stdout

    run = subprocess.run([bench, "--append-docs"], env=env, capture_output=True, text=True, timeout=300, cwd="/")
    assert run.returncode == 2
    assert run.stderr.startswith(f"mlnet_bench: error: --append-docs: this mlnet_bench runs from {site_packages},")
    assert run.stderr.count("\n") == 1


def test_colcon_installed_export_reports_a_missing_model_in_one_line(colcon_install, tmp_path):
    env = installed_environment(colcon_install, tmp_path)
    run = subprocess.run([str(colcon_install / "lib" / "mlnet_ros" / "mlnet_export"), "--model", str(tmp_path / "absent")],
                         env=env, capture_output=True, text=True, timeout=300, cwd="/")
    assert run.returncode == 2
    assert run.stderr == f"mlnet_export: error: --model: {tmp_path / 'absent'}: model directory does not exist\n"
