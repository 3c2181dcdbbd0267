"""Build CLIP-family models locally with random weights (no hub access, no download).

The models are saved with ``save_pretrained`` and loaded by the embedder through the same
``from_pretrained`` path as a downloaded checkpoint. A tiny model is cheap and deterministic: it
lets you try the whole pipeline without weights (its rankings are meaningless except for exact
matches) and it is what the tests use; a full-size ViT-B/32 has the real model's cost, for
benchmarks::

    mmingest models tiny ./models/tiny-clip
    mmingest models vit-b-32 ./models/random-vit-b-32
"""

from __future__ import annotations

import json
import string
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _char_tokenizer(directory: Path) -> Any:
    """A CLIP BPE tokenizer over single characters (no merges): small and fully offline."""
    from transformers import CLIPTokenizer

    symbols = string.ascii_lowercase + string.digits + string.punctuation
    vocab: dict[str, int] = {}
    for token in [*symbols, *(c + "</w>" for c in symbols)]:
        vocab.setdefault(token, len(vocab))
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = Path(scratch) / "vocab.json"
        merges_file = Path(scratch) / "merges.txt"
        vocab_file.write_text(json.dumps(vocab))
        merges_file.write_text("#version: 0.2\n")
        end = "<|endoftext|>"  # a special token, not a secret
        return CLIPTokenizer(str(vocab_file), str(merges_file), unk_token=end, pad_token=end)


def build_clip(
    directory: Path,
    *,
    text: dict[str, int],
    vision: dict[str, int],
    projection_dim: int,
    seed: int = 0,
) -> Path:
    """Save a randomly initialised CLIP model and processor into ``directory``."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(seed)
    tokenizer = _char_tokenizer(directory)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    bos = tokenizer.convert_tokens_to_ids("<|startoftext|>")
    config = CLIPConfig(
        text_config={
            **text,
            "vocab_size": len(tokenizer),
            "max_position_embeddings": 77,
            "bos_token_id": bos,
            "eos_token_id": eos,
            "pad_token_id": eos,
        },
        vision_config=vision,
        projection_dim=projection_dim,
    )
    model = CLIPModel(config).eval()  # type: ignore[no-untyped-call]
    side = vision["image_size"]
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    )
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)  # type: ignore[no-untyped-call]
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def build_tiny_clip(directory: Path, seed: int = 0) -> Path:
    """A ~300 KB CLIP (2 layers, 32-d hidden, 32 px images, 32-d embeddings)."""
    layers = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
    }
    return build_clip(
        directory,
        text=layers,
        vision={**layers, "image_size": 32, "patch_size": 8},
        projection_dim=32,
        seed=seed,
    )


def build_vit_b_32(directory: Path, seed: int = 0) -> Path:
    """The ViT-B/32 CLIP architecture (openai/clip-vit-base-patch32) with random weights."""
    return build_clip(
        directory,
        text={
            "hidden_size": 512,
            "intermediate_size": 2048,
            "num_attention_heads": 8,
            "num_hidden_layers": 12,
        },
        vision={
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_attention_heads": 12,
            "num_hidden_layers": 12,
            "image_size": 224,
            "patch_size": 32,
        },
        projection_dim=512,
        seed=seed,
    )


def build_tiny_siglip(directory: Path, *, version: int = 1, seed: int = 0) -> Path:
    """A tiny SigLIP (``version=1``) or SigLIP 2 (``version=2``) with a character tokenizer."""
    import torch
    from transformers import (
        Siglip2Config,
        Siglip2ImageProcessor,
        Siglip2Model,
        Siglip2Processor,
        SiglipConfig,
        SiglipImageProcessor,
        SiglipModel,
        SiglipProcessor,
    )

    torch.manual_seed(seed)
    tokenizer = _char_tokenizer(directory)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    layers = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
    }
    text = {
        **layers,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": 64,
        "bos_token_id": eos,
        "eos_token_id": eos,
        "pad_token_id": eos,
    }
    processor: Any
    if version == 1:
        model: Any = SiglipModel(
            SiglipConfig(
                text_config=text, vision_config={**layers, "image_size": 32, "patch_size": 8}
            )
        )
        image_processor: Any = SiglipImageProcessor(size={"height": 32, "width": 32})
        processor = SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)  # type: ignore[no-untyped-call]
    else:
        model = Siglip2Model(
            Siglip2Config(
                text_config=text, vision_config={**layers, "patch_size": 8, "num_patches": 16}
            )
        )
        image_processor = Siglip2ImageProcessor(patch_size=8, max_num_patches=16)
        processor = Siglip2Processor(image_processor=image_processor, tokenizer=tokenizer)  # type: ignore[no-untyped-call]
    directory.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


BUILDERS: dict[str, Callable[[Path], Path]] = {"tiny": build_tiny_clip, "vit-b-32": build_vit_b_32}
"""The models ``mmingest models NAME DIRECTORY`` builds."""
