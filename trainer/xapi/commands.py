"""The xAPI commands: `trainer export-xapi`, `trainer xapi forward` and `trainer xapi status`."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click

from ..i18n import translate as _


class Moment(click.ParamType):
    """An ISO 8601 date or date and time (UTC unless it says otherwise), as milliseconds
    since 1970."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(_("%(value)s is not a date or time; write it like 2024-03-01 or "
                        "2024-03-01T08:30:00+03:00.", value=value), param, ctx)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)


@click.command("export-xapi", help=_("Write the learners' results as xAPI 1.0.3 statements, "
                                     "one JSON line each."))
@click.option("--since", type=Moment(), help=_("Only what happened from this date or time on "
                                               "(ISO 8601; UTC unless it carries an offset)."))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help=_("Write the statements to this file (default: print them)."))
def export_xapi(since, out):
    from ..cli import make_app
    from ..db import get_db
    from . import export

    app = make_app()
    left_out: Counter = Counter()
    with app.app_context():
        db = get_db()
        lines = export.ndjson_lines(db, export.naming(app, db), since, left_out)
        count = _write(lines, out)
    if out:
        click.echo(_("%(count)d statements written to %(file)s.", count=count, file=out),
                   err=True)
    if left_out["account"]:
        click.echo(_("%(count)d events left out: their learner's account is not on this node "
                     "yet.", count=left_out["account"]), err=True)
    if left_out["malformed"]:
        click.echo(_("%(count)d events left out: they are not as their type says.",
                     count=left_out["malformed"]), err=True)


def _write(lines, out: Path | None) -> int:
    """Print the lines, or write them to `out` whole (a file half written never stays)."""
    if out is None:
        count = 0
        for line in lines:
            sys.stdout.write(line)
            count += 1
        return count
    from ..cli import Failure

    partial = out.with_name(out.name + ".part")
    count = 0
    try:
        with partial.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line)
                count += 1
        os.replace(partial, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise Failure(_("Cannot write to %(file)s: %(reason)s", file=out,
                        reason=error.strerror or error)) from None
    return count


@click.group(help=_("Forward statements to a Learning Record Store (on the hub)."))
def xapi():
    pass


def _hub_app():
    from ..cli import Failure, make_app
    from ..db import get_db
    from ..sync.http import is_hub

    app = make_app()
    with app.app_context():
        if not is_hub(get_db()):
            raise Failure(_("This instance is a box, not a hub (see trainer init --hub)."))
    return app


@xapi.command("forward", help=_("Forward what the LRS lacks, once, and print the counts."))
@click.option("--retry", is_flag=True, help=_("First put the statements set aside back in "
                                              "line."))
def xapi_forward(retry):
    from ..cli import Failure
    from ..db import get_db
    from . import forward, service

    app = _hub_app()
    with app.app_context():
        db = get_db()
        if retry:
            click.echo(_("%(count)d statements set aside are tried again.",
                         count=forward.retry_held(db)))
        try:
            done = service.forward_now(app, db)
        except service.NotConfigured:
            raise Failure(_("No LRS is set: set LRS_URL (and LRS_USERNAME, LRS_PASSWORD) "
                            "first.")) from None
        except forward.Busy:
            raise Failure(_("A forwarding pass is running; try again when it has finished."
                            )) from None
        except forward.LrsUnreachable as error:
            raise Failure(_("The LRS refused or did not answer: %(reason)s. Nothing is lost: "
                            "the next pass goes on from here.", reason=error)) from None
        view = service.overview(db, app.config)
    click.echo(_("%(sent)d statements sent, %(held)d set aside; %(pending)d waiting.",
                 sent=done.sent, held=done.held, pending=view.pending))


@xapi.command("status", help=_("Show the LRS, the counts, the last attempt and the last "
                               "errors."))
def xapi_status():
    from ..db import get_db
    from . import service

    app = _hub_app()
    with app.app_context():
        view = service.overview(get_db(), app.config)
    if not view.endpoint:
        click.echo(_("No LRS is set (LRS_URL)."))
        return
    click.echo(_("LRS: %(url)s", url=view.endpoint))
    click.echo(_("Sent: %(sent)d. Waiting to be sent: %(pending)d. Set aside: %(held)d.",
                 sent=view.sent, pending=view.pending, held=view.quarantined + view.conflicts))
    if view.last_pass:
        click.echo(_("Last attempt: %(when)s, %(result)s.", when=_local(view.last_pass["at"]),
                     result=_("done") if view.last_pass["ok"] else _("failed")))
    for item in view.errors:
        click.echo(f"  {_local(item['at'])}  {item['message']}")
    for item in view.held:
        click.echo(f"  {item['statement_id']}  {item['error']}")


def _local(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
