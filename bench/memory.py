"""Peak memory of the command-line tool on big jobs (issue: under 1 GB each).

    python bench/memory.py

Runs each command in its own process and reads its peak resident set (GNU time's %M): `sample --samples 2000` on a 128x128 map (assets/terrain.png at --grid
128), and `sample --samples 40` on a 1000x1000 cost array at its full resolution (--grid 1000),
whose frames are 1000x1000 pixels. GIF frames are streamed to disk as they are drawn, so the
peak does not grow with the number of frames. Then three files whose data would not fit, refused
(exit 2) before they are read: a 5200x5200 RGBA PNG (0.87 GB as float64 channels), an .npz of
20000x20000 zeros (3.2 GB as an array, about 3 MB on disk) and a 201 MB CSV; their peak is the
process's floor (Python, the imports). Prints a Markdown table.
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _report import Report, add_publish_option  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def peak(command: list, expect: int = 0) -> tuple:
    """(peak RSS in MB, seconds) of a command that exits with ``expect``, measured by GNU time's %M
    for that process alone."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != expect:
        sys.exit(f"{command} exited with {result.returncode}, not {expect}:\n{result.stderr}")
    return int(result.stderr.strip().splitlines()[-1]) / 1024, seconds


def refused_inputs(folder: Path) -> list:
    """(label, file) of three inputs too big to read, each small or sparse on disk."""
    from PIL import Image

    png, npz, csv = folder / "rgba.png", folder / "zeros.npz", folder / "big.csv"
    Image.new("RGBA", (5200, 5200), (255, 255, 255, 255)).save(png)
    _npz_declaring(npz, (20000, 20000))
    with open(csv, "wb") as handle:  # sparse: 201 MB by its size, nothing on disk
        handle.truncate(201 * 2 ** 20)
    return [("5200x5200 RGBA PNG, refused before decoding", png),
            (f".npz of 20000x20000 float64 zeros (a {npz.stat().st_size / 1e6:.1f} MB file), refused from its header",
             npz),
            ("201 MB CSV, refused by its size", csv)]


def _npz_declaring(path: Path, shape: tuple) -> None:
    """Rewrite ``path`` as an .npz whose one member is a float64 array of ``shape``, all zeros:
    deflate makes its gigabytes of zeros a few hundred KB."""
    import zipfile

    header = np.lib.format
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("costs.npy", "w", force_zip64=True) as member:
            header.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
            block = bytes(2 ** 24)
            remaining = int(np.prod(shape)) * 8
            while remaining:
                member.write(block[:min(remaining, len(block))])
                remaining -= min(remaining, len(block))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_publish_option(parser)
    parser.parse_args()
    report = Report("memory")
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.npy"
        np.save(big, np.random.default_rng(0).uniform(1, 100, size=(1000, 1000)))
        cases = [
            ("sample --samples 2000, 128x128 map (assets/terrain.png --grid 128)",
             ["sample", "assets/terrain.png", "--grid", "128", "--samples", "2000", "--max-gif-mb", "500"]),
            ("sample --samples 40, 1000x1000 array at full resolution (--grid 1000)",
             ["sample", str(big), "--grid", "1000", "--samples", "40", "--max-gif-mb", "500"]),
        ]
        report.print("| job | exit | peak memory | time |\n|---|---|---|---|")
        for label, args in cases:
            megabytes, seconds = peak([sys.executable, "-m", "imle_cli", *args, "--out", str(Path(folder) / "out"),
                                       "--quiet"])
            report.print(f"| `{label}` | 0 | {megabytes:,.0f} MB | {seconds:.1f} s |")
        for label, path in refused_inputs(Path(folder)):
            megabytes, seconds = peak([sys.executable, "-m", "imle_cli", "sample", str(path), "--out",
                                       str(Path(folder) / "refused"), "--quiet"], expect=2)
            report.print(f"| `sample`: {label} | 2 | {megabytes:,.0f} MB | {seconds:.1f} s |")
    report.save()


if __name__ == "__main__":
    main()
