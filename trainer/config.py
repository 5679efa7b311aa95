"""Every setting trainer reads, declared once with its default, type and meaning."""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value trainer cannot use; the message says which and why."""


@dataclass(frozen=True)
class Setting:
    key: str
    default: object
    help: str

    @property
    def env(self) -> str:
        return self.key if self.key.startswith("TRAINER_") else f"TRAINER_{self.key}"


SETTINGS = [
    Setting("TRAINER_HOME", "instance", "Instance folder: database, keys, search index."),
    Setting("COURSES_DIR", "courses", "Folder of courses, one sub-folder per course."),
    Setting("SECRET_KEY", None, "Signs session cookies; made and kept in TRAINER_HOME when unset."),
    Setting("TESTING", False, "Test mode (Flask's TESTING)."),
    Setting("COURSE_RELOAD_SECONDS", 2.0, "At most one check for changed course files per period."),
    Setting("SIGNIN_MAX_FAILURES", 5, "Failed sign-ins allowed per username within the window."),
    Setting("SIGNIN_MAX_FAILURES_PER_ADDRESS", 30, "Failed sign-ins allowed per address."),
    Setting("SIGNIN_WINDOW_SECONDS", 300, "The window, in seconds, of the sign-in limits."),
    Setting("SESSION_DAYS", 30, "Days a sign-in lasts before the learner signs in again."),
    Setting("XAPI_BASE", "https://trainer.invalid", "IRI base of xAPI statements: accounts' "
            "homePage <base>/nodes/<node id>, activities <base>/courses/<course>/…"),
    Setting("LRS_URL", "", "xAPI endpoint of a Learning Record Store the hub forwards "
            "statements to (its /statements resource is under it); empty: none."),
    Setting("LRS_USERNAME", "", "Basic authentication username at the LRS."),
    Setting("LRS_PASSWORD", "", "Basic authentication password at the LRS (never shown)."),
    Setting("LRS_BATCH_SIZE", 50, "Statements posted to the LRS in one request."),
]
BY_KEY = {s.key: s for s in SETTINGS}
INSTANCE_FILE = "config.toml"


def coerce(setting: Setting, value: object) -> object:
    """Turn a text value (from the environment or a file) into the setting's type."""
    kind = type(setting.default)
    if setting.default is None or isinstance(value, kind) and kind is not bool:
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise ConfigError(
            f"{setting.env}={text!r}: expected {kind.__name__} (default {setting.default!r})"
        ) from None


def resolve(overrides: dict | None = None, environ: dict | None = None) -> dict:
    """Defaults, then TRAINER_HOME/config.toml, then TRAINER_* variables, then overrides."""
    overrides = dict(overrides or {})
    environ = os.environ if environ is None else environ
    home_setting = BY_KEY["TRAINER_HOME"]
    home = overrides.get("TRAINER_HOME") or environ.get(home_setting.env) or home_setting.default
    values = {s.key: s.default for s in SETTINGS}
    values.update(_read_instance_file(Path(home)))
    for setting in SETTINGS:
        if setting.env in environ:
            values[setting.key] = coerce(setting, environ[setting.env])
    values.update(overrides)
    values["TRAINER_HOME"] = str(Path(home).resolve())
    values["COURSES_DIR"] = str(Path(values["COURSES_DIR"]).resolve())
    return values


def _read_instance_file(home: Path) -> dict:
    path = home / INSTANCE_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    unknown = sorted(set(data) - set(BY_KEY))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {', '.join(unknown)}")
    return {key: coerce(BY_KEY[key], value) for key, value in data.items()}


def secret_key(home: Path) -> str:
    """The instance's own secret key, made once so sessions survive restarts."""
    path = home / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
