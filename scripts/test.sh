#!/usr/bin/env bash
# ortformers test command: configure, build and run the whole GoogleTest suite (CTest).
#   scripts/test.sh            Release build in build/ + ctest
#   scripts/test.sh --ci       also the ASan+UBSan build of the suite (build-asan/) and the libFuzzer targets for a
#                              bounded time (build-fuzz/); implied when CI=true
# Env: ORTFORMERS_FIXTURES (default ../shared/fixtures), JOBS (default: nproc), FUZZ_SECONDS (default 30 per target).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CI_MODE=0
[[ "${CI:-}" == "true" ]] && CI_MODE=1
for arg in "$@"; do
  case "$arg" in
    --ci) CI_MODE=1 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
JOBS="${JOBS:-$(nproc)}"
# Every build folder is configured through its CMakePresets.json preset and nothing else, so build/ is configured
# exactly as the README's `cmake --preset release` left it and nothing is compiled twice. ccache (when found) is the
# compiler launcher by CMakeLists.txt's ORTFORMERS_CCACHE=AUTO, with CCACHE_BASEDIR set to the source folder.

if [[ "${CI:-}" == "true" && -z "${ORTFORMERS_FIXTURES:-}" && ! -d "$ROOT/../shared/fixtures" ]]; then
  echo "CI=true but the fixtures folder ../shared/fixtures is missing (set ORTFORMERS_FIXTURES)" >&2
  exit 1
fi

step() { printf '\n==== %s ====\n' "$*"; }

step "Release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"
step "Tests (Release)"
(cd build && ctest --output-on-failure -j "$JOBS" --timeout 600)

step "Python package (build/venv, Debian's python3) + pytest"
[[ -x build/venv/bin/python ]] || /usr/bin/python3 -m venv --system-site-packages build/venv
build/venv/bin/pip install ./python --no-build-isolation --no-deps --no-index -q
rc=0
(cd python/tests && ../../build/venv/bin/python -m pytest -q -p no:cacheprovider) || rc=$?
((rc == 5)) && echo "pytest collected no tests (exit status 5)" >&2
((rc == 0)) || exit 1

if ((CI_MODE)); then
  step "ASan+UBSan build"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$JOBS"
  step "Tests (ASan+UBSan)"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  (cd build-asan && ctest --output-on-failure -j "$JOBS" --timeout 900)

  if compgen -G "fuzz/*.cpp" >/dev/null && command -v clang++ >/dev/null; then
    step "libFuzzer targets (${FUZZ_SECONDS:-30} s each)"
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$JOBS" --target $(cd fuzz && ls *.cpp | sed "s/^/fuzz_/; s/\.cpp$//" | tr "\n" " ")
    for f in build-fuzz/fuzz_*; do
      [[ -x "$f" ]] || continue
      name="$(basename "$f")"
      corpus="fuzz/corpus/${name#fuzz_}"
      mkdir -p "build-fuzz/corpus-$name"
      seeds=()
      [[ -d "$corpus" ]] && seeds=("$corpus")
      echo "-- $name"
      "$f" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
        "build-fuzz/corpus-$name" "${seeds[@]}" 2>&1 | tail -n 3
    done
  fi
fi
echo
echo "all test stages passed"
