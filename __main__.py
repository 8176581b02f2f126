"""The entry point Pulumi runs: the program itself is `stacks/__main__.py`.

Pulumi.yaml names no `main`, so the engine runs the program and starts its plugins (the Python
dynamic provider of the image imports among them) in this directory, where `.venv` is; see
Pulumi.yaml for why `main: stacks/` cannot work with `toolchain: uv`.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent / "stacks" / "__main__.py"), run_name="__main__")
