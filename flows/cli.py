"""The ``mmingest`` command line: the entry point, plus query, doctor and samples.

Pipeline commands (ingest, backfill, sync, verify, retry-failed) live in
``mmingest.flows.commands``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from mmingest.flows import commands, render, serve
from mmingest.flows.app import EXIT_ERROR, EXIT_USAGE, app, err, load_settings, out
from mmingest.flows.doctor import changed_settings, run_checks
from mmingest.flows.runtime import open_runtime
from mmingest.pipelines.local_roots import display_source_config
from mmingest.pipelines.text import terminal_safe
from mmingest.schemas.errors import MmingestError
from mmingest.schemas.points import DENSE_VECTORS
from mmingest.schemas.query import FusionMethod, SearchMode
from mmingest.schemas.settings import Settings
from mmingest.schemas.settings_sources import nested_suggestion

# Importing flows.commands and flows.serve registers the pipeline commands (ingest, sync, ...)
# and serve on the app.
__all__ = ["app", "commands", "main", "serve"]


@app.command()
def query(
    text: Annotated[str | None, typer.Argument(help="Text to search for.")] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Image file to search with.")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Number of results.")] = 10,
    mode: Annotated[SearchMode, typer.Option(help="Channels to search.")] = SearchMode.HYBRID,
    vector: Annotated[
        list[str] | None,
        typer.Option(
            "--vector", help="Named vector to search (repeat; default: caption and image)."
        ),
    ] = None,
    fusion: Annotated[
        FusionMethod, typer.Option(help="How channels are fused.")
    ] = FusionMethod.RRF,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            "-w",
            help="Filter (repeat: all must hold): kind=image, kind=image,pdf_page, page>=2, "
            "fields.brand!=acme, caption~running shoes.",
        ),
    ] = None,
    weight: Annotated[
        list[str] | None,
        typer.Option(help="Channel weight, e.g. --weight keywords=2 (caption, image, keywords)."),
    ] = None,
    collection: Annotated[str | None, typer.Option("--collection", "-c")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's points.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Search a collection by text and/or image; prints rank, score, kind, source and caption."""
    from mmingest.pipelines.query import Retriever
    from mmingest.schemas.filters import all_of, parse_condition

    if text is None and image is None:
        raise typer.BadParameter("give a TEXT to search for, an --image, or both")
    conditions = [parse_condition(condition) for condition in where or []]
    filters = None
    if conditions:
        filters = conditions[0] if len(conditions) == 1 else all_of(*conditions)
    weights = _weights(weight or [])
    settings = load_settings(collection=collection, tenant=tenant)
    with open_runtime(settings) as runtime:
        assert runtime.embedder is not None
        retriever = Retriever(
            runtime.store,
            runtime.embedder,
            collection=settings.collection,
            tenant=settings.tenant,
            source_config=display_source_config(settings),
            max_image_bytes=settings.query.max_image_bytes,
        )
        hits = retriever.search(
            text,
            image,
            k=k,
            filters=filters,
            mode=mode,
            vectors=vector or DENSE_VECTORS,
            weights=weights,
            fusion=fusion,
        )
    if as_json:
        print(render.hits_json(hits))
    elif hits:
        out.print(render.hits_table(hits))
    else:
        out.print(f"no results in {settings.collection!r}")


def _weights(options: list[str]) -> dict[str, float]:
    weights = {}
    for option in options:
        channel, sep, value = option.partition("=")
        try:
            weights[channel.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise typer.BadParameter(f"--weight {option!r}: write CHANNEL=NUMBER, e.g. keywords=2")
    return weights


@app.command()
def doctor(
    source: Annotated[
        str | None, typer.Argument(help="Also check that this source is listable.")
    ] = None,
    model: Annotated[
        bool | None,
        typer.Option(
            help="Load the embedding model (slow for big models). Default: yes, unless a SOURCE "
            "is given (then only the source and store are checked)."
        ),
    ] = None,
) -> None:
    """Check configuration, store, model and (optionally) a source; secrets are never shown."""
    if model is None:
        model = source is None
    settings = load_settings()
    out.print_json(json.dumps(settings.redacted()))
    changed = changed_settings(settings)
    out.print("differs from the defaults:" if changed else "every setting has its default value")
    for item in changed:
        shown = f"  {item.name} = {json.dumps(item.value)}  ({item.origin})"
        out.print(terminal_safe(shown), markup=False, highlight=False)
    checks = run_checks(settings, source=source, model=model)
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        out.print(f"{mark} {check.name}: ", end="")
        out.print(terminal_safe(check.detail, multiline=True), markup=False, highlight=False)
    if not all(check.ok for check in checks):
        raise typer.Exit(EXIT_ERROR)


@app.command()
def samples(
    directory: Annotated[Path, typer.Argument(help="Where to write the sample data.")] = Path(
        "samples"
    ),
    images: Annotated[int, typer.Option(min=1, max=72, help="Number of images.")] = 24,
) -> None:
    """Write sample data: captioned images, multi-page PDFs and a Parquet product catalog."""
    from mmingest.pipelines.samples import write_samples

    folders = write_samples(directory, images=images)
    for kind, folder in folders.items():
        out.print(f"{kind:<9} {folder}")


models = typer.Typer(
    help="Build a CLIP model with random weights, to try the pipeline without downloading one.",
    no_args_is_help=True,
)
app.add_typer(models, name="models")

ModelDir = Annotated[Path, typer.Argument(help="Where to save the model (a new folder).")]


def _build_model(name: str, directory: Path) -> None:
    from mmingest.connectors.embedders.clip.random_weights import BUILDERS
    from mmingest.connectors.extras import needs_extra

    with needs_extra(f"mmingest models {name}", "clip"):
        saved = BUILDERS[name](directory)
    lines = (f"{name} model saved in {saved}", f"use it: export MMINGEST_EMBEDDER__MODEL={saved}")
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)


@models.command("tiny")
def models_tiny(directory: ModelDir = Path("models/tiny-clip")) -> None:
    """A ~300 KB CLIP (32-d vectors) that builds in seconds: rankings are meaningless except
    for exact matches (e.g. mmingest query "<a caption>" --vector caption)."""
    _build_model("tiny", directory)


@models.command("vit-b-32")
def models_vit_b_32(directory: ModelDir = Path("models/random-vit-b-32")) -> None:
    """The ViT-B/32 CLIP architecture with random weights: a real model's cost, for
    throughput tests."""
    _build_model("vit-b-32", directory)


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "settings"
        hint = ""
        if item["type"] == "extra_forbidden":  # a misspelled nested key: name the one meant
            hint = nested_suggestion(Settings, tuple(item["loc"]))
        problems.append(f"{location}: {item['msg']}{hint}")
    return "invalid configuration: " + "; ".join(problems)


def _exit(message: str, code: int) -> None:
    # Error messages quote keys and object content: show control characters, never obey them.
    safe = terminal_safe(message, multiline=True)
    err.print(f"mmingest: {safe}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(code)


def _usage_hint(error: typer.TyperException) -> str:
    context = getattr(error, "ctx", None)
    path = getattr(context, "command_path", None) or "mmingest"
    return f" (see '{path} --help')"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mmingest`` script: one clear line for every expected error."""
    args = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=args or ["--help"], prog_name="mmingest", standalone_mode=False)
    except typer.TyperException as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        _exit(f"{message}{_usage_hint(error)}", EXIT_USAGE)
    except (typer.Abort, KeyboardInterrupt):
        _exit("interrupted", 130)
    except ValidationError as error:
        _exit(_validation_message(error), EXIT_ERROR)
    except MmingestError as error:
        _exit(f"error: {error.message}", EXIT_ERROR)
    sys.exit(result if isinstance(result, int) else 0)
