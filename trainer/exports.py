"""CSV files for spreadsheets: UTF-8 with a byte-order mark, safe from formula injection."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from urllib.parse import quote

from . import clock

BOM = "\ufeff"  # without it, spreadsheets read UTF-8 as Latin-1 and break accents
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One cell as text; text that a spreadsheet would run as a formula gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    text = str(value)
    if text.startswith(FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return "'" + text
    return text


def to_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return (BOM + out.getvalue()).encode("utf-8")


def attachment(name: str) -> str:
    """A Content-Disposition header value that keeps a non-ASCII file name."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "export.csv"
    return f"attachment; filename={plain}; filename*=UTF-8''{quote(name)}"


def percent(score: Decimal | None) -> str:
    return "" if score is None else f"{round(score * 100)}"


def progress_rows(course, learners: list, matrix: dict):
    """One row per learner: status and score of every lesson of the course."""
    header = ["username", "name"]
    for lesson in course.lessons:
        header += [f"{lesson.id} status", f"{lesson.id} score %"]
    yield header
    for learner in learners:
        row = [learner.username, learner.display_name]
        for lesson in course.lessons:
            result = matrix[learner.id][lesson.id]
            row += [result.status, percent(result.score)]
        yield row


def answer_rows(records: list[dict], learners: list):
    """One row per answer given, with the course version it was given on."""
    names = {learner.id: learner for learner in learners}
    yield ["username", "name", "course version", "lesson", "question", "type", "attempt",
           "answer", "score %", "right", "seconds", "when (UTC)"]
    for record in records:
        learner = names[record["user_id"]]
        yield [learner.username, learner.display_name, record["course_version"],
               record["lesson_id"], record["question_id"], record["question_type"],
               record["attempt"], record["normalised"],
               percent(None if record["score"] is None else Decimal(record["score"])),
               {1: "yes", 0: "no"}.get(record["success"], ""),
               round(record["duration_ms"] / 1000), iso_time(record["hlc"])]


def iso_time(hlc: int) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(clock.to_ms(hlc) / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M")
