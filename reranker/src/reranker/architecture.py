"""What a model directory's config.json says of its architecture, and the architectures no
engine here runs, refused in one line (never a traceback) at image build and serve time.

Standard library only (transformers is imported where a check needs it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reranker.engine import EngineError


def read_config(model_dir: Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / "config.json").read_text())


def name(config: dict[str, Any]) -> str:
    """How the model names itself: its class and model_type, e.g.
    "XLMRobertaForSequenceClassification (model_type 'xlm-roberta')"."""
    cls = (config.get("architectures") or ["an unnamed architecture"])[0]
    return f"{cls} (model_type {config.get('model_type')!r})"


def refuse_remote_code(config: dict[str, Any]) -> None:
    """A model that needs its repository's own Python code: no engine here runs it."""
    if config.get("auto_map"):
        raise EngineError(
            f"{name(config)} needs its repository's own code (auto_map in config.json), which "
            "no engine here runs: not the ONNX engines, and not ENGINE=torch either "
            "(trust_remote_code is off, as in the official image)")


def require_known(config: dict[str, Any]) -> None:
    """Not remote code, and a model_type the installed transformers knows (imports it)."""
    refuse_remote_code(config)  # before the import: seconds sooner
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if config.get("model_type") not in CONFIG_MAPPING_NAMES:
        raise EngineError(f"{name(config)} is unknown to transformers "
                          f"{transformers.__version__}: neither the ONNX engines nor ENGINE=torch "
                          "can run it (a newer transformers may know it)")
