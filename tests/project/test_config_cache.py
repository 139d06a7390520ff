"""`leadscore.toml` kept read between commands: a reading command neither parses the file
through its schema again nor loads pydantic or NumPy, and a changed file, another store
override or a mistake is never answered from the cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.project.config import STORE_ENV, ProjectConfig
from leadscore.project.scaffold import init_project


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    init_project(root)
    (root / ".leadscore").mkdir(exist_ok=True)
    return root


def _no_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: type, root: Path) -> ProjectConfig:
        raise AssertionError("the schema read the file again")

    monkeypatch.setattr(ProjectConfig, "read", classmethod(refuse))


def test_the_second_load_comes_from_the_cache(root: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    first = ProjectConfig.load(root)
    assert list((root / ".leadscore" / "cache").glob("config-*.pickle"))
    _no_schema(monkeypatch)
    again = ProjectConfig.load(root)
    assert again == first and again.data == first.data


def test_an_edit_or_an_override_is_read_again(root: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    before = ProjectConfig.load(root)
    config = root / "leadscore.toml"
    config.write_text(config.read_text() + '\n[web]\nsales_leads = "own"\n')
    edited = ProjectConfig.load(root)
    assert (before.sales_leads, edited.sales_leads) == ("all", "own")
    monkeypatch.setenv(STORE_ENV, "sqlite:///elsewhere.db")
    assert ProjectConfig.load(root).store_url.endswith("elsewhere.db")


def test_a_mistake_is_reported_every_time(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    config = root / "leadscore.toml"
    config.write_text(config.read_text() + "\n[web]\nsales_lead = \"own\"\n")
    for _ in range(2):
        with pytest.raises(LeadscoreError) as raised:
            ProjectConfig.load(root)
        assert "sales_lead" in str(raised.value)
    assert not list((root / ".leadscore" / "cache").glob("config-*.pickle"))


def test_a_damaged_cache_file_is_only_a_miss(root: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    first = ProjectConfig.load(root)
    for kept in (root / ".leadscore" / "cache").glob("config-*.pickle"):
        kept.write_bytes(b"not a pickle")
    assert ProjectConfig.load(root) == first


def test_reading_commands_load_neither_pydantic_nor_numpy(root: Path) -> None:
    """What `leads`, `stats` and `explain` import on a scored store, asked of a process that
    runs the command line in itself (the second run: the first fills the caches)."""
    env = {"PATH": str(Path(sys.executable).parent)}
    leadscore = [sys.executable, "-m", "leadscore"]
    subprocess.run([*leadscore, "generate", "--contacts", "60", "--events", "400", "--seed", "3"],
                   cwd=root, env=env, check=True, capture_output=True)
    for step in (["import", "contacts", "data/contacts.csv"],
                 ["import", "events", "data/events.jsonl"], ["score"]):
        subprocess.run([*leadscore, *step], cwd=root, env=env, check=True, capture_output=True)
    probe = ("import sys\nfrom leadscore.cli.app import main\n"
             "sys.argv = ['leadscore', *sys.argv[1:]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('LOADED', sorted(n for n in ('pydantic', 'numpy', 'pyarrow', 'sqlalchemy', "
             "'yaml', 'sqlglot') if n in sys.modules), file=sys.stderr)")
    for command in (["leads", "--limit", "3"], ["stats"], ["explain", "--top", "1"]):
        for _ in range(2):
            ran = subprocess.run([sys.executable, "-c", probe, *command], cwd=root, env=env,
                                 capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr
        loaded = ran.stderr.strip().splitlines()[-1]
        assert loaded == "LOADED []", (command, loaded)
