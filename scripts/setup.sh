#!/usr/bin/env bash
# ortformers setup: installs every Debian package the build needs and ONNX Runtime into a local prefix.
# Idempotent: a second run only verifies what is already there.
#   ONNXRUNTIME_ROOT=/path/to/onnxruntime  use an existing ORT install (official release layout: include/, lib/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORT_PREFIX="${ORT_PREFIX:-$ROOT/third_party/onnxruntime}"
CACHE="${ORTFORMERS_CACHE:-$ROOT/third_party/.cache}"

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang clang-format ccache ca-certificates
  nlohmann-json3-dev libutf8proc-dev libicu-dev libpcre2-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libstb-dev libjpeg62-turbo-dev libsndfile1-dev libsoxr-dev
  libavformat-dev libavcodec-dev libswresample-dev libavutil-dev ffmpeg
  libcurl4-openssl-dev libcpp-httplib-dev libzip-dev zlib1g-dev libssl-dev
  pybind11-dev python3-pybind11 python3-dev python3-venv python3-setuptools python3-numpy python3-pytest
  python3-torch  # large (~115 packages with its dependencies): the torch path of the Python package (python/tests)
  python3-distributed
  nginx-light wrk
  libboost1.81-dev
  chromium  # headless browser of the page tests (tests/page)
)

log() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package, unless a node/npm is already on PATH (e.g. NodeSource), which it would conflict with.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  log "installing apt packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages: all present"
fi

# Pinned npm packages of the test suite (package-lock.json): the OpenAI Node SDK of tests/server_deploy.
for dir in "$ROOT/tests/server_deploy/openai-client"; do
  stamp="$dir/node_modules/.ortformers-stamp"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "npm packages of ${dir#"$ROOT"/}: present"
  else
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --silent) || { log "npm ci failed in $dir"; exit 1; }
    echo "$want" >"$stamp"
  fi
done

if [[ -n "${ONNXRUNTIME_ROOT:-}" ]]; then
  if [[ -f "$ONNXRUNTIME_ROOT/include/onnxruntime_cxx_api.h" || -f "$ONNXRUNTIME_ROOT/include/onnxruntime/onnxruntime_cxx_api.h" ]] &&
     ls "$ONNXRUNTIME_ROOT"/lib/libonnxruntime.so* >/dev/null 2>&1; then
    log "using ONNXRUNTIME_ROOT=$ONNXRUNTIME_ROOT"
    exit 0
  fi
  log "ONNXRUNTIME_ROOT=$ONNXRUNTIME_ROOT has no include/onnxruntime_cxx_api.h and lib/libonnxruntime.so*"
  exit 1
fi

# Pinned npm packages and their sha256.
ORT_NODE=onnxruntime-node@1.30.0
ORT_NODE_TGZ=onnxruntime-node-1.30.0.tgz
ORT_NODE_SHA=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_HDR=com.github.asus4.onnxruntime@0.4.9
ORT_HDR_TGZ=com.github.asus4.onnxruntime-0.4.9.tgz
ORT_HDR_SHA=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
STAMP="$ORT_PREFIX/.ortformers-stamp"
WANT_STAMP="$ORT_NODE_SHA $ORT_HDR_SHA"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" && -f "$ORT_PREFIX/lib/libonnxruntime.so.1" ]]; then
  log "ONNX Runtime already in $ORT_PREFIX"
  exit 0
fi

mkdir -p "$CACHE"
fetch() { # spec tgz sha
  local spec=$1 tgz=$2 sha=$3
  if [[ -f "$CACHE/$tgz" ]] && echo "$sha  $CACHE/$tgz" | sha256sum -c --quiet - 2>/dev/null; then
    return 0
  fi
  log "npm pack $spec"
  (cd "$CACHE" && npm pack --silent --ignore-scripts "$spec" >/dev/null)
  echo "$sha  $CACHE/$tgz" | sha256sum -c --quiet - || { log "checksum mismatch for $tgz"; rm -f "$CACHE/$tgz"; exit 1; }
}
fetch "$ORT_NODE" "$ORT_NODE_TGZ" "$ORT_NODE_SHA"
fetch "$ORT_HDR" "$ORT_HDR_TGZ" "$ORT_HDR_SHA"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/node" "$TMP/hdr"
tar -xzf "$CACHE/$ORT_NODE_TGZ" -C "$TMP/node"
tar -xzf "$CACHE/$ORT_HDR_TGZ" -C "$TMP/hdr"

lib="$(find "$TMP/node" -path '*linux/x64/libonnxruntime.so.1*' -type f | head -n1)"
[[ -n "$lib" ]] || { log "libonnxruntime.so.1 (linux/x64) not found in $ORT_NODE_TGZ"; exit 1; }
hdr="$(find "$TMP/hdr" -name onnxruntime_cxx_api.h -path '*Headers*' | head -n1)"
[[ -n "$hdr" ]] || { log "onnxruntime_cxx_api.h not found in $ORT_HDR_TGZ"; exit 1; }

rm -rf "$ORT_PREFIX"
mkdir -p "$ORT_PREFIX/include" "$ORT_PREFIX/lib"
cp "$(dirname "$hdr")"/*.h "$ORT_PREFIX/include/"
cp "$lib" "$ORT_PREFIX/lib/libonnxruntime.so.1"
ln -sf libonnxruntime.so.1 "$ORT_PREFIX/lib/libonnxruntime.so"
echo "$WANT_STAMP" >"$STAMP"
log "ONNX Runtime installed in $ORT_PREFIX ($(ls "$ORT_PREFIX/include" | wc -l) headers)"
