"""Which of the original's temperature settings learn the gold path within 1100 steps?

    python bench/learn_temperatures.py

For each (input, target) temperature pair of the torch-imle experiments and 10 or 100 samples,
runs `imle-cli learn`'s loop (experiments.learn_map, seed 0, defaults otherwise) on two gold
paths: assets/gold.png (the diagonal, the README's case) and the winding shortest path of the
README map. Reports the first recorded step (every 10) at which the learned map's unperturbed
shortest path equals the gold path, whether it stays there, the final training loss and the time.
"""
import time
from pathlib import Path

import numpy as np

from imle_cli.experiments import learn_map, shortest_path
from imle_cli.maps import load_gold, readme_map

GOLD = Path(__file__).resolve().parent.parent / "assets" / "gold.png"
SETTINGS = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (5.0, 5.0), (5.0, 0.0)]


def main() -> None:
    golds = {"diagonal (assets/gold.png)": load_gold(GOLD, None).astype(float),
             "README map's shortest path": shortest_path(readme_map()).astype(float)}
    print("| gold | input / target temperature | samples | reaches gold | first step on gold "
          "| stays on gold to the end | final training loss | time |\n|---|---|---|---|---|---|---|---|")
    runs = [(name, gold, samples, temperatures) for name, gold in golds.items()
            for samples in (10, 100) for temperatures in SETTINGS]
    for name, gold, samples, (input_temperature, target_temperature) in runs:
        start = time.perf_counter()
        result = learn_map(gold, samples=samples, input_temperature=input_temperature,
                           target_temperature=target_temperature, seed=0)
        seconds = time.perf_counter() - start
        on_gold = np.array([(path == gold).all() for path in result.paths])
        first = int(result.steps[np.argmax(on_gold)]) if on_gold.any() else None
        stays = bool(on_gold.any() and on_gold[np.argmax(on_gold):].all())
        print(f"| {name} | {input_temperature:g} / {target_temperature:g} | {samples} | "
              f"{'yes' if result.final_distance == 0 else 'no'} | {first if first is not None else '-'} | "
              f"{'yes' if stays else 'no'} | {result.losses[-1]:.2f} | {seconds:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
