"""Every Python block of the README runs as written (blocks run in order, sharing names)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    namespace: dict = {"__name__": "__main__"}  # as a script runs: guarded blocks run too
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["theta"].grad.shape == (8, 16, 16)
    assert namespace["paths"].shape == (80, 16, 16)
