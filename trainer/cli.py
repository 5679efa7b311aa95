"""The `trainer` command: each command a few lines calling the modules that do the work."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path

import click

from . import __version__
from .i18n import lazy_text as _l
from .i18n import translate as _


class Failure(click.ClickException):
    """A failure explained for people; printed without a traceback."""


def make_app(**overrides):
    from . import create_app
    from .config import ConfigError

    try:
        return create_app({k: v for k, v in overrides.items() if v is not None})
    except ConfigError as error:
        raise Failure(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             help=_("trainer: offline-first courses on a small box."))
@click.version_option(__version__, prog_name="trainer")
def cli():
    pass


@cli.command(help=_("Create the instance (database in TRAINER_HOME) and the first coordinator."))
@click.option("--admin", help=_("Username of the first coordinator."))
@click.option("--password", help=_("Their password (at least 4 characters)."))
@click.option("--hub", is_flag=True, help=_("Make this instance a hub rather than a box."))
def init(admin, password, hub):
    from . import accounts
    from .db import get_db, immediate
    from .sync import keys

    if bool(admin) != bool(password):
        raise Failure(_("Give both --admin and --password, or neither."))
    app = make_app()
    with app.app_context():
        db = get_db()
        with immediate(db):
            keys.make_identity(db)  # the key pair this node signs its events with
        if hub:
            db.execute("UPDATE node SET role = 'hub' WHERE id = 1")
        if admin:
            _add_user(db, admin, password, "coordinator")
            click.echo(_("Coordinator %(name)s created.",
                         name=accounts.normalise_username(admin)))
        role = db.execute("SELECT role FROM node").fetchone()[0]
    click.echo(_("Instance ready in %(folder)s (a hub).", folder=app.instance_path) if role == "hub"
               else _("Instance ready in %(folder)s (a box).", folder=app.instance_path))


def ensure_coordinator(app) -> None:
    """A new instance without a coordinator gets a demo one, announced once."""
    from . import accounts
    from .db import get_db

    with app.app_context():
        db = get_db()
        if accounts.count_role(db, "coordinator"):
            return
        password = secrets.token_urlsafe(9)
        _add_user(db, "coordinator", password, "coordinator")
    click.echo(_("This box had no coordinator, so a demo one was created:"))
    click.echo("  " + _("username: %(name)s", name="coordinator"))
    click.echo("  " + _("password: %(password)s", password=password))


@cli.command(help=_("Serve the courses with the production server (waitress)."))
@click.option("--host", default="0.0.0.0", show_default=True, help=_("Address to listen on."))
@click.option("--port", default=8080, show_default=True, type=int, help=_("Port to listen on."))
@click.option("--threads", default=4, show_default=True, type=int, help=_("Worker threads."))
def serve(host, port, threads):
    from . import server

    server.return_large_blocks_to_the_system()
    app = make_app()
    ensure_coordinator(app)
    catalog = app.extensions["trainer"].library.catalog
    click.echo(_("%(courses)d courses loaded from %(folder)s.", courses=len(catalog.courses),
                 folder=app.config["COURSES_DIR"]))
    if catalog.problems:
        click.echo(_("%(problems)d problems: see Course problems, or run trainer check.",
                     problems=len(catalog.problems)))
    app.extensions["trainer"].search.start(in_child_process=True)  # indexes what changed
    app.extensions["trainer"].sync.start()  # syncs by itself when enrolled with a hub
    if app.config["LRS_URL"]:
        app.extensions["trainer"].xapi.start()  # on a hub, forwards to the LRS by itself
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    click.echo(_("Serving on %(url)s (Ctrl+C stops)", url=f"http://{shown}:{port}"))
    sys.stdout.flush()
    server.serve(app, host, port, threads)


@cli.command(help=_("Check courses (a folder of courses, or one course); one line per problem, "
                    "exit 1 on any error."))
@click.argument("courses_dir", required=False, type=click.Path(path_type=Path))
def check(courses_dir):
    from .courses.catalog import load_catalog, load_one_course

    folder = courses_dir or Path(os.environ.get("TRAINER_COURSES_DIR", "courses"))
    if not folder.is_dir():
        raise Failure(_("%(folder)s is not a folder of courses.", folder=folder))
    catalog = load_one_course(folder) if (folder / "course.md").is_file() else load_catalog(folder)
    catalog.problems.extend(_type_changes(catalog))
    for problem in sorted(catalog.problems, key=lambda p: (str(p.path), p.line, p.col)):
        click.echo(str(problem))
    errors = len(catalog.problems.errors)
    warnings = len(catalog.problems) - errors
    translated = sum(len(course.translations) for course in catalog.courses.values())
    click.echo(_("%(courses)d courses, %(translations)d translations, %(errors)d errors, "
                 "%(warnings)d warnings", courses=len(catalog.courses), translations=translated,
                 errors=errors, warnings=warnings), err=True)
    sys.exit(1 if errors else 0)


def _type_changes(catalog):
    """Type changes against the answers in this instance's database, when there is one."""
    from .config import resolve
    from .courses.catalog import type_changes
    from .db import DATABASE_FILE, open_database
    from .queries import answered_types

    database = Path(resolve()["TRAINER_HOME"]) / DATABASE_FILE
    if not database.exists():
        return []
    db = open_database(database)
    try:
        return type_changes(catalog, answered_types(db))
    finally:
        db.close()


@cli.command(help=_("Rebuild the search index of every course, showing progress."))
@click.option("--changed", is_flag=True,
              help=_("Index only the lessons that changed (what the server does by itself)."))
def reindex(changed):
    from .search import IndexBusy

    app = make_app()
    search_index = app.extensions["trainer"].search
    with app.app_context():
        total = search_index.lesson_count()
        with click.progressbar(length=total, label=_("Indexing lessons"), show_pos=True,
                               file=sys.stderr) as bar:
            try:
                count = (search_index.update if changed else search_index.rebuild)(
                    progress=bar.update)
            except IndexBusy:
                raise Failure(_("The search index is being written by the running server; "
                                "try again in a few minutes.")) from None
    click.echo(_("%(count)d lessons indexed in %(folder)s.", count=count,
                 folder=search_index.folder))


def _on_hub(action):
    """Run action(db) on this instance, which must be a hub; a refusal is told plainly."""
    from .db import get_db
    from .sync import enrolment, revocation

    app = make_app()
    with app.app_context():
        db = get_db()
        if db.execute("SELECT role FROM node WHERE id = 1").fetchone()[0] != "hub":
            raise Failure(_("This instance is a box, not a hub (see trainer init --hub)."))
        try:
            return action(db)
        except (enrolment.EnrolmentRefused, revocation.RevocationRefused) as error:
            raise Failure(str(error)) from None


@cli.group(help=_("Sites and enrolment tokens (on the hub)."))
def sites():
    pass


@sites.command("add", help=_("Create a site: a place with one or more boxes."))
@click.argument("name")
def sites_add(name):
    from .sync import enrolment

    _on_hub(lambda db: enrolment.create_site(db, name))
    click.echo(_("Site %(name)s created.", name=name))


@sites.command("token", help=_("Make a one-time enrolment token for a box or a relay of a "
                               "site."))
@click.argument("site")
@click.option("--role", type=click.Choice(["box", "relay"]), default="box", show_default=True)
def sites_token(site, role):
    from .sync import enrolment

    click.echo(_on_hub(lambda db: enrolment.create_token(db, enrolment.site_named(db, site),
                                                         role)))
    click.echo(_("Use it within %(days)d days, once.", days=enrolment.TOKEN_DAYS), err=True)


@sites.command("accept", help=_("Answer an enrolment request brought on a USB stick."))
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("answer_file", type=click.Path(dir_okay=False, path_type=Path))
def sites_accept(request_file, answer_file):
    from .sync import enrolment

    answer = _on_hub(lambda db: enrolment.accept(db, _read_json(request_file)))
    answer_file.write_text(json.dumps(answer), encoding="utf-8")
    click.echo(_("Answer written to %(file)s: take it back to the box.", file=answer_file))


@sites.command("list", help=_("List the sites with their boxes and relays: when each was last "
                              "seen and how many of its events the hub still lacks."))
def sites_list():
    for site, nodes in _on_hub(_nodes_by_site):
        click.echo(site)
        for node in nodes:
            click.echo(f"  {node.role:<6} {node.node_id}  {_node_state(node)}")
        if not nodes:
            click.echo("  " + _("(no box or relay yet)"))


def _nodes_by_site(db):
    from .sync import dashboard

    found = dashboard.nodes(db)
    return [(site, [node for node in found if node.site_key == key])
            for key, site in dashboard.site_names(db).items()]


def _node_state(node) -> str:
    """One line on a node: last seen, what is pending, whether to doubt its clock."""
    if node.revoked_at is not None:
        return _("revoked on %(when)s", when=_local_time(node.revoked_at))
    if node.last_seen is None:
        return _("never seen")
    parts = [_("last seen %(when)s (%(how)s)", when=_local_time(node.last_seen / 1000),
               how=_("by USB") if node.via == "usb" else _("online")),
             _("events pending: %(count)d", count=node.pending or 0)]
    if node.clock_suspect:
        parts.append(_("clock suspect"))
    return ", ".join(parts)


def _local_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


@sites.command("revoke", help=_("Revoke a lost or stolen box or relay: the hub refuses it from "
                                "now on (it cannot be undone)."))
@click.argument("node_id")
def sites_revoke(node_id):
    node_id = node_id.strip()
    _on_hub(lambda db: _revoke(db, node_id))
    click.echo(_("%(node)s is revoked: the hub refuses its requests from now on, and every "
                 "node sets aside the events it writes after now.", node=node_id))


def _revoke(db, node_id: str) -> None:
    from .sync import dashboard, revocation

    when = dashboard.revoked_at(db, node_id)
    if when is not None:
        raise Failure(_("%(node)s was revoked already, on %(when)s. Nothing changed.",
                        node=node_id, when=_local_time(when)))
    revocation.revoke(db, node_id)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # (RecursionError: nested thousands deep)
        raise Failure(_("%(file)s is not a file trainer wrote.", file=path)) from None


@cli.command(help=_("Join a hub with a token from it: online with --hub, or by files on a USB "
                    "stick with --write-request, then --read-answer."))
@click.option("--token", required=True, help=_("The enrolment token made on the hub."))
@click.option("--hub", "hub_url", help=_("The hub's address, like http://hub.example:8080"))
@click.option("--write-request", type=click.Path(dir_okay=False, path_type=Path),
              help=_("Write the request to this file, for the hub (by USB)."))
@click.option("--read-answer", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_("Read the hub's answer from this file (by USB)."))
def enrol(token, hub_url, write_request, read_answer):
    from .db import get_db
    from .sync import client, enrolment, service

    if [bool(hub_url), bool(write_request), bool(read_answer)].count(True) != 1:
        raise Failure(_("Give one of --hub, --write-request or --read-answer."))
    app = make_app()
    with app.app_context():
        db = get_db()
        try:
            if write_request:
                write_request.write_text(json.dumps(enrolment.request_for(db, token)),
                                         encoding="utf-8")
                click.echo(_("Request written to %(file)s: take it to the hub.",
                             file=write_request))
                return
            if hub_url:
                certificate = service.enrol_online(db, hub_url, token)
            else:
                certificate = enrolment.store_answer(db, token, _read_json(read_answer))
        except enrolment.EnrolmentRefused as error:
            raise Failure(str(error)) from None
        except client.HubUnreachable as error:
            raise Failure(_("The hub refused or did not answer: %(reason)s",
                            reason=error)) from None
    click.echo(_("Enrolled with the hub as a %(role)s (certificate %(serial)d).",
                 role=certificate["role"], serial=certificate["serial"]))


@cli.group("sync", invoke_without_command=True,
           help=_("Move results between this node and its hub: alone, over the network now; "
                  "with export or import, by USB stick."))
@click.option("--hub", "hub_url", help=_("The hub's address, if not the one enrolled with."))
@click.pass_context
def sync_group(context, hub_url):
    if context.invoked_subcommand is None:
        _sync_online(hub_url)


def _sync_online(hub_url: str | None) -> None:
    from .content import fetch
    from .db import get_db
    from .sync import client, service

    app = make_app()
    with app.app_context():
        try:
            url, sent = service.sync_now(get_db(), hub_url, courses=fetch.of_app(app))
        except service.NotEnrolled:
            raise Failure(_("This box is not enrolled with a hub yet (see trainer enrol), or "
                            "give the hub's address with --hub.")) from None
        except service.Busy:
            raise Failure(_BUSY) from None
        except client.HubUnreachable as error:
            raise Failure(_("The hub refused or did not answer: %(reason)s",
                            reason=error)) from None
    click.echo(_("Synced with %(hub)s: %(new)d events sent, %(known)d the hub had already.",
                 hub=url, new=sent["inserted"], known=sent["duplicates"]))
    click.echo(_("Events received from the hub: %(count)d.", count=sent["pulled"]))
    for installed in sent["installed"]:
        click.echo(_("Course updated: %(course)s.", course=installed))


_BUSY = _l("Another sync of this node is running; try again when it has finished.")


@sync_group.command("export", help=_("Write a bundle of results to a folder (a USB stick): "
                                     "what the hub lacks, as far as its receipts there say."))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def sync_export(folder):
    from .content import fetch
    from .db import get_db
    from .sync import bundle, service

    app = make_app()
    with app.app_context():
        try:
            made = service.export_for_hub(get_db(), folder, fetch.of_app(app))
        except service.Busy:
            raise Failure(_BUSY) from None
        except OSError as error:
            raise Failure(_("Cannot write to %(folder)s: %(reason)s", folder=folder,
                            reason=error.strerror or error)) from None
    count = sum(1 for _ in (made / bundle.CHUNKS).iterdir())
    click.echo(_("Bundle written to %(folder)s (%(count)d chunks).", folder=made, count=count))


@sync_group.command("import", help=_("Import the bundles found in a folder (a USB stick), "
                                     "and leave a receipt there for the way back."))
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def sync_import(path):
    from .db import get_db
    from .sync import service

    app = make_app()
    with app.app_context():
        try:
            reports = service.import_from(get_db(), path)
        except service.Busy:
            raise Failure(_BUSY) from None
    if not reports:
        raise Failure(_("No trainer bundle in %(folder)s.", folder=path))
    refused = 0
    for report in reports:
        if report.refused:
            click.echo(f"{report.bundle}: {report.refused}", err=True)
            refused += 1
            continue
        done = report.imported
        click.echo(_("%(bundle)s: %(new)d new events, %(known)d already here, "
                     "%(aside)d set aside.", bundle=report.bundle, new=done.inserted,
                     known=done.duplicates, aside=done.quarantined))
        for reason in done.refused_chunks:
            click.echo(f"{report.bundle}/{reason}", err=True)
        refused += bool(done.refused_chunks)
    sys.exit(1 if refused else 0)


@cli.group("content", help=_("Course packages: publish a course on the hub, carry it on a "
                               "USB stick, install it on a box."))
def content():
    pass


@content.command("publish", help=_("On the hub: publish a course folder as a new version, "
                                   "signed, for every box. It is checked first."))
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def content_publish(folder):
    from .content import packages
    from .db import get_db
    from .sync.http import is_hub

    app = make_app()
    with app.app_context():
        db = get_db()
        if not is_hub(db):
            raise Failure(_("Only the hub publishes courses (see trainer init --hub)."))
        try:
            signed, new = packages.publish(db, Path(app.instance_path), folder)
        except packages.PublishRefused as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise Failure(_("Not published: %(reason)s", reason=error)) from None
    click.echo(_("Published %(course)s %(version)s (%(count)d files).", course=signed.course_id,
                 version=signed.version, count=len(signed.body["files"])) if new else
               _("%(course)s %(version)s was published already, with the same files.",
                 course=signed.course_id, version=signed.version))


@content.command("list", help=_("List the course packages this node holds, and the version "
                                "of each course it runs."))
def content_list():
    from .content import fetch, packages
    from .db import get_db

    app = make_app()
    with app.app_context():
        held = packages.held(get_db())
        running = fetch.of_app(app).running()
    for course_id, version in sorted(running.items()):
        click.echo(_("%(course)s runs %(version)s", course=course_id, version=version))
    for signed in held:
        click.echo(_("package %(course)s %(version)s (%(count)d files)", course=signed.course_id,
                     version=signed.version, count=len(signed.body["files"])))


@content.command("export", help=_("Write course packages to a folder (a USB stick): the "
                                  "newest of each course, or of the courses named."))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--course", "course_ids", multiple=True, help=_("Only this course (repeatable)."))
def content_export(folder, course_ids):
    from .content import pack, packages
    from .db import get_db

    app = make_app()
    with app.app_context():
        newest = packages.newest(get_db())
        unknown = sorted(set(course_ids) - set(newest))
        if unknown:
            raise Failure(_("No package of %(courses)s is held here.",
                            courses=", ".join(unknown)))
        chosen = [p for course_id, p in sorted(newest.items())
                  if not course_ids or course_id in course_ids]
        if not chosen:
            raise Failure(_("This node holds no course package to export."))
        try:
            made = pack.write(Path(app.instance_path), folder, chosen)
        except OSError as error:
            raise Failure(_("Cannot write to %(folder)s: %(reason)s", folder=folder,
                            reason=error.strerror or error)) from None
    for signed in chosen:
        click.echo(_("Wrote %(course)s %(version)s to %(folder)s.", course=signed.course_id,
                     version=signed.version, folder=made))


@content.command("import", help=_("Install the newer course packages found at PATH (a USB "
                                  "stick, a trainer-content folder or one package file)."))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def content_import(path):
    from .content import fetch, pack
    from .db import get_db
    from .sync.service import Busy

    app = make_app()
    with app.app_context():
        courses = fetch.of_app(app)
        try:
            done = pack.import_packs(get_db(), courses.home, path, courses.running)
        except Busy:
            raise Failure(_BUSY) from None
    if not done.reports:
        raise Failure(_("No course package was found at %(path)s.", path=path))
    for report in done.reports:
        if report.installed:
            click.echo(_("Installed %(package)s.", package=report.name))
        else:
            click.echo(_("%(package)s not installed: %(reason)s", package=report.name,
                         reason=report.message), err=True)
    if any(report.refused for report in done.reports):
        sys.exit(1)


@cli.command("import-gift", help=_("Turn a Moodle GIFT or Aiken file into native ```quiz "
                                   "blocks to edit."))
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help=_("Write the quiz blocks here (default: print them)."))
def import_gift(source, out):
    from .courses.banks import is_aiken, native_markdown
    from .courses.problems import display_path

    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise Failure(_("%(file)s is not UTF-8 text; save it as UTF-8 and try again.",
                        file=source)) from None
    markdown, issues = native_markdown(text, aiken=is_aiken(source, text))
    for issue in issues:
        click.echo(f"{display_path(source)}:{issue.line}:1: {issue.severity}[{issue.code}]: "
                   f"{issue.message}", err=True)
    questions = markdown.count("quiz\n")
    if out:
        out.write_text(markdown, encoding="utf-8")
        click.echo(_("%(count)d questions written to %(file)s.", count=questions, file=out),
                   err=True)
    else:
        click.echo(markdown, nl=False)
    sys.exit(1 if any(issue.severity == "error" for issue in issues) else 0)


@cli.command(help=_("Write a consistent copy of the database, also while the box is serving."))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help=_("Replace the file if it exists."))
def backup(target, force):
    from .backup import BackupError, copy_database
    from .db import get_db

    app = make_app()
    with app.app_context():
        try:
            made = copy_database(get_db(), target, overwrite=force)
        except BackupError as error:
            raise Failure(str(error)) from None
    click.echo(_("Backed up %(size)s MB to %(file)s (integrity ok).",
                 size=f"{made.size / 1_000_000:.1f}", file=made.path))


@cli.group(help=_("Add and list accounts."))
def users():
    pass


@cli.group(help=_("Add and list groups (a trainer's classes)."))
def groups():
    pass


@groups.command("add", help=_("Create a group."))
@click.argument("name")
@click.option("--trainer", "trainers", multiple=True, help=_("Username of a trainer who follows "
              "the group (repeat for more)."))
def groups_add(name, trainers):
    from . import accounts
    from .db import get_db

    app = make_app()
    with app.app_context():
        db = get_db()
        ids = []
        for username in trainers:
            user = accounts.find_by_username(db, username)
            if user is None:
                raise Failure(_("There is no account %(name)s.", name=username))
            ids.append(user.id)
        try:
            accounts.create_group(db, name, ids, None)
        except accounts.AccountError as error:
            raise Failure(str(error)) from None
    click.echo(_("Group %(name)s created.", name=name))


@groups.command("list", help=_("List the groups with their trainers."))
def groups_list():
    from . import accounts, queries
    from .db import get_db

    app = make_app()
    with app.app_context():
        db = get_db()
        names = {user.id: user.username for user in accounts.list_users(db)}
        for group in queries.groups(db):
            trainers = ", ".join(names.get(t, "?") for t in group["trainer_ids"])
            click.echo(f"{group['name']:<30} {trainers}")


def _add_user(db, username, password, role, display_name=""):
    from .accounts import AccountError, create_user

    try:
        return create_user(db, username, password, role, display_name)
    except AccountError as error:
        raise Failure(str(error)) from None


@users.command("add", help=_("Create an account."))
@click.option("--username", required=True)
@click.option("--password", required=True, help=_("Password or PIN (at least 4 characters)."))
@click.option("--role", type=click.Choice(["learner", "trainer", "coordinator"]),
              default="learner", show_default=True)
@click.option("--name", "display_name", default="", help=_("The name shown to trainers."))
@click.option("--group", default="", help=_("Put the learner in this group (made if new)."))
def users_add(username, password, role, display_name, group):
    from . import accounts
    from .db import get_db, immediate

    app = make_app()
    with app.app_context():
        db = get_db()
        user_id = _add_user(db, username, password, role, display_name)
        if group:
            try:
                with immediate(db):
                    group_id = accounts.group_named(db, group, None)
            except accounts.AccountError as error:
                raise Failure(_("%(name)s was created, but not put in a group: %(error)s",
                                name=username, error=error)) from None
            accounts.move_to_group(db, user_id, group_id, None)
    name = username.strip().lower()
    click.echo(_("Account %(name)s (%(role)s) created in group %(group)s.", name=name, role=role,
                 group=group) if group else
               _("Account %(name)s (%(role)s) created.", name=name, role=role))


@users.command("import", help=_("Create learners from a CSV file (username, name, password, "
                                "group): all, or none."))
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def users_import(source):
    from . import accounts, roster
    from .courses.problems import display_path
    from .db import get_db

    app = make_app()
    with app.app_context():
        db = get_db()
        preview = roster.read_roster(source.read_bytes(),
                                     {user.username for user in accounts.list_users(db)})
        for problem in preview.problems:
            click.echo(f"{display_path(source)}: {problem}", err=True)
        for row in preview.rows:
            for error in row.errors:
                click.echo(f"{display_path(source)}:{row.line}: {error}", err=True)
        if not preview.ok:
            raise Failure(_("Nothing was imported. Correct the file and run the command again."))
        people = [{"username": r.username, "password": r.password, "role": r.role,
                   "name": r.name, "group": r.group} for r in preview.rows]
        try:
            count = accounts.create_users(db, people, None)
        except accounts.AccountError as error:
            raise Failure(_("Nothing was imported: %(error)s", error=error)) from None
    click.echo(_("%(count)d learners created.", count=count))


@users.command("list", help=_("List the accounts."))
@click.option("--json", "as_json", is_flag=True, help=_("One JSON list, for scripts."))
def users_list(as_json):
    from .accounts import list_users
    from .db import get_db

    app = make_app()
    with app.app_context():
        people = list_users(get_db())
    if as_json:
        click.echo(json.dumps([{"id": u.id, "username": u.username, "name": u.display_name,
                                "role": u.role, "active": u.active} for u in people]))
        return
    for user in people:
        status = "" if user.active else "  " + _("(deactivated)")
        click.echo(f"{user.role:<12} {user.username:<24} {user.display_name}{status}")


from .xapi.commands import export_xapi, xapi  # noqa: E402 - commands kept in their package

cli.add_command(export_xapi)
cli.add_command(xapi)


def main() -> None:
    try:
        cli(prog_name="trainer")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # a person reads this; TRAINER_DEBUG=1 shows the traceback
        if os.environ.get("TRAINER_DEBUG"):
            raise
        click.echo(_("error: %(error)s", error=error), err=True)
        sys.exit(1)
