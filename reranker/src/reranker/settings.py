"""The service's configuration: read once from the environment into one frozen `Settings`.

Every option is declared once in `OPTIONS` (field, environment variable, command-line flag,
default, help); `Settings.from_env` and the `python -m reranker` parser are both derived from
that table, so a new option is one line here. Nothing else in the package reads the environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reranker.engine_table import DEFAULT_ENGINE, installed_default
from reranker.engines.onnx_store import default_cache_dir

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """An environment variable or flag holds a value the service cannot use."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or a positive integer")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError("must be a positive number of seconds")
    return value


def _non_negative_seconds(text: str) -> float:
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError("must be 0 (off) or a positive number of seconds")
    return value


def _optional_positive_int(text: str) -> int | None:
    return None if text.lower() in ("", "none", "auto") else _positive_int(text)


def _bool(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or word == "":
        return False
    raise ValueError(f"must be one of {sorted(TRUE_WORDS | FALSE_WORDS)}")


def _one_of(*words: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in words:
            raise ValueError(f"must be one of {', '.join(words)}")
        return text.lower()
    return parse


def _nonempty(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


@dataclass(frozen=True)
class Option:
    """One setting: where it comes from, how it is parsed, what it defaults to."""

    field: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("model_dir", "MODEL_DIR", Path("/app/models/model"), lambda s: Path(_nonempty(s)),
           "directory of the cross-encoder (config.json, weights, tokenizer)"),
    Option("model_info", "MODEL_INFO", None, lambda s: Path(_nonempty(s)),
           "a JSON file naming the model (the image build writes it: the hub id and commit, "
           "or the directory and a digest of its files), for the start line and /metrics; "
           "unset = the model directory's path"),
    Option("host", "HOST", "127.0.0.1", _nonempty,
           "interface to listen on (the image sets 0.0.0.0)"),
    Option("port", "PORT", 8080, _positive_int, "TCP port to listen on"),
    Option("engine", "ENGINE", DEFAULT_ENGINE, _nonempty,
           "scoring engine: a name of the engine table (openvino, onnx, torch, ...) or "
           "'module:factory'; unset: the first of openvino, onnx, torch whose extra is "
           "installed (with ENABLE_CUDA: the first that runs on CUDA); the image sets it"),
    Option("batch_size", "BATCH_SIZE", None, _optional_positive_int,
           "pairs per forward pass of the model; unset = the engine's own (torch: 32, as "
           "CrossEncoder.predict; coalescing engines: 4-8, the fastest measured on CPU)"),
    Option("max_seq_length", "MAX_SEQ_LENGTH", None, _optional_positive_int,
           "tokens per (query, document) pair before truncation; unset = the model's own limit"),
    Option("max_batch_tokens", "MAX_BATCH_TOKENS", None, _optional_positive_int,
           "most tokens (pairs x padded length) in one forward pass: bounds the memory of long "
           "inputs; unset = the engine's own (ONNX and OpenVINO engines: 16384)"),
    Option("onnx_cache_dir", "ONNX_CACHE_DIR", None, lambda s: Path(_nonempty(s)),
           "where the ONNX engines keep an export they make at start (never in MODEL_DIR); "
           "unset = $XDG_CACHE_HOME/reranker/onnx, else ~/.cache/reranker/onnx"),
    Option("reduced_precision", "REDUCED_PRECISION", "check", _one_of("check", "on", "off"),
           "the openvino engine's bf16 (x86) / fp16 (ARM): check (the default: kept when it ranks "
           "like fp32 on probe pairs at start, else fp32), on (kept unchecked), off (fp32)"),
    Option("max_documents", "MAX_DOCUMENTS", 1000, _positive_int,
           "most documents accepted in one POST /rerank (more answers 413)"),
    Option("max_body_bytes", "MAX_BODY_BYTES", 10 * 1024 * 1024, _positive_int,
           "largest request body accepted, in bytes (more answers 413)"),
    Option("max_inflight_bytes", "MAX_INFLIGHT_BYTES", 32 * 1024 * 1024, _positive_int,
           "most bytes of request bodies held at once (admitted, not yet answered); a request "
           "that would go over waits in the queue (one alone is always admitted)"),
    Option("max_queued", "MAX_QUEUED", None, _non_negative_int,
           "most requests waiting to be admitted; one more is answered 503 at once; "
           "unset = half of THREADS"),
    Option("queue_timeout", "QUEUE_TIMEOUT", 10.0, _positive_seconds,
           "seconds a request may wait, to be admitted and then for the model to start on it, "
           "before it is answered 503"),
    Option("request_timeout", "REQUEST_TIMEOUT", 55.0, _non_negative_seconds,
           "seconds from its arrival after which a request is dropped between passes of the "
           "model and answered 503, the rest of it unscored (above Weaviate's 50 s module "
           "timeout, after which nobody reads the answer); 0 = never"),
    Option("max_pass_tokens", "MAX_PASS_TOKENS", 262144, _positive_int,
           "most tokens one pass of the model tokenizes, counted before truncation as the "
           "texts' UTF-8 bytes (no token is shorter than a byte); a longer request is scored "
           "in several passes"),
    Option("max_text_chars", "MAX_TEXT_CHARS", None, _optional_positive_int,
           "characters of a query or document the model reads; the rest is cut before "
           "tokenizing; unset = 16 x the model's token limit (8192 for 512 tokens)"),
    Option("enable_cuda", "ENABLE_CUDA", False, _bool,
           "1|true: run the model on CUDA_CORE instead of the CPU"),
    Option("cuda_core", "CUDA_CORE", "cuda:0", _nonempty,
           "the torch device used when ENABLE_CUDA is on"),
    Option("workers", "WORKERS", 1, _positive_int,
           "server processes, each loading its own copy of the model"),
    Option("threads", "THREADS", 64, _positive_int,
           "request threads per process (the health probes have two more of their own)"),
    Option("metrics", "METRICS", True, _bool,
           "serve Prometheus metrics on GET /metrics (off: record nothing, /metrics is 404)"),
    Option("log_level", "LOG_LEVEL", "info", lambda s: _nonempty(s).lower(),
           "debug, info, warning or error"),
)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build with `Settings.from_env()`, then pass it down."""

    model_dir: Path = Path("/app/models/model")
    model_info: Path | None = None  # None: the model is named by its directory
    host: str = "127.0.0.1"
    port: int = 8080
    engine: str = DEFAULT_ENGINE
    batch_size: int | None = None  # None: the engine's own default
    max_seq_length: int | None = None
    max_batch_tokens: int | None = None  # None: the engine's own
    onnx_cache_dir: Path | None = None  # None: the XDG cache (export_cache_dir)
    reduced_precision: str = "check"
    max_documents: int = 1000
    max_body_bytes: int = 10 * 1024 * 1024
    max_inflight_bytes: int = 32 * 1024 * 1024
    max_queued: int | None = None  # None: half of `threads` (queue_bound)
    queue_timeout: float = 10.0
    request_timeout: float = 55.0  # 0: never
    max_pass_tokens: int = 262144
    max_text_chars: int | None = None  # None: the engine's, 16 x its token limit
    enable_cuda: bool = False
    cuda_core: str = "cuda:0"
    workers: int = 1
    threads: int = 64
    metrics: bool = True
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read every option from `environ` (default: the process environment).

        Unset or blank variables take the default; a malformed one raises `SettingsError`
        naming the variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for option in OPTIONS:
            raw = env.get(option.env)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[option.field] = option.parse(raw.strip())
            except ValueError as exc:
                raise SettingsError(f"{option.env}={raw!r}: {exc}") from None
        if "engine" not in values:
            values["engine"] = installed_default(cuda=values.get("enable_cuda", False))
        if "onnx_cache_dir" not in values:
            values["onnx_cache_dir"] = default_cache_dir(env)
        return cls(**values)

    @property
    def export_cache_dir(self) -> Path:
        """Where serve-time ONNX exports go: the setting, else the user's XDG cache."""
        return self.onnx_cache_dir or default_cache_dir()

    @property
    def model_description(self) -> str:
        """What serves, in a few words: "org/name@<commit>", "directory D (sha256 ...)" from
        MODEL_INFO, else the model directory's path."""
        import json

        if self.model_info is not None:
            try:
                info = json.loads(self.model_info.read_text())
                if isinstance(info, dict) and info.get("description"):
                    return str(info["description"])
            except (OSError, ValueError):
                pass  # a missing or broken file only costs the nicer name
        return str(self.model_dir)

    @property
    def queue_bound(self) -> int:
        """Requests that may wait to be admitted: MAX_QUEUED, else half of the threads (the
        other half keeps answering probes and refusals)."""
        return self.threads // 2 if self.max_queued is None else self.max_queued

    @property
    def device(self) -> str:
        """The torch device the model runs on."""
        return self.cuda_core if self.enable_cuda else "cpu"
