#!/usr/bin/env bash
# Build imle's C extensions with AddressSanitizer and UndefinedBehaviorSanitizer, in a scratch copy
# of the tree, and run the grid solver's and the noise sampler's tests against those builds.
#
#     bash tests/sanitize.sh          # about 2 minutes; needs gcc with libasan and libubsan
#
# Any out-of-bounds access, use after free or undefined behaviour (signed overflow, bad shifts,
# misaligned loads) stops the run with a report; a clean run ends with pytest's summary line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$work"
cd "$work"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" python3 setup.py -q build_ext --inplace 2>&1 | grep -v Warning || true
ls imle/_sumofgamma*.so imle/solvers/_gridpath*.so > /dev/null  # both built, or stop here
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
PYTHONPATH="$work" python3 -m pytest -q -p no:cacheprovider tests/test_grid_solver.py tests/test_noise.py \
    tests/test_reliability.py::test_grid_costs_whose_path_sums_could_overflow_are_refused
