"""An nbclient ``NotebookClient`` that stops notebooks printing too much or ignoring interrupts.

Outputs are counted as they arrive; past the cap the kernel is interrupted and execution ends with
:class:`OutputLimitExceeded`, so a notebook printing gigabytes neither fills the grader's memory nor the
stored notebook. A cell still running ``grace`` seconds after its timeout interrupt ends the notebook
with :class:`KernelUnresponsive` (nbclient would otherwise re-interrupt it in a busy loop).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nbclient import NotebookClient


class OutputLimitExceeded(RuntimeError):
    """The notebook printed more than it may."""


class KernelUnresponsive(RuntimeError):
    """A cell kept running after it was interrupted."""


class CappedClient(NotebookClient):
    """A NotebookClient with a cap on the total size of outputs (``max_output_bytes``)."""

    def __init__(self, nb: Any, km: Any = None, max_output_bytes: int = 16 << 20, **kw: Any) -> None:
        super().__init__(nb, km=km, **kw)
        self.max_output_bytes = max_output_bytes
        self.output_bytes = 0
        self._interrupt: asyncio.Future[Any] | None = None
        self.grace = 5.0
        self._interrupted_at: float | None = None

    async def async_execute_cell(self, *args: Any, **kwargs: Any) -> Any:
        self._interrupted_at = None
        return await super().async_execute_cell(*args, **kwargs)

    async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> dict[str, Any] | None:
        if self._interrupted_at is None:
            self._interrupted_at = time.monotonic()
            return await super()._async_handle_timeout(timeout, cell)
        if time.monotonic() - self._interrupted_at > self.grace:
            raise KernelUnresponsive(
                f"a cell kept running {self.grace:g} s after it was interrupted at its {timeout:g} s limit; "
                "the notebook was stopped"
            )
        await asyncio.sleep(0.2)
        return None

    def output(self, outs: list, msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        content = msg.get("content", {})
        self.output_bytes += len(str(content.get("text", ""))) + len(str(content.get("data", "")))
        self.output_bytes += sum(len(str(t)) for t in content.get("traceback", []) or [])
        if self.output_bytes > self.max_output_bytes:
            if self._interrupt is None and self.km is not None:
                self._interrupt = asyncio.ensure_future(self.km.interrupt_kernel())
            cap = f"{self.max_output_bytes / 2**20:g} MB"
            raise OutputLimitExceeded(f"the notebook printed more than {cap} of output and was stopped")
        return super().output(outs, msg, display_id, cell_index)
