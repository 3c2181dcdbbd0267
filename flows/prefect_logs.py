"""Library log records (``mmingest.pipelines.*``, ``mmingest.connectors.*``) in the flow run's
logs, also from the pipeline's own worker threads (which carry no Prefect run context)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect.logging.handlers import APILogHandler

LIBRARY_LOGGER = "mmingest"


class _RunLogHandler(APILogHandler):
    """Sends records to one flow run: the run in context, else the run this handler serves."""

    def __init__(self, flow_run_id: UUID) -> None:
        super().__init__(level=logging.INFO)
        self.flow_run_id = flow_run_id

    def emit(self, record: logging.LogRecord) -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        task_context = TaskRunContext.get()
        flow_context = FlowRunContext.get()
        in_context = (
            task_context.task_run.flow_run_id
            if task_context is not None
            else flow_context.flow_run.id
            if flow_context is not None and flow_context.flow_run is not None
            else None
        )
        if in_context is not None and in_context != self.flow_run_id:
            return  # another run's record (several runs served by one process)
        if getattr(record, "flow_run_id", None) is None:
            record.flow_run_id = self.flow_run_id
        super().emit(record)


@contextmanager
def library_logs_to_run(flow_run_id: UUID, level: int = logging.INFO) -> Iterator[None]:
    """Forward ``mmingest.*`` records of ``level`` and above to the flow run while it runs."""
    logger = logging.getLogger(LIBRARY_LOGGER)
    handler = _RunLogHandler(flow_run_id)
    handler.setLevel(level)
    previous = logger.level
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        # Records of the last moments reach the run before it ends (inside an event loop
        # flush() refuses, and Prefect drains them itself).
        with contextlib.suppress(RuntimeError):
            handler.flush()
