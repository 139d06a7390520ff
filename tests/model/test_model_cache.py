"""The compiled-model cache: a reading command loads the pickled tree instead of compiling the
file again, and never a tree of another file, another path or another version of the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.model import cache as model_cache
from leadscore.model import load_model
from leadscore.project.scaffold import init_project

EXAMPLE = Path(__file__).resolve().parents[2] / "src/leadscore/project/templates/model.yaml"


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(EXAMPLE.read_text())
    (tmp_path / ".leadscore").mkdir()
    return path


def same(a: object, b: object) -> bool:
    """Equal models: every field, and the catalog (a plain object) by its declarations."""
    from dataclasses import fields

    for field in fields(a):  # type: ignore[arg-type]
        left, right = getattr(a, field.name), getattr(b, field.name)
        if field.name == "catalog":
            if vars(left) != vars(right):
                return False
        elif left != right:
            return False
    return True


def _no_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: object) -> None:
        raise AssertionError("compiled again")
    monkeypatch.setattr(model_cache, "_compile", refuse)


def test_the_second_load_reads_the_cache_and_equals_the_compiled_model(
        model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model_file.parent / ".leadscore" / "cache"
    first = model_cache.load_model_cached(model_file, folder)
    assert same(first, load_model(model_file))
    assert len(list(folder.glob("model-*.pickle"))) == 1
    _no_compile(monkeypatch)
    again = model_cache.load_model_cached(model_file, folder)
    assert same(again, first) and again is not first


def test_a_changed_file_is_compiled_again(model_file: Path) -> None:
    folder = model_file.parent / ".leadscore" / "cache"
    before = model_cache.load_model_cached(model_file, folder)
    model_file.write_text(model_file.read_text().replace("name:", "name: changed-", 1)
                          if "\nname:" not in model_file.read_text()
                          else model_file.read_text().replace("\nname: ", "\nname: changed-", 1))
    after = model_cache.load_model_cached(model_file, folder)
    assert after.name == "changed-" + before.name
    assert same(after, load_model(model_file))


def test_another_version_of_the_code_never_reads_the_tree(
        model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model_file.parent / ".leadscore" / "cache"
    model_cache.load_model_cached(model_file, folder)
    monkeypatch.setattr(model_cache, "code_digest", lambda: "another version")
    compiled: list[object] = []
    original = model_cache._compile
    monkeypatch.setattr(model_cache, "_compile", lambda p: compiled.append(p) or original(p))
    model_cache.load_model_cached(model_file, folder)
    assert compiled == [model_file]


def test_a_damaged_cache_file_is_only_a_miss(model_file: Path) -> None:
    folder = model_file.parent / ".leadscore" / "cache"
    model = model_cache.load_model_cached(model_file, folder)
    for cached in folder.glob("model-*.pickle"):
        cached.write_bytes(b"\x80\x05not a pickle at all")
    assert same(model_cache.load_model_cached(model_file, folder), model)
    assert same(model_cache.load_model_cached(model_file, folder), model)


def test_a_model_with_mistakes_raises_every_time_and_is_not_cached(model_file: Path) -> None:
    folder = model_file.parent / ".leadscore" / "cache"
    model_file.write_text(model_file.read_text() + "\nunknown_key: 1\n")
    for _ in range(2):
        with pytest.raises(LeadscoreError) as raised:
            model_cache.load_model_cached(model_file, folder)
        assert raised.value.diagnostics[0].location.file == str(model_file)
    assert not list(folder.glob("model-*.pickle"))


def test_without_the_data_folder_nothing_is_cached(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(EXAMPLE.read_text())
    folder = tmp_path / ".leadscore" / "cache"
    assert same(model_cache.load_model_cached(path, folder), load_model(path))
    assert not (tmp_path / ".leadscore").exists()


def test_a_project_caches_its_live_model(tmp_path: Path) -> None:
    from leadscore import Project

    root = tmp_path / "p"
    init_project(root)
    with Project.open(root) as project:
        project.store  # noqa: B018 — creates the data folder
        model = project.model
    assert list((root / ".leadscore" / "cache").glob("model-*.pickle"))
    with Project.open(root) as project:
        assert same(project.model, model)
