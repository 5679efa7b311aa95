"""Events as xAPI 1.0.3 statements: pure functions, an event in, a statement out.

Which events map, and how (one statement per event):

- `answer_submitted` → *answered*: the question (a `cmi.interaction`), with the score (scaled,
  and raw between min 0 and max 1), success (none for a practical task: a trainer decides it
  later), the response and the time the form was open as duration.
- `lesson_viewed` → *experienced*: the lesson.
- `lesson_completed` → *completed*: the lesson, with completion.
- `course_completed` → *completed*: the course, with completion. Not *passed*: a course's
  rule may ask for lessons completed rather than passed, and the event does not say which.
- `task_signed_off` → *passed* (verdict "passed") or *failed* ("redo"): the task, with the
  trainer as instructor, their comment as an extension and a reference to the answer's
  statement.
- Everything else is skipped, having no learner meaning: `signed_in`, `lww_set` (names,
  roles, groups, passwords), course packages, and types this version does not know.

Identifiers: a statement's id is the event's id when that is a UUID (every event trainer
writes), else a UUID5 of it, so a statement sent twice is the same statement. Accounts are
`{"homePage": <base>/nodes/<node id>, "name": <user id>}`, where the node is the box or hub
whose event made the account; activities are `<base>/courses/<course>`, `…/lessons/<lesson>`
and `…/questions/<question>` (each part percent-encoded). The registration is a UUID5 of the
learner and the course: a learner's one attempt at a course (trainer records a course's
completion once). Only activity definitions (names, descriptions) come from the catalog:
the spec leaves them out when statements are compared, so a renamed lesson changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://trainer.invalid/xapi")  # never changes
DEFAULT_BASE = "https://trainer.invalid"
RFC_4122_VERSIONS = (1, 2, 3, 4, 5)
PLATFORM = "trainer"
VERBS = {name: f"http://adlnet.gov/expapi/verbs/{name}"
         for name in ("answered", "completed", "experienced", "passed", "failed")}
ACTIVITY_TYPES = {kind: f"http://adlnet.gov/expapi/activities/{kind}"
                  for kind in ("course", "lesson", "cmi.interaction")}
# A question's type as an xAPI interaction type.
INTERACTIONS = {"single": "choice", "multiple": "choice", "truefalse": "true-false",
                "text": "fill-in", "numeric": "numeric", "order": "sequencing",
                "match": "matching", "task": "performance"}
LONGEST_DESCRIPTION = 250


# What a payload that is not as its type promises (a field missing, a list for a text)
# raises while it is mapped: such an event is set aside rather than stop the others.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


class UnknownAccount(Exception):
    """The account an event is about is not known here yet (its node's events have not
    arrived): its statement waits, or its actor would change later."""


@dataclass(frozen=True)
class CourseNames:
    """What the catalog says of a course, for activity definitions."""

    language: str
    title: str
    lessons: Mapping[str, str] = field(default_factory=dict)  # lesson id: title
    questions: Mapping[str, str] = field(default_factory=dict)  # question id: text


@dataclass(frozen=True)
class Naming:
    """What a statement needs beyond its event: the IRI base, the node that made each
    account ({user id: node id}), and the catalog's names."""

    base: str = DEFAULT_BASE
    homes: Mapping[str, str] = field(default_factory=dict)
    courses: Mapping[str, CourseNames] = field(default_factory=dict)


def statement(event, naming: Naming) -> dict | None:
    """The statement for one event, or None for an event with no learner meaning. Raises
    UnknownAccount when the learner's (or the trainer's) account is not known."""
    make = MAPPERS.get(event.type)
    return None if make is None else make(event, naming)


def statement_id(event_id: str) -> str:
    """The event's id when it is an RFC 4122 UUID (what LRSs check for), else a UUID5 of
    it."""
    try:
        found = uuid.UUID(event_id)
    except (ValueError, TypeError, AttributeError):
        found = None
    if found is None or found.version not in RFC_4122_VERSIONS or \
            str(found) != event_id.lower():
        found = uuid.uuid5(NAMESPACE, f"event\n{event_id}")
    return str(found)


def registration(user_id: str, course_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"registration\n{user_id}\n{course_id}"))


def agent(user_id: str, naming: Naming) -> dict:
    if not isinstance(user_id, str):
        raise TypeError(f"a user id that is not text: {user_id!r}")
    try:
        node = naming.homes[user_id]
    except KeyError:
        raise UnknownAccount(user_id) from None
    return {"objectType": "Agent",
            "account": {"homePage": f"{naming.base}/nodes/{_part(node)}", "name": user_id}}


def _part(text) -> str:
    return quote(str(text), safe="")


def course_iri(base: str, course_id) -> str:
    return f"{base}/courses/{_part(course_id)}"


def lesson_iri(base: str, course_id, lesson_id) -> str:
    return f"{course_iri(base, course_id)}/lessons/{_part(lesson_id)}"


def question_iri(base: str, course_id, lesson_id, question_id) -> str:
    return f"{lesson_iri(base, course_id, lesson_id)}/questions/{_part(question_id)}"


def _names(naming: Naming, course_id) -> CourseNames | None:
    return naming.courses.get(course_id) if isinstance(course_id, str) else None


def _name(text: str, names: CourseNames | None) -> dict:
    return {names.language if names and names.language else "und": text}


def course_activity(naming: Naming, p: dict) -> dict:
    names = _names(naming, p["course_id"])
    title = names.title if names and names.title else str(p["course_id"])
    return _activity(course_iri(naming.base, p["course_id"]), "course", _name(title, names))


def lesson_activity(naming: Naming, p: dict) -> dict:
    names = _names(naming, p["course_id"])
    title = (names.lessons.get(p["lesson_id"]) if names else None) or str(p["lesson_id"])
    return _activity(lesson_iri(naming.base, p["course_id"], p["lesson_id"]), "lesson",
                     _name(title, names))


def question_activity(naming: Naming, p: dict, question_type) -> dict:
    names = _names(naming, p["course_id"])
    made = _activity(question_iri(naming.base, p["course_id"], p["lesson_id"],
                                  p["question_id"]), "cmi.interaction",
                     _name(str(p["question_id"]), names))
    made["definition"]["interactionType"] = INTERACTIONS.get(question_type, "other")
    text = names.questions.get(p["question_id"]) if names else None
    if text:
        made["definition"]["description"] = _name(text[:LONGEST_DESCRIPTION], names)
    return made


def _activity(iri: str, kind: str, name: dict) -> dict:
    return {"objectType": "Activity", "id": iri,
            "definition": {"type": ACTIVITY_TYPES[kind], "name": name}}


def verb(name: str) -> dict:
    return {"id": VERBS[name], "display": {"en-US": name}}


def timestamp(wall_ms) -> str | None:
    """RFC 3339 in UTC with milliseconds; None when the time cannot be written (the LRS then
    stamps it)."""
    try:
        moment = datetime.fromtimestamp(int(wall_ms) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(ms) -> str | None:
    """An ISO 8601 duration to the hundredth of a second (what an LRS keeps), like
    PT1H2M3.45S; None for a value that is not a count of milliseconds."""
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        return None
    hundredths = ms // 10
    hours, rest = divmod(hundredths, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, fraction = divmod(rest, 100)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or fraction or not (hours or minutes):
        text += f"{seconds}.{fraction:02d}".rstrip("0").rstrip(".") + "S"
    return text


def score(value) -> dict | None:
    """A question's score (a decimal text from 0 to 1) as an xAPI score; None when absent or
    not such a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not 0 <= number <= 1:
        return None
    return {"scaled": float(number), "raw": float(number), "min": 0, "max": 1}


def response(question_type, given, normalised) -> str:
    """What the learner gave, written the way xAPI writes its interaction type's response
    ([,] between items, [.] inside a pair); plain JSON for anything unexpected."""
    if question_type in ("single", "truefalse", "text") and isinstance(given, str):
        return given
    if question_type in ("multiple", "order") and _strings(given):
        return "[,]".join(given)
    if question_type == "numeric" and isinstance(normalised, str):
        number = normalised.split(" ")[0]
        if _is_number(number):
            return number
    if question_type == "match" and isinstance(given, dict) and _strings(list(given.values())):
        return "[,]".join(f"{left}[.]{right}" for left, right in sorted(given.items()))
    if question_type == "task" and _strings(given):
        return "[,]".join(f"{step}[.]done" for step in given)
    return given if isinstance(given, str) else json.dumps(given, sort_keys=True,
                                                           ensure_ascii=False)


def _strings(values) -> bool:
    return isinstance(values, list) and all(isinstance(value, str) for value in values)


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except (InvalidOperation, ValueError):
        return False


def _context(naming: Naming, p: dict, user_id: str, parents: list[dict],
             grouping: list[dict]) -> dict:
    context = {"registration": registration(user_id, str(p["course_id"])),
               "revision": str(p["course_version"]), "platform": PLATFORM}
    activities = {key: value for key, value in (("parent", parents), ("grouping", grouping))
                  if value}
    if activities:
        context["contextActivities"] = activities
    return context


def _statement(event, actor: dict, verb_name: str, activity: dict, context: dict,
               result: dict | None = None) -> dict:
    made = {"id": statement_id(event.event_id), "actor": actor, "verb": verb(verb_name),
            "object": activity}
    if result:
        made["result"] = result
    made["context"] = context
    stamp = timestamp(event.wall_time)
    if stamp:
        made["timestamp"] = stamp
    return made


def extension(naming: Naming, name: str) -> str:
    return f"{naming.base}/extensions/{name}"


def answered(event, naming: Naming) -> dict:
    p = event.payload
    result = {"response": response(p.get("question_type"), p.get("response"),
                                   p.get("normalised"))}
    marked = score(p.get("score"))
    if marked:
        result["score"] = marked
    if isinstance(p.get("success"), bool):
        result["success"] = p["success"]
    spent = duration(p.get("duration_ms"))
    if spent:
        result["duration"] = spent
    context = _context(naming, p, p["user_id"], [lesson_activity(naming, p)],
                       [course_activity(naming, p)])
    attempt = p.get("attempt")
    if isinstance(attempt, int) and not isinstance(attempt, bool):
        context["extensions"] = {extension(naming, "attempt"): attempt}
    return _statement(event, agent(p["user_id"], naming), "answered",
                      question_activity(naming, p, p.get("question_type")), context, result)


def lesson_viewed(event, naming: Naming) -> dict:
    p = event.payload
    return _statement(event, agent(p["user_id"], naming), "experienced",
                      lesson_activity(naming, p),
                      _context(naming, p, p["user_id"], [course_activity(naming, p)], []))


def lesson_completed(event, naming: Naming) -> dict:
    p = event.payload
    return _statement(event, agent(p["user_id"], naming), "completed",
                      lesson_activity(naming, p),
                      _context(naming, p, p["user_id"], [course_activity(naming, p)], []),
                      {"completion": True})


def course_completed(event, naming: Naming) -> dict:
    p = event.payload
    return _statement(event, agent(p["user_id"], naming), "completed",
                      course_activity(naming, p), _context(naming, p, p["user_id"], [], []),
                      {"completion": True})


def task_signed_off(event, naming: Naming) -> dict:
    p = event.payload
    passed = p.get("verdict") == "passed"
    result = {"success": passed, "completion": passed}
    if isinstance(p.get("comment"), str) and p["comment"]:
        result["extensions"] = {extension(naming, "comment"): p["comment"]}
    context = _context(naming, p, p["learner_id"], [lesson_activity(naming, p)],
                       [course_activity(naming, p)])
    context["instructor"] = agent(p["by"], naming)
    context["statement"] = {"objectType": "StatementRef",
                            "id": statement_id(str(p["answer_event_id"]))}
    return _statement(event, agent(p["learner_id"], naming), "passed" if passed else "failed",
                      question_activity(naming, p, "task"), context, result)


MAPPERS = {"answer_submitted": answered, "lesson_viewed": lesson_viewed,
           "lesson_completed": lesson_completed, "course_completed": course_completed,
           "task_signed_off": task_signed_off}
MAPPED = tuple(MAPPERS)  # the event types that have a statement


def names_from_catalog(catalog) -> dict[str, CourseNames]:
    """{course id: CourseNames} of a loaded catalog (its courses in their own language)."""
    return {course.id: CourseNames(
        language=course.language, title=course.title,
        lessons={lesson.id: lesson.title for lesson in course.lessons},
        questions={question.id: " ".join(question.stem.split())
                   for lesson in course.lessons for question in lesson.questions})
        for course in catalog.courses.values()}


# Statement comparison (xAPI 1.0.3, part 2, 2.3.1): what an LRS may change or add is left
# out, so a statement it returns matches the one sent.
LRS_SET = ("authority", "stored", "version", "attachments")


def comparable(made: dict) -> dict:
    """A statement as the spec compares it: without what the LRS sets, activity definitions
    and verb displays, with the UUIDs in lower case and the timestamp as a point in time."""
    kept = {key: value for key, value in made.items() if key not in LRS_SET}
    if "id" in kept:
        kept["id"] = str(kept["id"]).lower()
    if isinstance(kept.get("verb"), dict):
        kept["verb"] = {"id": kept["verb"].get("id")}
    kept["object"] = _without_definition(kept.get("object"))
    if "timestamp" in kept:
        kept["timestamp"] = _instant(kept["timestamp"])
    context = kept.get("context")
    if isinstance(context, dict):
        context = dict(context)
        if "registration" in context:
            context["registration"] = str(context["registration"]).lower()
        if isinstance(context.get("contextActivities"), dict):
            context["contextActivities"] = {
                key: [_without_definition(a) for a in (value if isinstance(value, list)
                                                       else [value])]
                for key, value in context["contextActivities"].items()}
        kept["context"] = context
    return kept


def _without_definition(thing):
    if isinstance(thing, dict) and thing.get("objectType", "Activity") == "Activity":
        return {"objectType": "Activity", "id": thing.get("id")}
    return thing


def _instant(stamp):
    try:
        return datetime.fromisoformat(str(stamp)).astimezone(UTC)
    except ValueError:
        return stamp


def same(ours: dict, theirs: dict) -> bool:
    return comparable(ours) == comparable(theirs)
