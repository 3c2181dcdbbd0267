"""The ``mmingest`` Typer app, its consoles and exit codes, shared by every command module."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from mmingest.pipelines.text import terminal_safe
from mmingest.schemas.settings import Settings

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
"""A pipeline command finished but some items failed (they are listed and dead-lettered)."""

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


def quiet_libraries() -> None:
    """Keep model libraries' download bars and advice out of the output."""
    # Model libraries print download bars and advice on every load; the CLI has its own output.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _show_version(value: bool) -> None:
    if value:
        from mmingest import __version__

        out.print(f"mmingest {__version__}", markup=False, highlight=False)
        raise typer.Exit()


class TerminalSafeFormatter(logging.Formatter):
    """Log lines quote object keys and content: show their control characters, never obey."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record), multiline=True)


@app.callback()
def configure(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logs (-vv: debug).")
    ] = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Configuration comes from MMINGEST_* variables, .env and mmingest.toml (see README)."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    quiet_libraries()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line options on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)
