"""Terminal progress for `warehouse refresh`: one short line per step event, no stack traces.

Dagster's default console logger prints every dbt node and full tracebacks; a person running a
refresh wants to see which step runs, what each gate found, and why a run failed.
"""

import logging
import re
import sys
import time
from collections.abc import Callable

import dagster as dg

DBT_NODE_NOISE = re.compile(r"^\d+ of \d+ (START|PASS|OK|SKIP)\b")
# a skipped step is said once, by the message naming why ("Dependencies for step ... failed"); steps
# skipped because nothing changed (dbt built nothing, so nothing downstream runs) are not listed
SHOWN_EVENTS = {"STEP_START", "STEP_FAILURE"}


class UnreportedCheckFilter(logging.Filter):
    """Drops Dagster's warning that a blocking check emitted no result: it says so for every dbt test
    when the dbt step built nothing (a run where nothing changed), and dbt's failures are reported apart."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step" not in record.getMessage()


class _ConciseFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None)
        if meta is None:
            return record.levelno >= logging.WARNING
        event = meta.get("dagster_event")
        if event is not None:
            if event.event_type_value not in SHOWN_EVENTS:
                return False
            label = event.event_type_value.replace("STEP_", "").lower()
            text = meta.get("orig_message") or ""
            if event.event_type_value == "STEP_FAILURE":
                error = event.event_specific_data.error
                while error.cause is not None and "StepExecutionError" in (error.cls_name or ""):
                    error = error.cause
                text = (error.message or "").strip().splitlines()[0] if error.message else error.cls_name
            record.concise = f"{meta.get('step_key') or 'run'}: {label}{' - ' + text if text and label != 'start' else ''}"
            return True
        message = (meta.get("orig_message") or "").strip()
        if record.levelno < logging.INFO or DBT_NODE_NOISE.match(message) or message.startswith(
            ("Running dbt command", "Finished dbt command", "Copying `", "A dbt subsetted", "Completed successfully",
             "Finished running", "Concurrency", "Done. PASS", "Skipping step")
        ):
            return record.levelno >= logging.WARNING and not DBT_NODE_NOISE.match(message)
        if "did not yield or return expected outputs" in message:
            return False  # the dbt step built nothing: a run where nothing changed (it says so itself)
        if message.startswith("Dependencies for step"):
            message = "skipped: an upstream step or blocking check failed"
        record.concise = f"{meta.get('step_key') or 'run'}: {message}"
        return True


@dg.logger(
    config_schema={"log_level": dg.Field(str, is_required=False, default_value="DEBUG")},
    description="One line per step event and gate result, for the warehouse CLI.",
)
def concise_console(init_context) -> logging.Logger:
    # DEBUG reaches the filter, which keeps step events and drops the rest below INFO
    logger = logging.Logger("warehouse.refresh", level=logging.DEBUG)
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ConciseFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(concise)s", datefmt="%H:%M:%S"))
    logger.addHandler(handler)
    return logger


class DbtNoiseFilter:
    """A stdout wrapper dropping dbt's per-node lines, which dagster-dbt echoes to stdout."""

    NOISE = re.compile(
        r"^(\d+ of \d+ (START|PASS|OK|SKIP)\b|Running with dbt|Registered adapter|Found \d+ models|"
        r"Concurrency: |Unable to do partial parsing|Finished running|Completed successfully|Done\. PASS|\s*$)"
    )

    def __init__(self, stream):
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
            if not self.NOISE.match(plain):
                self._stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MB"


class DownloadProgress:
    """Reports a download's bytes so far, at most every `every` seconds, then its total and rate."""

    def __init__(self, label: str, report: Callable[[str], None], every: float = 5.0):
        self.label, self.report, self.every = label, report, every
        self.size = 0
        self.started = self.last = time.monotonic()

    def wrap(self, feed: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def counted(chunk: bytes) -> None:
            feed(chunk)
            self.size += len(chunk)
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                self.report(f"{self.label}: {megabytes(self.size)} downloaded ({self._rate(now)})")

        return counted

    def _rate(self, now: float) -> str:
        return f"{megabytes(int(self.size / max(now - self.started, 1e-6)))}/s"


class NodeProgress:
    """dbt build progress: `done of total` nodes, at most every `every` seconds and at each tenth."""

    def __init__(self, total: int, report: Callable[[str], None], every: float = 10.0):
        self.total, self.report, self.every = max(total, 1), report, every
        self.done = 0
        self.started = self.last = time.monotonic()
        self.tenth = 0

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        tenth = self.done * 10 // self.total
        if tenth > self.tenth or now - self.last >= self.every or self.done == self.total:
            self.tenth, self.last = tenth, now
            done = min(self.done, self.total)
            self.report(f"dbt build: {done} of {self.total} done ({done * 100 // self.total}%, {now - self.started:.0f} s)")
