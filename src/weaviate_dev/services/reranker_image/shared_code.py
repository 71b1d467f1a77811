"""Load the reranker's own standard-library modules from the reranker/ the toolkit builds.

The toolkit's venv does not install the reranker package (`make dev` installs the toolkit
alone), yet an image build must choose a model's files exactly as the image's download does,
and recognise a current ONNX export exactly as the engines do. So both use the same code: the
modules below, loaded by path from `<project root>/reranker/src/reranker/` (a checkout, or the
copy the wheel carries). By design they use only the standard library, because they run in the
image's build stage before anything is installed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from weaviate_dev.core.errors import DevError

SOURCE = Path("reranker", "src", "reranker")
_SHARED = {"download": "download.py", "onnx_store": "engines/onnx_store.py"}
_loaded: dict[Path, ModuleType] = {}


def module(project_root: Path, name: str) -> ModuleType:
    """Load and return the reranker module `name` (download or onnx_store) from the tree at
    `project_root`; each file is loaded once per process."""
    path = (Path(project_root) / SOURCE / _SHARED[name]).resolve()
    if path not in _loaded:
        if not path.is_file():
            raise DevError(f"{path} not found: WEAVIATE_DEV_ROOT must point to a weaviate-dev "
                           "checkout")
        spec = importlib.util.spec_from_file_location(f"_weaviate_dev_reranker_{name}", path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded  # dataclasses and friends look their module up
        spec.loader.exec_module(loaded)
        _loaded[path] = loaded
    return _loaded[path]
