"""Compiled templates are kept in the instance folder, so a new server process starts without
compiling them again; a damaged file there is compiled again, not trusted."""

from __future__ import annotations

from trainer import create_app
from trainer.templating import CompiledTemplates


def new_process_app(tmp_path, courses_dir, monkeypatch):
    """An app as a freshly started server makes it: nothing compiled in memory yet."""
    monkeypatch.setattr(CompiledTemplates, "in_memory", {})
    return create_app({"TRAINER_HOME": str(tmp_path / "home"), "COURSES_DIR": str(courses_dir),
                       "SECRET_KEY": "test-secret", "TESTING": True})


def close(app):
    app.extensions["trainer"].sync.stop()
    app.extensions["trainer"].search.close()
    app.extensions["trainer"].pool.close()


def test_a_new_process_reads_the_templates_compiled_by_the_last(tmp_path, courses_dir,
                                                                monkeypatch):
    first = new_process_app(tmp_path, courses_dir, monkeypatch)
    assert first.test_client().get("/login").status_code == 200
    close(first)
    kept = tmp_path / "home" / "cache" / "templates"
    files = sorted(kept.iterdir())
    assert files and not [f for f in files if f.name.startswith(".")]  # whole files only
    compiled = []
    monkeypatch.setattr(CompiledTemplates, "dump_bytecode",
                        lambda self, bucket: compiled.append(bucket.key))
    second = new_process_app(tmp_path, courses_dir, monkeypatch)
    page = second.test_client().get("/login")
    assert page.status_code == 200 and b'name="password"' in page.data
    assert compiled == []  # every template the sign-in page needs came from the folder
    close(second)


def test_damaged_compiled_templates_are_compiled_again(tmp_path, courses_dir, monkeypatch):
    close(new_process_app(tmp_path, courses_dir, monkeypatch))
    for kept in (tmp_path / "home" / "cache" / "templates").iterdir():
        kept.write_bytes(kept.read_bytes()[:40] + b"\x00damage")
    app = new_process_app(tmp_path, courses_dir, monkeypatch)
    page = app.test_client().get("/login")
    assert page.status_code == 200 and b'name="password"' in page.data
    close(app)
