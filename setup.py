"""Build the two compiled pieces: the batched grid Dijkstra (imle/solvers/_gridpath.c) and the
Sum-of-Gamma sampler (imle/_sumofgamma.c).

Everything else lives in pyproject.toml. If no C compiler is present the build still succeeds:
the grid solver falls back to its pure-Python twin (same results, far slower, with a warning) and
the noise to its torch implementation (same distribution, about 3.5x slower on the CPU).
"""
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the C solver when possible; never fail the install because of it."""

    def run(self):
        try:
            super().run()
        except Exception as error:  # compiler missing, headers missing, ...
            print(f"warning: imle's C grid solver was not built ({error}); using the Python fallback")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:
            print(f"warning: imle's C grid solver was not built ({error}); using the Python fallback")


setup(
    ext_modules=[
        Extension(
            "imle.solvers._gridpath",
            sources=["imle/solvers/_gridpath.c"],
            extra_compile_args=["-O3"],
        ),
        Extension(
            "imle._sumofgamma",
            sources=["imle/_sumofgamma.c"],
            # no fused multiply-adds: the SIMD and the scalar code must round identically; no trapping
            # math (it changes no value) so that branch-free selects can be vectorised
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-trapping-math"],
        ),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
