"""The rules of xAPI 1.0.3 statements (part 2 of the spec), as a pure check written for the
tests: a statement in, the list of the rules it breaks out (empty when it is valid). The LRS
in the tests refuses what this refuses, so it is written apart from trainer's own code."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

STATEMENT = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
             "authority", "version", "attachments"}
AGENT = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
ACCOUNT = {"homePage", "name"}
VERB = {"id", "display"}
ACTIVITY = {"objectType", "id", "definition"}
DEFINITION = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
              "correctResponsesPattern", "choices", "scale", "source", "target", "steps"}
INTERACTION_TYPES = {"true-false", "choice", "fill-in", "long-fill-in", "matching",
                     "performance", "sequencing", "likert", "numeric", "other"}
RESULT = {"score", "success", "completion", "response", "duration", "extensions"}
SCORE = {"scaled", "raw", "min", "max"}
CONTEXT = {"registration", "instructor", "team", "contextActivities", "revision", "platform",
           "language", "statement", "extensions"}
CONTEXT_ACTIVITIES = {"parent", "grouping", "category", "other"}
STATEMENT_REF = {"objectType", "id"}

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                  re.I)
# ISO 8601 date and time, with seconds or not, a fraction or not, and always an offset.
TIMESTAMP = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d"
                       r"(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$")
_N = r"\d+(\.\d+)?"
DURATION = re.compile(rf"^P(?=\d|T\d)({_N}Y)?({_N}M)?({_N}W)?({_N}D)?"
                      rf"(T(?=\d)({_N}H)?({_N}M)?({_N}S)?)?$")
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|\d{3}))?(-[a-z\d]{5,8})*$"
                          r"|^[a-z]{4,8}$", re.I)
SCHEME = re.compile(r"^[a-z][a-z\d+.-]*:", re.I)


def validate(statement) -> list[str]:
    """Every rule the statement breaks, as readable lines."""
    problems: list[str] = []
    if not isinstance(statement, dict):
        return ["a statement is a JSON object"]
    _no_empties(statement, "statement", problems)
    _known(statement, STATEMENT, "statement", problems)
    for required in ("actor", "verb", "object"):
        if required not in statement:
            problems.append(f"statement: {required} is required")
    if "id" in statement:
        _uuid(statement["id"], "id", problems)
    if "actor" in statement:
        _agent_or_group(statement["actor"], "actor", problems)
    if "verb" in statement:
        _verb(statement["verb"], problems)
    if "object" in statement:
        _object(statement["object"], problems)
    if "result" in statement:
        _result(statement["result"], problems)
    if "context" in statement:
        _context(statement["context"], statement.get("object"), problems)
    for key in ("timestamp", "stored"):
        if key in statement and not (isinstance(statement[key], str)
                                     and TIMESTAMP.match(statement[key])):
            problems.append(f"{key}: not an ISO 8601 timestamp with an offset")
    if "version" in statement and not str(statement["version"]).startswith("1.0."):
        problems.append("version: must be 1.0.x")
    return problems


def _no_empties(value, where: str, problems: list[str], in_extensions: bool = False) -> None:
    """No property may be null or an empty object, except inside extensions."""
    if isinstance(value, dict):
        if not value and not in_extensions:
            problems.append(f"{where}: an empty object")
        for key, item in value.items():
            inside = in_extensions or key == "extensions"
            if item is None and not in_extensions:
                problems.append(f"{where}.{key}: null")
            _no_empties(item, f"{where}.{key}", problems, inside)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_empties(item, f"{where}[{index}]", problems, in_extensions)


def _known(value, allowed: set, where: str, problems: list[str]) -> bool:
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object")
        return False
    for key in sorted(set(value) - allowed):
        problems.append(f"{where}: unknown property {key}")
    return True


def is_iri(value) -> bool:
    """An absolute IRI: a scheme, then no spaces or control characters."""
    return isinstance(value, str) and bool(SCHEME.match(value)) and not any(
        character.isspace() or ord(character) < 32 for character in value)


def is_irl(value) -> bool:
    """An IRI one can look up: http or https, with a host."""
    if not is_iri(value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _iri(value, where: str, problems: list[str]) -> None:
    if not is_iri(value):
        problems.append(f"{where}: not an absolute IRI ({value!r})")


def _uuid(value, where: str, problems: list[str]) -> None:
    if not (isinstance(value, str) and UUID.match(value)):
        problems.append(f"{where}: not a UUID ({value!r})")


def _language_map(value, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: a language map is an object")
        return
    for tag, text in value.items():
        if not LANGUAGE_TAG.match(tag):
            problems.append(f"{where}: {tag!r} is not an RFC 5646 language tag")
        if not isinstance(text, str):
            problems.append(f"{where}.{tag}: must be a string")


def _extensions(value, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: extensions are an object")
        return
    for key in value:
        _iri(key, f"{where} key", problems)


def _agent_or_group(value, where: str, problems: list[str]) -> None:
    if isinstance(value, dict) and value.get("objectType") == "Group":
        if not _known(value, AGENT | {"member"}, where, problems):
            return
        members = value.get("member", [])
        for index, member in enumerate(members if isinstance(members, list) else [None]):
            _agent(member, f"{where}.member[{index}]", problems)
        if not any(key in value for key in IFIS) and not members:
            problems.append(f"{where}: an anonymous group needs members")
        if any(key in value for key in IFIS):
            _ifi(value, where, problems)
        return
    _agent(value, where, problems)


def _agent(value, where: str, problems: list[str]) -> None:
    if not _known(value, AGENT, where, problems):
        return
    if value.get("objectType", "Agent") != "Agent":
        problems.append(f"{where}: objectType must be Agent")
    if "name" in value and not isinstance(value["name"], str):
        problems.append(f"{where}.name: must be a string")
    _ifi(value, where, problems)


def _ifi(value: dict, where: str, problems: list[str]) -> None:
    found = [key for key in IFIS if key in value]
    if len(found) != 1:
        problems.append(f"{where}: exactly one inverse functional identifier, not {found}")
        return
    key = found[0]
    if key == "mbox" and not str(value[key]).startswith("mailto:"):
        problems.append(f"{where}.mbox: must be a mailto IRI")
    if key == "openid":
        _iri(value[key], f"{where}.openid", problems)
    if key == "account" and _known(value[key], ACCOUNT, f"{where}.account", problems):
        if not is_irl(value[key].get("homePage")):
            problems.append(f"{where}.account.homePage: must be an IRL")
        if not isinstance(value[key].get("name"), str):
            problems.append(f"{where}.account.name: a string is required")


def _verb(value, problems: list[str]) -> None:
    if not _known(value, VERB, "verb", problems):
        return
    _iri(value.get("id"), "verb.id", problems)
    if "display" in value:
        _language_map(value["display"], "verb.display", problems)


def _object(value, problems: list[str]) -> None:
    kind = value.get("objectType", "Activity") if isinstance(value, dict) else None
    if kind == "Activity" or kind is None:
        _activity(value, "object", problems)
    elif kind in ("Agent", "Group"):
        _agent_or_group(value, "object", problems)
    elif kind == "StatementRef":
        if _known(value, STATEMENT_REF, "object", problems):
            _uuid(value.get("id"), "object.id", problems)
    elif kind != "SubStatement":
        problems.append(f"object: unknown objectType {kind!r}")


def _activity(value, where: str, problems: list[str]) -> None:
    if not _known(value, ACTIVITY, where, problems):
        return
    if value.get("objectType", "Activity") != "Activity":
        problems.append(f"{where}: objectType must be Activity")
    _iri(value.get("id"), f"{where}.id", problems)
    definition = value.get("definition")
    if definition is None or not _known(definition, DEFINITION, f"{where}.definition",
                                        problems):
        return
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{where}.definition.{key}", problems)
    if "type" in definition:
        _iri(definition["type"], f"{where}.definition.type", problems)
    if "moreInfo" in definition and not is_irl(definition["moreInfo"]):
        problems.append(f"{where}.definition.moreInfo: must be an IRL")
    if "extensions" in definition:
        _extensions(definition["extensions"], f"{where}.definition.extensions", problems)
    if "interactionType" in definition and \
            definition["interactionType"] not in INTERACTION_TYPES:
        problems.append(f"{where}.definition.interactionType: unknown "
                        f"{definition['interactionType']!r}")


def _result(value, problems: list[str]) -> None:
    if not _known(value, RESULT, "result", problems):
        return
    for key in ("success", "completion"):
        if key in value and not isinstance(value[key], bool):
            problems.append(f"result.{key}: must be true or false")
    if "response" in value and not isinstance(value["response"], str):
        problems.append("result.response: must be a string")
    if "duration" in value and not (isinstance(value["duration"], str)
                                    and DURATION.match(value["duration"])):
        problems.append(f"result.duration: not an ISO 8601 duration ({value['duration']!r})")
    if "extensions" in value:
        _extensions(value["extensions"], "result.extensions", problems)
    if "score" in value:
        _score(value["score"], problems)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _score(score, problems: list[str]) -> None:
    if not _known(score, SCORE, "result.score", problems):
        return
    for key in SCORE & set(score):
        if not _number(score[key]):
            problems.append(f"result.score.{key}: must be a number")
            return
    if "scaled" in score and not -1 <= score["scaled"] <= 1:
        problems.append("result.score.scaled: must be from -1 to 1")
    low, high, raw = score.get("min"), score.get("max"), score.get("raw")
    if low is not None and high is not None and not low < high:
        problems.append("result.score: min must be less than max")
    if raw is not None and (low is not None and raw < low or high is not None and raw > high):
        problems.append("result.score.raw: must be between min and max")


def _context(value, statement_object, problems: list[str]) -> None:
    if not _known(value, CONTEXT, "context", problems):
        return
    if "registration" in value:
        _uuid(value["registration"], "context.registration", problems)
    if "instructor" in value:
        _agent_or_group(value["instructor"], "context.instructor", problems)
    if "team" in value and (not isinstance(value["team"], dict)
                            or value["team"].get("objectType") != "Group"):
        problems.append("context.team: must be a Group")
    is_activity = isinstance(statement_object, dict) and statement_object.get(
        "objectType", "Activity") == "Activity"
    for key in ("revision", "platform"):
        if key in value:
            if not isinstance(value[key], str):
                problems.append(f"context.{key}: must be a string")
            if not is_activity:
                problems.append(f"context.{key}: only when the object is an Activity")
    if "language" in value and not LANGUAGE_TAG.match(str(value["language"])):
        problems.append("context.language: not an RFC 5646 language tag")
    if "statement" in value:
        reference = value["statement"]
        if _known(reference, STATEMENT_REF, "context.statement", problems):
            if reference.get("objectType") != "StatementRef":
                problems.append("context.statement: objectType must be StatementRef")
            _uuid(reference.get("id"), "context.statement.id", problems)
    if "extensions" in value:
        _extensions(value["extensions"], "context.extensions", problems)
    activities = value.get("contextActivities")
    if activities is not None and _known(activities, CONTEXT_ACTIVITIES,
                                         "context.contextActivities", problems):
        for key, listed in activities.items():
            for index, activity in enumerate(listed if isinstance(listed, list) else [listed]):
                _activity(activity, f"context.contextActivities.{key}[{index}]", problems)
