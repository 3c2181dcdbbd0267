"""The per-object isolation boundary of the extract stage.

A bucket holds whatever people put in it, and decoders (Pillow, PDFium, pyarrow, the JSON
parser) fail in ways nobody listed. Whatever one object raises while it is read and decoded
becomes that object's dead letter, with the object's URI and a reason, and the run goes on;
only faults that would fail every remaining object the same way (configuration, credentials,
an unreachable or refusing store) stop the run.
"""

from __future__ import annotations

import logging

from mmingest.schemas.errors import (
    InvalidInput,
    MmingestError,
    StoreUnavailable,
    TerminalError,
    TransientError,
)
from mmingest.schemas.summary import Failure, Stage

log = logging.getLogger(__name__)

_MAX_DETAIL = 300


def stops_run(error: BaseException) -> bool:
    """Whether ``error`` must stop the whole run rather than fail one object.

    Interrupts and exits stop it; so do terminal errors about the run itself (configuration,
    credentials, schema, a missing collection) and a store that stays unavailable after its
    retries. Everything else concerns the object being handled.
    """
    if not isinstance(error, Exception):
        return True  # KeyboardInterrupt, SystemExit, GeneratorExit
    if isinstance(error, TerminalError) and not isinstance(error, InvalidInput):
        return True
    return isinstance(error, StoreUnavailable)


def isolation_failure(uri: str, error: Exception) -> Failure:
    """The dead letter of an object whose handling raised ``error``.

    Our own per-object errors keep their reason; anything else is named by its type, so the
    dead letter still says what broke (``RecursionError``, ``PdfiumError``...).
    """
    if isinstance(error, InvalidInput | TransientError):
        return Failure.of(uri, Stage.DECODE, error)
    if isinstance(error, MmingestError):  # pragma: no cover - stops_run() re-raises these
        return Failure.of(uri, Stage.DECODE, error)
    log.warning("unexpected %s while extracting %s", type(error).__name__, uri, exc_info=error)
    detail = _detail(error)
    return Failure(
        uri=uri,
        stage=Stage.DECODE,
        error_type=type(error).__name__,
        reason="extraction_failed",
        message=(
            f"reading this object raised {type(error).__name__}: {detail}. It was dead-lettered "
            "and the run went on; if the file opens elsewhere, report it with this message"
        ),
    )


def write_failure(uri: str, error: Exception) -> Failure:
    """The dead letter of a point whose write raised ``error``: our own errors keep their
    reason; anything else a store or its client raised is named by its type."""
    if isinstance(error, MmingestError):
        return Failure.of(uri, Stage.WRITE, error)
    return Failure(
        uri=uri,
        stage=Stage.WRITE,
        error_type=type(error).__name__,
        reason="write_failed",
        message=(
            f"writing this point raised {type(error).__name__}: {_detail(error)}. It was "
            "dead-lettered and the run went on; once the cause is fixed, `mmingest retry-failed` "
            "writes it again"
        ),
    )


def _detail(error: BaseException) -> str:
    # One line, bounded: a client's message may list every variant it tried (kilobytes).
    return " ".join((str(error) or "no detail").split())[:_MAX_DETAIL]
