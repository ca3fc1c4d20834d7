import subprocess
import sys


def test_import_imle_pulls_in_no_plotting_or_cli_libraries():
    code = ("import sys, imle, imle.wrapper, imle.noise, imle.target, imle.solvers; "
            "print(sorted(m for m in ('matplotlib', 'typer', 'rich', 'imageio', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_reexported():
    import imle

    for name in ("imle", "TargetDistribution", "SumOfGammaNoiseDistribution", "GumbelNoiseDistribution",
                 "BaseNoiseDistribution", "BaseTargetDistribution"):
        assert hasattr(imle, name)
    assert callable(imle.solvers.grid_shortest_path) and callable(imle.solvers.top_k)
