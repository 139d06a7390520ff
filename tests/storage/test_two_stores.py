"""Two stores of one SQLite file in one process (`leadscore serve`: the API's and the
worker's) stay whole while another process writes: opening the second must not drop the
first's file locks (a plain open and close of the file did, and the other process then deleted
the WAL under it: "database disk image is malformed")."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from leadscore.storage import ContactInput, Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_second_store_in_the_process_keeps_the_first_one_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as first:
        first.upsert_contacts([ContactInput("c1", T0)])
        with first.engine.connect() as held:  # an open connection, as the API's pool keeps
            held.exec_driver_sql("SELECT count(*) FROM contacts").scalar()
            with Store.open(url) as second:
                other = (f"import sqlite3; c = sqlite3.connect({str(tmp_path / 'store.db')!r});"
                         "c.execute(\"INSERT INTO store_state (name, value) VALUES ('x', 1)\");"
                         "c.commit(); c.close()")
                subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
                second.upsert_contacts([ContactInput("c2", T0)])
                assert second.counts()["contacts"] == 2
            held.rollback()  # its snapshot ends; the next read sees the others' writes
            assert held.exec_driver_sql("SELECT count(*) FROM contacts").scalar() == 2
        first.upsert_contacts([ContactInput("c3", T0)])
        assert first.counts()["contacts"] == 3
