"""Dagster's SQLite event log, with its connections kept open between events.

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine, opens a SQLite connection, and
disposes of both for every event it stores, three times over for an asset event (the run's shard,
the index shard and its asset tables). A refresh stores about 1,070 events (its 241 dbt nodes and
35 gates each plan, evaluate and report), and that cost 8.1 s of a 28.5 s refresh of the bundled
sample (measured by timing `store_event` in a `warehouse refresh` with DAGSTER_HOME set). With one
pooled engine per shard, the same events take 2.7 s; nothing else changes: the same files, tables
and transactions, so the UI, the daemon and the runs of older instances read them as before.

Only the most recently used shards keep an engine (the index and a few runs), so a long-lived
webserver that opens the events of many runs holds a bounded number of files open. The class is
named in `dagster_home/dagster.yaml` (`event_log_storage`); its directory is the one Dagster's own
default uses, `$DAGSTER_HOME/history/runs/`.

This overrides the private `_connect` of a Dagster release pinned exactly in pyproject.toml;
tests/test_definitions.py runs it against a real instance.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import dagster._check as check
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

KEPT_ENGINES = 8  # the index shard and the shards of the runs most recently written or read


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that reuses one SQLAlchemy engine (and its pooled connection) per shard."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # before Dagster's own set-up, which connects
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **(config_value or {}))

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        self._engines[shard] = engine
        while len(self._engines) > KEPT_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            check.str_param(shard, "shard")
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the run shards' files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def default_base_dir() -> str:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise check.CheckError("PooledSqliteEventLogStorage needs DAGSTER_HOME (its events go to $DAGSTER_HOME/history/runs/)")
    return os.path.join(home, "history", "runs", "")
