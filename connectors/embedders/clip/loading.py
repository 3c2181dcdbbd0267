"""Find and load a CLIP-family checkpoint, failing fast and helpfully when it is unavailable."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

from mmingest.connectors.extras import needs_extra
from mmingest.schemas.config import ClipEmbedderConfig
from mmingest.schemas.errors import ModelUnavailable

log = logging.getLogger(__name__)

_HUB_PROBE_TIMEOUT_S = 3.0
_TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class LoadedModel:
    """A model and its processor, with where they came from."""

    model: Any
    processor: Any
    source: str


def looks_like_path(name: str) -> bool:
    """Whether ``name`` can only be a filesystem path (not a hub id like ``org/model``)."""
    return (
        name.startswith(("/", "./", "../", "~", "\\"))
        or name.count("/") > 1
        or (len(name) > 1 and name[1] == ":")
    )


def hub_offline(config: ClipEmbedderConfig) -> bool:
    """Whether the configuration or the environment forbids contacting the hub."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return config.offline or any(flag.strip().lower() in _TRUTHY for flag in flags)


def hub_unreachable_reason() -> str | None:
    """Why the Hugging Face endpoint cannot be reached, or None if a TCP connection opens.

    One quick probe instead of letting the hub client retry for half a minute.
    """
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=_HUB_PROBE_TIMEOUT_S):
            return None
    except OSError as error:
        return f"{host}:{port} is unreachable ({error})"


def unavailable_message(model: str, why: str) -> str:
    """The message telling the user how to make ``model`` available locally."""
    local_name = model.rsplit("/", 1)[-1]
    return (
        f"cannot load model {model!r}: {why}. Download it on a connected machine "
        f"(`hf download {model} --local-dir ./models/{local_name}`), copy that folder here and "
        f"set MMINGEST_EMBEDDER__MODEL=./models/{local_name} (or [embedder] model in "
        "mmingest.toml); or point HF_HOME at a Hugging Face cache that has it."
    )


def load_checkpoint(config: ClipEmbedderConfig, *, dtype: Any, device: str) -> LoadedModel:
    """Load model and processor from a local directory, the HF cache or the hub, in that order.

    Raises :class:`ModelUnavailable` at once when the checkpoint is neither local nor cached
    and the hub cannot be reached, instead of retrying the network for half a minute.
    """
    name = config.model
    local = Path(name).expanduser()
    if local.exists() or looks_like_path(name):
        if not (local / "config.json").is_file():
            what = "does not exist" if not local.exists() else "has no config.json"
            raise ModelUnavailable(
                f"model directory {local} {what}: point MMINGEST_EMBEDDER__MODEL at a folder "
                "saved with save_pretrained() (config.json, weights and processor files)"
            )
        return _load(str(local), config, dtype=dtype, device=device, local_files_only=True)

    try:
        return _load(name, config, dtype=dtype, device=device, local_files_only=True)
    except OSError:
        log.debug("model %s is not in the local cache", name)
    if hub_offline(config):
        raise ModelUnavailable(
            unavailable_message(
                name, "it is not in the local cache and hub access is disabled (offline mode)"
            )
        )
    reason = hub_unreachable_reason()
    if reason is not None:
        raise ModelUnavailable(
            unavailable_message(name, f"it is not in the local cache and {reason}")
        )
    try:
        return _load(name, config, dtype=dtype, device=device, local_files_only=False)
    except OSError as error:
        raise ModelUnavailable(unavailable_message(name, f"download failed: {error}")) from error


def _load(
    name: str, config: ClipEmbedderConfig, *, dtype: Any, device: str, local_files_only: bool
) -> LoadedModel:
    with needs_extra("the clip embedder"):
        from transformers import AutoModel, AutoProcessor

    options: dict[str, Any] = {
        "revision": config.revision,
        "cache_dir": str(config.cache_dir) if config.cache_dir else None,
        "local_files_only": local_files_only,
    }
    model = AutoModel.from_pretrained(name, dtype=dtype, **options)
    # AutoProcessor.from_pretrained is untyped in transformers.
    processor = cast(Any, AutoProcessor).from_pretrained(name, **options)
    for method in ("get_image_features", "get_text_features"):
        if not callable(getattr(model, method, None)):
            raise ModelUnavailable(
                f"model {name!r} is a {model.config.model_type!r} model, not a CLIP-family dual "
                "encoder (it has no get_image_features/get_text_features): use a CLIP, SigLIP "
                "or SigLIP 2 checkpoint"
            )
    model.to(device)
    model.eval()
    return LoadedModel(model=model, processor=processor, source=name)
