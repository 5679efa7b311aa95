"""Settings: declared once, overridable, validated, and documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trainer import config, create_app

README = Path(__file__).parent.parent / "README.md"


def test_defaults_then_file_then_environment_then_arguments(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('COURSES_DIR = "from-file"\nSESSION_DAYS = 7\n')
    env = {"TRAINER_HOME": str(home), "TRAINER_SESSION_DAYS": "3"}
    values = config.resolve(environ=env)
    assert values["COURSES_DIR"] == str(Path("from-file").resolve())
    assert values["SESSION_DAYS"] == 3
    assert values["COURSE_RELOAD_SECONDS"] == 2.0
    assert config.resolve({"SESSION_DAYS": 9}, environ=env)["SESSION_DAYS"] == 9


def test_environment_names_follow_the_spec():
    assert config.BY_KEY["TRAINER_HOME"].env == "TRAINER_HOME"
    assert config.BY_KEY["COURSES_DIR"].env == "TRAINER_COURSES_DIR"
    assert config.BY_KEY["SECRET_KEY"].env == "TRAINER_SECRET_KEY"


def test_unknown_key_in_the_instance_file_is_refused(tmp_path):
    (tmp_path / "config.toml").write_text("COURSE_DIR = 'x'\n")
    with pytest.raises(config.ConfigError, match="unknown setting COURSE_DIR"):
        config.resolve(environ={"TRAINER_HOME": str(tmp_path)})


def test_boolean_settings_read_words(tmp_path):
    values = config.resolve(environ={"TRAINER_HOME": str(tmp_path), "TRAINER_TESTING": "yes"})
    assert values["TESTING"] is True


def test_secret_key_is_made_once_and_kept(tmp_path):
    first = create_app({"TRAINER_HOME": str(tmp_path)})
    second = create_app({"TRAINER_HOME": str(tmp_path)})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    for app in (first, second):
        app.extensions["trainer"].pool.close()


def test_every_setting_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"`(TRAINER_[A-Z_]+)`", readme))
    assert {setting.env for setting in config.SETTINGS} <= documented
