"""The ``mmingest`` command line: ingest, query, doctor, samples."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from connectors.sources import scheme_of
from flows import render
from flows.doctor import run_checks
from flows.runtime import open_runtime
from pipelines.ingest import Kind
from schemas.errors import MmingestError
from schemas.points import DENSE_VECTORS
from schemas.query import FusionMethod, SearchMode
from schemas.settings import Settings

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
"""``ingest`` finished but some objects failed (they are listed and dead-lettered)."""

app = typer.Typer(
    name="mmingest",
    help="Multimodal ingestion into vector databases, and hybrid search over what was ingested.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True)


def _quiet_libraries() -> None:
    # Model libraries print download bars and advice on every load; the CLI has its own output.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@app.callback()
def configure(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logs (-vv: debug).")
    ] = 0,
) -> None:
    """Configuration comes from MMINGEST_* variables, .env and mmingest.toml (see README)."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    _quiet_libraries()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line options on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)


@app.command()
def ingest(
    source: Annotated[
        str,
        typer.Argument(
            help="Folder, file or bucket URI to ingest (./images, s3://bucket/prefix, gs://, az://)."
        ),
    ],
    kind: Annotated[
        list[Kind] | None,
        typer.Option(
            help="What to ingest (repeat): images, pdfs, products. Default: images and pdfs."
        ),
    ] = None,
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="Target collection.")
    ] = None,
    prefix: Annotated[str, typer.Option(help="Only keys starting with this prefix.")] = "",
    include: Annotated[
        list[str] | None, typer.Option(help="Only keys matching this glob (repeat).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Skip keys matching this glob (repeat).")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant stamped on every point.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Objects per batch.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress line (on terminals).")] = True,
) -> None:
    """Ingest images, PDF pages or product catalogs: embed, upsert, report every failure."""
    from connectors.sources import open_source
    from pipelines.ingest import DEFAULT_KINDS
    from pipelines.ingest import ingest as run_ingest

    overrides = {"batch_size": batch_size, "include": include, "exclude": exclude}
    given = {key: value for key, value in overrides.items() if value}
    settings = load_settings(collection=collection, tenant=tenant, ingest=given or None)
    root, prefix = _split_file_source(source, prefix)
    opened = open_source(root, settings.source)
    opened.precheck()  # before loading a model: a typo in the path should fail in a second
    with open_runtime(settings) as runtime:
        assert runtime.embedder is not None
        show_progress = progress and not as_json and err.is_terminal
        with render.ingest_progress(err, enabled=show_progress) as on_progress:
            summary = run_ingest(
                opened,
                runtime.embedder,
                runtime.store,
                collection=settings.collection,
                config=settings.ingest,
                kinds=kind or DEFAULT_KINDS,
                prefix=prefix,
                pdf=settings.pdf,
                catalog=settings.catalog,
                source_config=settings.source,
                http=settings.http,
                tenant=settings.tenant,
                dead_letters=runtime.dead_letters,
                on_progress=on_progress,
            )
        dead_letters = str(runtime.dead_letters.path)
    if as_json:
        out.print_json(json.dumps(render.summary_json(summary)))
    else:
        render.print_summary(out, summary, dead_letters=dead_letters)
    if summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


def _split_file_source(source: str, prefix: str) -> tuple[str, str]:
    """A single local file becomes its folder plus the file name as the key prefix."""
    if scheme_of(source) == "file":
        path = Path(source.removeprefix("file://")).expanduser()
        if path.is_file():
            return str(path.parent), path.name + prefix
    return source, prefix


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
    collection: Annotated[str | None, typer.Option("--collection", "-c")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's points.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Search a collection by text and/or image; prints rank, score, kind, source and caption."""
    from pipelines.query import Retriever

    if text is None and image is None:
        raise typer.BadParameter("give a TEXT to search for, an --image, or both")
    settings = load_settings(collection=collection, tenant=tenant)
    with open_runtime(settings) as runtime:
        assert runtime.embedder is not None
        retriever = Retriever(
            runtime.store, runtime.embedder, collection=settings.collection, tenant=settings.tenant
        )
        hits = retriever.search(
            text, image, k=k, mode=mode, vectors=vector or DENSE_VECTORS, fusion=fusion
        )
    if as_json:
        print(render.hits_json(hits))
    elif hits:
        out.print(render.hits_table(hits))
    else:
        out.print(f"no results in {settings.collection!r}")


@app.command()
def doctor(
    source: Annotated[
        str | None, typer.Argument(help="Also check that this source is listable.")
    ] = None,
    model: Annotated[
        bool, typer.Option(help="Load the embedding model (slow for big models).")
    ] = True,
) -> None:
    """Check configuration, store, model and (optionally) a source; secrets are never shown."""
    settings = load_settings()
    out.print_json(json.dumps(settings.redacted()))
    checks = run_checks(settings, source=source, model=model)
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        out.print(f"{mark} {check.name}: ", end="")
        out.print(check.detail, markup=False, highlight=False)
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
    from pipelines.samples import write_samples

    folders = write_samples(directory, images=images)
    for kind, folder in folders.items():
        out.print(f"{kind:<9} {folder}")


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "settings"
        problems.append(f"{location}: {item['msg']}")
    return "invalid configuration: " + "; ".join(problems)


def _exit(message: str, code: int) -> None:
    err.print(f"mmingest: {message}", markup=False, highlight=False, soft_wrap=True)
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
