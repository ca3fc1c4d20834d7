"""Build the two compiled pieces: the batched grid Dijkstra (imle/solvers/_gridpath.c) and the
Sum-of-Gamma sampler (imle/_sumofgamma.c).

Everything else lives in pyproject.toml. Both are optional: if no C compiler is present the
build still succeeds, and ``IMLE_NO_EXTENSIONS=1`` skips them on purpose. Without them the grid
solver is its pure-Python twin (same results, about 100x slower, with a warning) and the noise
its torch implementation (same distribution, about 3.5x slower on the CPU).
"""
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

#: what each extension is, for the warning when it cannot be built
FALLBACKS = {
    "imle.solvers._gridpath": "C grid solver was not built; the Python grid solver",
    "imle._sumofgamma": "compiled Sum-of-Gamma sampler was not built; the torch sampler",
}


class OptionalBuildExt(build_ext):
    """Build each extension when possible; never fail the install because of one."""

    def run(self):
        try:
            super().run()
        except Exception as error:  # no usable compiler at all
            print(f"warning: imle's compiled extensions were not built ({error}); the Python grid solver "
                  "and the torch noise sampler will be used instead")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:  # compiler or headers missing, ...
            print(f"warning: imle's {FALLBACKS[ext.name]} will be used instead ({error})")


#: the header both modules share (their one module shape)
SHARED = dict(include_dirs=["imle"], depends=["imle/_extension_module.h"])
EXTENSIONS = [
    Extension("imle.solvers._gridpath", sources=["imle/solvers/_gridpath.c"], extra_compile_args=["-O3"], **SHARED),
    Extension(
        "imle._sumofgamma",
        sources=["imle/_sumofgamma.c"],
        **SHARED,
        # no fused multiply-adds: the SIMD and the scalar code must round identically; no trapping
        # math (it changes no value) so that branch-free selects can be vectorised
        extra_compile_args=["-O3", "-ffp-contract=off", "-fno-trapping-math"],
    ),
]

setup(
    ext_modules=[] if os.environ.get("IMLE_NO_EXTENSIONS", "").strip() not in ("", "0") else EXTENSIONS,
    cmdclass={"build_ext": OptionalBuildExt},
)
