"""Bad input through the real command line: a clear error (code, place, hint) and exit 1, never
"internal error … This is a bug" (exit 2); resources bounded; and the words right."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import pytest

from tests.cli.conftest import Cli

pytestmark = pytest.mark.slow

HEAD = "version: 1\nname: m\nscores:\n  fit:\n    rules:\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Cli:
    """A small project, imported, scored and processed, whose webhook receiver is down and
    whose retries come quickly (so one delivery run outlasts the backoff many times)."""
    root = tmp_path_factory.mktemp("hardening")
    run = Cli(root)
    run("init", ".")
    config = root / "leadscore.toml"
    config.write_text(config.read_text().replace("8765", str(closed_port()))
                      + '\n[delivery]\nbackoff_base = "10ms"\n')
    run("generate", "--contacts", "300", "--events", "3000", "--seed", "5")
    run("import", "contacts", "data/contacts.csv")
    run("import", "events", "data/events.jsonl")
    run("score")
    return run


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fails_clearly(result, code: str) -> str:
    assert result.code == 1, result.err
    assert code in result.err, result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    return result.err


# --- exit 2 only for real bugs ----------------------------------------------------------------

def test_a_not_nested_a_thousand_deep_is_a_placed_error(cli):
    depth = 1000
    (cli.cwd / "deep.yaml").write_text(
        HEAD + "      - name: r\n        points: 1\n        when: " + "{not: " * depth
        + "{property: industry, equals: x}" + "}" * depth + "\n")
    err = fails_clearly(cli("validate", "deep.yaml", ok=False), "LS107")
    assert re.search(r"deep\.yaml:8:\d+: error LS107: values are nested more than 64", err)
    assert "hint:" in err


def test_an_alias_bomb_fails_fast(cli):
    text = "version: 1\nname: m\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    (cli.cwd / "bomb.yaml").write_text(text + "scores: {}\n")
    started = time.monotonic()
    err = fails_clearly(cli("validate", "bomb.yaml", ok=False), "LS107")
    assert time.monotonic() - started < 30
    assert "aliases" in err and "bomb.yaml:" in err


def test_huge_points_are_an_error_not_an_infinite_score(cli):
    (cli.cwd / "huge.yaml").write_text(
        HEAD + "      - {name: a, when: {property: industry, equals: x}, points: 1e308}\n"
               "      - {name: b, when: {property: industry, equals: x}, points: 1e308}\n")
    err = fails_clearly(cli("validate", "huge.yaml", ok=False), "LS137")
    assert "huge.yaml:6:" in err and "huge.yaml:7:" in err


def test_a_wrong_type_in_leadscore_toml_is_a_placed_error(cli):
    cli("init", ".")
    config = cli.cwd / "leadscore.toml"
    original = config.read_text()
    config.write_text(original.replace('url = "sqlite:///.leadscore/store.db"', "url = 5"))
    err = fails_clearly(cli("stats", ok=False), "LS308")
    assert re.search(r"leadscore\.toml:6:7 \(store\.url\): error LS308: store\.url must be a "
                     r"string, not 5", err)
    config.write_text(original.replace("[model]\npath", "[model]\npaht"))
    err = fails_clearly(cli("validate", ok=False), "LS307")
    assert "leadscore.toml:9:1" in err and "did you mean 'path'?" in err
    assert not (cli.cwd / ".leadscore").exists()


def test_a_busy_port_for_receive_names_the_port(cli):
    cli("init", ".")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = fails_clearly(cli("receive", "--port", str(port), "--seconds", "1", ok=False),
                            "LS323")
    assert f"cannot listen on port {port} of 127.0.0.1" in err and "--port 0" in err


def test_receive_on_port_zero_picks_a_free_port_and_prints_it(cli):
    cli("init", ".")
    receiver = subprocess.Popen([sys.executable, "-m", "leadscore", "receive", "--port", "0",
                                 "--seconds", "20"], cwd=cli.cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        first = receiver.stdout.readline()
        found = re.search(r"on http://127\.0\.0\.1:(\d+) ", first)
        assert found, first
        port = int(found.group(1))
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it listens there
    finally:
        receiver.terminate()
        receiver.communicate(timeout=20)


# --- words ------------------------------------------------------------------------------------

def test_an_unknown_label_stage_or_grade_is_named(project):
    err = fails_clearly(project("leads", "--label", "XYZ", ok=False), "LS313")
    assert "has no label 'XYZ'" in err and "labels: Lead, MQL, SQL" in err
    err = fails_clearly(project("leads", "--label", "sqll", ok=False), "LS313")
    assert "did you mean 'SQL'?" in err
    err = fails_clearly(project("leads", "--stage", "mqll", "--grade", "Z9", ok=False), "LS322")
    assert "did you mean 'mql'?" in err and "LS314" in err and "no grade 'Z9'" in err
    ok = project("leads", "--label", "sql", "--limit", "3", "--format", "json").json()
    assert all(lead["labels"]["total"] == "SQL" for lead in ok)


def test_list_members_says_how_many_it_shows_of_how_many(project):
    processed = project("process").out
    queued = int(re.search(r"([\d,]+) notifications queued", processed).group(1).replace(",", ""))
    retried = int(re.search(r"([\d,]+) to retry", processed).group(1).replace(",", ""))
    assert queued > 0 and retried == queued, processed  # each row counted once
    counts = {row["list"]: row["members"] for row in project("list", "show", "--format",
                                                             "json").json()}
    shown = project("list", "members", "mql", "--limit", "2")
    assert f"Showing the newest 2 of {counts['mql']:,} members of mql" in shown.err
    assert "--limit 0" in shown.err
    everyone = project("list", "members", "mql", "--limit", "0", "--format", "csv")
    assert everyone.err == "" and len(everyone.out.splitlines()) == counts["mql"] + 1


@pytest.mark.parametrize("command", [
    ["leads", "--limit", "0"], ["leads", "--limit", "0", "--format", "csv"],
    ["leads", "--limit", "0", "--format", "json"], ["score", "--dry-run", "--top", "300"],
    ["explain", "--top", "5"], ["stats"], ["schema"], ["list", "members", "mql"], ["--help"],
])
def test_a_closed_stdout_ends_quietly_with_exit_0(project, command):
    reader_gone = subprocess.Popen([sys.executable, "-m", "leadscore", *command],
                                   cwd=project.cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    assert reader_gone.stdout is not None
    reader_gone.stdout.close()  # as `| head -0` would: every write fails
    _, err = reader_gone.communicate(timeout=120)
    assert (reader_gone.returncode, err.decode()) == (0, "")


def test_head_of_a_pipe_gets_its_line_and_leadscore_exits_0(project):
    shell = subprocess.run(
        f"set -o pipefail; {sys.executable} -m leadscore score --dry-run --top 300 | head -1",
        shell=True, executable="/bin/bash", cwd=project.cwd, capture_output=True, text=True,
        timeout=120)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.startswith("Scored (dry run, nothing stored)")
    assert shell.stderr == ""


def test_an_event_conflict_is_named_and_keep_settles_it(cli):
    cli("init", ".")
    (cli.cwd / "a.jsonl").write_text(
        '{"event_id": "z1", "contact_id": "c-1", "type": "visit", '
        '"occurred_at": "2026-01-13T10:00:00Z"}\n')
    (cli.cwd / "b.jsonl").write_text(
        '{"event_id": "z1", "contact_id": "c-1", "type": "page_view", '
        '"occurred_at": "2026-01-13T10:00:00Z"}\n')
    cli("import", "events", "a.jsonl", "--create-contacts")
    refused = cli("import", "events", "b.jsonl", ok=False)
    assert refused.code == 1 and "LS241" in refused.err and "b.jsonl:1" in refused.err
    kept = cli("import", "events", "b.jsonl", "--on-conflict", "keep")
    assert "1 stored with other content, kept as stored" in kept.out
    wrong = cli("import", "events", "b.jsonl", "--on-conflict", "merge", ok=False)
    assert wrong.code == 1 and "LS242" in wrong.err
    replaced = cli("import", "events", "b.jsonl", "--on-conflict", "replace")
    assert "1 stored with other content, replaced" in replaced.out
    assert "0 new" in replaced.out
    again = cli("import", "events", "b.jsonl")  # the file's version is the stored one now
    assert "1 already stored" in again.out


def test_a_future_event_is_rejected_with_its_place(cli):
    cli("init", ".")
    (cli.cwd / "f.jsonl").write_text(
        '{"event_id": "f1", "contact_id": "c-1", "type": "visit", '
        '"occurred_at": "2026-01-13T10:00:00Z"}\n'
        '{"event_id": "f2", "contact_id": "c-1", "type": "visit", '
        '"occurred_at": "2999-01-13T10:00:00Z"}\n')
    err = fails_clearly(cli("import", "events", "f.jsonl", "--create-contacts", ok=False),
                        "LS223")
    assert "f.jsonl:2" in err and "occurred_at" in err and "future_tolerance" in err
    config = cli.cwd / "leadscore.toml"
    config.write_text(config.read_text() + '\n[import]\nfuture_tolerance = "400000d"\n')
    done = cli("import", "events", "f.jsonl", "--create-contacts")
    assert "2 new" in done.out


def test_a_damaged_store_is_refused_before_an_import_writes(cli):
    from tests.storage.test_store import _damage_an_index

    cli("init", ".")
    (cli.cwd / "c.csv").write_text("contact_id,city\n" + "".join(f"c{i},Oslo\n"
                                                                  for i in range(2000)))
    cli("import", "contacts", "c.csv")
    _damage_an_index(cli.cwd / ".leadscore" / "store.db")
    (cli.cwd / "d.csv").write_text("contact_id,city\nnew,Rome\n")
    err = fails_clearly(cli("import", "contacts", "d.csv", ok=False), "LS296")
    assert "nothing was written" in err and "leadscore restore" in err


def test_score_out_writes_every_contact_or_names_the_mistake(cli):
    import duckdb

    cli("init", ".")
    cli("generate", "--contacts", "200", "--events", "2000", "--seed", "2")
    files = ("--contacts", "data/contacts.csv", "--events", "data/events.jsonl")
    cli("score", *files, "--out", "out/results.parquet")
    rows = duckdb.sql("SELECT count(*), count(DISTINCT contact_id), count(total) FROM "
                      f"read_parquet('{cli.cwd / 'out' / 'results.parquet'}')").fetchall()
    assert rows == [(200, 200, 200)]
    cli("score", *files, "--out", "results.csv")
    lines = (cli.cwd / "results.csv").read_text().splitlines()
    assert len(lines) == 201 and lines[1:] == sorted(lines[1:])  # sorted by contact
    (cli.cwd / "taken").mkdir()
    folder = cli("score", *files, "--out", "taken", ok=False)
    assert folder.code == 1 and "LS333" in folder.err
    (cli.cwd / "blocker").write_text("a file, not a folder")
    (cli.cwd / "dir.parquet").mkdir()
    for out in ("blocker/x.parquet", "dir.parquet"):
        refused = cli("score", *files, "--out", out, ok=False)
        assert refused.code == 1 and "LS340" in refused.err and out in refused.err


@pytest.mark.parametrize("command", [["stats"], ["leads"], ["explain", "c1"], ["list", "show"],
                                     ["tasks"], ["log", "c1"], ["stage", "history", "c1"],
                                     ["outbox"], ["score", "--dry-run"],
                                     ["export", "parquet", "out"], ["contact", "export", "c1"],
                                     ["ledger", "list"]])
def test_a_reading_command_never_creates_a_store(cli, command):
    cli("init", ".")
    config = cli.cwd / "leadscore.toml"
    config.write_text(config.read_text().replace("sqlite:///.leadscore/store.db",
                                                 "sqlite:///typo/store.db"))
    refused = cli(*command, ok=False)
    assert refused.code == 1 and "LS294" in refused.err
    assert not (cli.cwd / "typo").exists()


def test_a_store_overwritten_in_the_middle_is_never_a_bug(cli):
    """Another program overwrote part of the store's file: reading commands answer or say
    LS296, writing ones refuse with LS296 — exit 0 or 1, never 2 ("a bug")."""
    cli("init", ".")
    cli("generate", "--contacts", "2000", "--events", "20000", "--seed", "1")
    cli("import", "contacts", "data/contacts.csv")
    cli("import", "events", "data/events.jsonl")
    cli("score")
    path = cli.cwd / ".leadscore" / "store.db"
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size // 4)
        handle.write(b"\xde\xad" * (size // 4))
    for command in (["stats"], ["leads"], ["explain", "c0000001"], ["list", "show"]):
        read = cli(*command, ok=False)
        assert read.code in (0, 1) and "bug" not in read.err
        assert read.code == 0 or "LS296" in read.err
        if read.code:  # the error names the damaged file
            assert "store.db" in read.err.replace("\n", ""), read.err
    for command in (["score"], ["import", "contacts", "data/contacts.csv"]):
        write = cli(*command, ok=False)
        assert write.code == 1 and "LS296" in write.err
