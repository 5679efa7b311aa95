"""Users, roles, password hashing, sessions, sign-in limits and permissions."""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from functools import cache, wraps

from flask import abort, current_app, g, has_request_context, redirect, request, session, url_for
from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from . import events
from .db import immediate
from .i18n import lazy_text as _l

ROLES = ("learner", "trainer", "coordinator")
STAFF = ("trainer", "coordinator")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 4  # a 4-digit PIN is allowed: learners sign in on shared phones
PASSWORD_METHOD = "scrypt:16384:8:1"  # 16 MB of work memory: affordable on a Raspberry Pi
# At most two hashes at once: memory stays bounded when a class signs in together.
_HASHING = threading.BoundedSemaphore(2)


def hash_password(password: str) -> str:
    with _HASHING:
        return generate_password_hash(password, method=PASSWORD_METHOD)


def password_matches(stored_hash: str, password: str) -> bool:
    with _HASHING:
        return check_password_hash(stored_hash, password)


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so a wrong name costs what a wrong password does."""
    return hash_password(secrets.token_hex(16))


class AccountError(ValueError):
    """Input a person must correct; the message is for them."""


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: str
    active: bool
    language: str = ""  # their choice from the language menu; "" when they made none

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def validate_new_user(db: Database, username: str, password: str, role: str) -> None:
    """Raise AccountError with a message for the person when these cannot make an account."""
    check_fields(username, password, role)
    if find_by_username(db, username) is not None:
        raise AccountError(_l("The username %(name)s is taken. Choose another.", name=username))


def check_fields(username: str, password: str, role: str) -> None:
    """What an account needs whatever else exists: a good username, password and role."""
    if not USERNAME.match(username):
        raise AccountError(_l("A username has 2 to 32 letters, digits, dots, dashes or "
                              "underscores, and starts with a letter or digit."))
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(_l("The password or PIN needs at least %(n)d characters.",
                              n=MIN_PASSWORD))
    if role not in ROLES:
        raise AccountError(_l("Unknown role: %(role)s.", role=role))


def create_user(db: Database, username: str, password: str, role: str = "learner",
                display_name: str = "", by: str | None = None,
                group_id: str | None = None) -> str:
    """Create an account through the event log; returns the new user's id."""
    username = normalise_username(username)
    validate_new_user(db, username, password, role)  # a quick answer before the slow hash
    user_id = str(uuid.uuid4())
    if group_id is not None:
        check_group(db, group_id)
    values = new_account(username, hash_password(password), role, display_name, group_id)
    with immediate(db):  # checked again under the write lock: two at once cannot both pass
        validate_new_user(db, username, password, role)
        events.set_fields(db, "user", user_id, values, by=by, locked=True)
    return user_id


def set_language(db: Database, user: User, language: str) -> None:
    """Save a person's choice of interface language (it travels with their account)."""
    events.set_fields(db, "user", user.id, {"language": language}, by=user.id)


def new_account(username: str, password_hash: str, role: str, display_name: str,
                group_id: str | None) -> dict:
    """The fields a new account starts with."""
    return {"username": username, "display_name": (display_name or "").strip()[:80],
            "role": role, "password_hash": password_hash, "active": True,
            "group_id": group_id}


def _user(row) -> User | None:
    if row is None:
        return None
    return User(id=row[0], username=row[1], display_name=row[2], role=row[3],
                active=bool(row[4]), language=row[5])


USER_COLUMNS = "id, username, display_name, role, active, language"


def find_by_username(db: Database, username: str) -> User | None:
    row = db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE username = ?",
                     [normalise_username(username)]).fetchone()
    return _user(row)


def find_by_id(db: Database, user_id: str) -> User | None:
    row = db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", [user_id]).fetchone()
    return _user(row)


def list_users(db: Database) -> list[User]:
    rows = db.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY role, username").fetchall()
    return [_user(row) for row in rows]


def shared_usernames(db: Database) -> set[str]:
    """Usernames that more than one account holds: boxes that made the same one before they
    synced. Both accounts are kept; a coordinator renames one."""
    return {name for (name,) in db.execute(
        "SELECT username FROM users GROUP BY username HAVING count(*) > 1")}


def count_role(db: Database, role: str) -> int:
    return db.execute("SELECT count(*) FROM users WHERE role = ? AND active", [role]).fetchone()[0]


def authenticate(db: Database, username: str, password: str) -> User | None:
    """The active user with this username and password, or None. Two boxes may each have
    made an "amina" before they synced: both accounts are kept, and the password tells them
    apart (the coordinator sees the collision and can rename one); should the passwords be
    the same as well, the account made on this node is the one signed in here."""
    rows = db.execute(  # this node's own account first, should the passwords be the same too
        f"SELECT {USER_COLUMNS}, password_hash FROM users u WHERE username = ? AND active"
        " ORDER BY (SELECT substr(origin, 1, instr(origin, '/') - 1) FROM lww WHERE entity ="
        " 'user' AND entity_id = u.id AND field = 'username') IS NOT (SELECT node_id FROM"
        " node WHERE id = 1), created_hlc, id", [normalise_username(username)]).fetchall()
    if not rows:
        password_matches(_dummy_hash(), password or "")
        return None
    for row in rows:
        if password_matches(row[6], password or ""):
            return _user(row)
    return None


# Sessions live in the database so signing out, or a deactivated account, ends them for real.


def start_session(db: Database, user: User) -> None:
    """Sign in: a fresh session id and CSRF token, never the ones from before."""
    sid = secrets.token_urlsafe(32)
    db.execute("INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)",
               [sid, user.id, int(time.time())])
    session.clear()
    session["sid"] = sid
    session["csrf_token"] = secrets.token_urlsafe(32)  # minted now: later pages re-sign nothing
    session.permanent = True
    events.signed_in(db, user.id)


def end_session(db: Database) -> None:
    sid = session.get("sid")
    if sid:
        db.execute("DELETE FROM sessions WHERE id = ?", [sid])
    session.clear()


def load_signed_in_user(db: Database) -> User | None:
    sid = session.get("sid")
    if not sid:
        return None
    oldest = int(time.time()) - current_app.config["SESSION_DAYS"] * 86400
    row = db.execute(
        f"SELECT {', '.join('u.' + c.strip() for c in USER_COLUMNS.split(','))} FROM sessions s"
        " JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.created_at > ? AND u.active",
        [sid, oldest],
    ).fetchone()
    return _user(row)


class SignInLimiter:
    """Counts failed sign-ins per username and per address over a sliding window."""

    def __init__(self, per_name: int, per_address: int, window: float):
        self.limits = {"name": per_name, "address": per_address}
        self.window = window
        self._failures: dict[tuple[str, str], deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def blocked(self, username: str, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return any(
                len(self._recent((kind, value), now)) >= self.limits[kind]
                for kind, value in (("name", username), ("address", address))
            )

    def failed(self, username: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 10_000:  # forget the oldest keys: memory stays bounded
                for key in list(self._failures)[:5_000]:
                    del self._failures[key]
            for key in (("name", username), ("address", address)):
                stamps = self._recent(key, now)
                stamps.append(now)
                self._failures[key] = stamps

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("name", username), None)


def login_required(view):
    @wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def role_required(*roles: str):
    def decorate(view):
        @wraps(view)
        def wrapped(**kwargs):
            if g.user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if g.user.role not in roles:
                abort(403)
            return view(**kwargs)

        return wrapped

    return decorate


def create_group(db: Database, name: str, trainer_ids: list[str], by: str | None) -> str:
    """A new group (a class) with the trainers who follow it; returns its id."""
    from .queries import group_by_name

    name = group_name(name)
    staff = {user.id for user in list_users(db) if user.is_staff and user.active}
    if any(trainer not in staff for trainer in trainer_ids):
        raise AccountError(_l("Only trainers and coordinators can follow a group."))
    group_id = str(uuid.uuid4())
    with immediate(db):
        if group_by_name(db, name) is not None:
            raise AccountError(_l("There is already a group called %(name)s.", name=name))
        events.set_fields(db, "group", group_id, {"name": name, "trainer_ids": trainer_ids},
                          by=by, locked=True)
    return group_id


def check_group(db: Database, group_id: str) -> None:
    from .queries import groups

    if group_id not in {group["id"] for group in groups(db)}:
        raise AccountError(_l("That group does not exist."))


def move_to_group(db: Database, user_id: str, group_id: str | None, by: str | None) -> None:
    """Put a learner in a group (None: in no group)."""
    if group_id is not None:
        check_group(db, group_id)
    if find_by_id(db, user_id) is None:
        raise AccountError(_l("That account does not exist."))
    events.set_fields(db, "user", user_id, {"group_id": group_id}, by=by)


def update_user(db: Database, user: User, changes: dict, by: User) -> None:
    """Change some of: username, display_name, role, active, group_id, password (hashed
    here). A new username must be free (renaming is how two accounts that two boxes made
    under one username come apart)."""
    values = {}
    if changes.get("username") and normalise_username(changes["username"]) != user.username:
        username = normalise_username(changes["username"])
        if not USERNAME.match(username):
            raise AccountError(_l("A username has 2 to 32 letters, digits, dots, dashes or "
                                  "underscores, and starts with a letter or digit."))
        if find_by_username(db, username) is not None:
            raise AccountError(_l("The username %(name)s is taken. Choose another.",
                                  name=username))
        values["username"] = username
    if "display_name" in changes:
        values["display_name"] = " ".join((changes["display_name"] or "").split())[:80]
    if "role" in changes:
        if changes["role"] not in ROLES:
            raise AccountError(_l("Unknown role: %(role)s.", role=changes["role"]))
        values["role"] = changes["role"]
    if "active" in changes:
        values["active"] = bool(changes["active"])
    if "group_id" in changes:
        if changes["group_id"] is not None:
            check_group(db, changes["group_id"])
        values["group_id"] = changes["group_id"]
    if user.id == by.id and (values.get("active") is False
                             or values.get("role", by.role) != by.role):
        raise AccountError(_l("You cannot deactivate your own account or change your own "
                              "role; ask another coordinator."))
    if changes.get("password"):
        if len(changes["password"]) < MIN_PASSWORD:
            raise AccountError(_l("The password or PIN needs at least %(n)d characters.",
                                  n=MIN_PASSWORD))
        values["password_hash"] = hash_password(changes["password"])
    if values:
        events.set_fields(db, "user", user.id, values, by=by.id)
    if "password_hash" in values:  # whoever knew the old password is signed out on this
        # node; not the session making the change (a coordinator changing their own)
        db.execute("DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?",
                   [user.id, session.get("sid") if has_request_context() else None])


def create_users(db: Database, people: list[dict], by: str | None) -> int:
    """Create many accounts at once, all or none: {username, password, role, name, group}.
    Groups named but missing are created. Passwords are hashed before the write lock."""
    prepared = []
    for person in people:
        username = normalise_username(person["username"])
        check_fields(username, person["password"], person["role"])
        prepared.append((username, person, hash_password(person["password"])))
    with immediate(db):
        for username, _, _ in prepared:
            if find_by_username(db, username) is not None:
                raise AccountError(_l("The username %(name)s is taken. Choose another.",
                                      name=username))
        for username, person, password_hash in prepared:
            group_id = group_named(db, person["group"], by) if person.get("group") else None
            events.set_fields(db, "user", str(uuid.uuid4()), new_account(
                username, password_hash, person["role"], person.get("name", ""), group_id),
                by=by, locked=True)
    return len(prepared)


def group_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 60:
        raise AccountError(_l("Give the group a name of 1 to 60 characters."))
    return name


def group_named(db: Database, name: str, by: str | None) -> str:
    """The id of the group with this name, made (with no trainer) if there is none; inside a
    write transaction the caller holds."""
    from .queries import group_by_name

    name = group_name(name)
    found = group_by_name(db, name)
    if found is not None:
        return found["id"]
    group_id = str(uuid.uuid4())
    events.set_fields(db, "group", group_id, {"name": name, "trainer_ids": []}, by, True)
    return group_id
