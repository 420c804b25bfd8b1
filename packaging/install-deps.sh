#!/usr/bin/env bash
# Installs what Vodkit needs to build, run and test, on Debian/Ubuntu, with apt-get.
# Idempotent: packages already present are not touched, so a second run takes a second.
#
#   packaging/install-deps.sh            build + run dependencies
#   packaging/install-deps.sh --test     also what the tests use: the ffmpeg CLI as a judge,
#                                        Chromium and Node.js for the real-player tests
#
# On other systems, install by hand: the FFmpeg 5.x or 6.x development libraries
# (libavcodec, libavformat, libavutil, libswscale, libswresample, libavfilter, libavdevice),
# clang/libclang (for bindgen), pkg-config, GTK 3 (file dialogs), meson, ninja, nasm and xxd
# (to build the vendored libvmaf), a font for subtitles burned into the picture (libass), npm (the player scripts the binary ships), and the ffmpeg/ffprobe
# command-line tools; for the window test Xvfb and Mesa's OpenGL; for
# the player tests Chromium and Node.js 18+ with npm.
set -euo pipefail

build_pkgs=(
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev libavfilter-dev libavdevice-dev
  libgtk-3-dev
  meson ninja-build nasm xxd
  fonts-dejavu-core
)
test_pkgs=(ffmpeg xvfb xauth libgl1-mesa-dri libegl1 dpkg-dev python3-venv)
# Tools that may come from elsewhere (Node.js from NodeSource, a Chromium build): wanted only
# when the command is missing. "command:package".
test_cmds=(chromium:chromium node:nodejs npm:npm python3:python3)

want=("${build_pkgs[@]}")
# npm fetches the pinned player scripts (hls.js, dash.js) the binary ships (build.rs).
command -v npm >/dev/null 2>&1 || want+=(npm)
for arg in "$@"; do
  case "$arg" in
    --test)
      want+=("${test_pkgs[@]}")
      for pair in "${test_cmds[@]}"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || want+=("${pair##*:}")
      done
      ;;
    *) echo "install-deps.sh: unknown option '$arg' (known: --test)" >&2; exit 2 ;;
  esac
done

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps.sh: this is not a Debian/Ubuntu system (no apt-get)." >&2
  echo "Install by hand: ${want[*]}" >&2
  echo "(names are Debian's; look for the FFmpeg development libraries, clang and pkg-config)" >&2
  exit 1
fi

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "install-deps.sh: missing ${missing[*]}; run as root or install sudo." >&2; exit 1
  fi
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
