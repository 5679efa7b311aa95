"""Read a list of learners from a spreadsheet's CSV export, and check it row by row.

Nothing here writes: the coordinator sees a preview with every error marked, and accounts are
made elsewhere, only when the preview is ok. The rules for usernames, passwords and roles are
those of `accounts`. Any bytes at all give a Preview; nothing here raises on bad input.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from .accounts import MIN_PASSWORD, ROLES, USERNAME, normalise_username
from .i18n import lazy_text as _l

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000  # rows of learners, the header line not counted
NAME_LENGTH = 80  # as accounts.create_user keeps of a display name
GROUP_LENGTH = 60  # as accounts.create_group allows for a group's name
DELIMITERS = (",", ";", "\t")  # ties go to the first: a one-column header is read as commas

# Column -> the header names accepted for it (compared without case, spaces, "_" or "-"), in
# the interface's languages: English, French, Spanish, Portuguese, Swahili and Arabic.
COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("username", "user", "login", "identifiant", "usuario", "nombre de usuario",
                 "usuário", "nome de acesso", "utilizador", "jina la mtumiaji", "اسم المستخدم"),
    "name": ("name", "display_name", "full name", "nom", "nombre", "nome", "jina", "الاسم"),
    "password": ("password", "pin", "mot de passe", "contraseña", "senha", "nenosiri",
                 "كلمة المرور"),
    "group": ("group", "groupe", "class", "classe", "grupo", "clase", "turma", "kikundi",
              "المجموعة"),
    "role": ("role", "rôle", "rol", "função", "papel", "jukumu", "الدور"),
}
# Role -> the words accepted for it in a file's role column.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "learner": ("learner", "apprenant", "estudiante", "aluno", "mwanafunzi", "متعلم"),
    "trainer": ("trainer", "formateur", "docente", "instrutor", "mkufunzi", "مدرب"),
    "coordinator": ("coordinator", "coordinateur", "coordinador", "coordenador", "mratibu",
                    "منسق"),
}
REQUIRED = ("username", "password")
_NOT_DATA = str.maketrans("", "", ',;"')
_SEPARATORS = re.compile(r"[\s_\-]+")
_SEP_LINE = re.compile(r"^ *sep=([,;\t]) *$", re.IGNORECASE)  # Excel's hint line: "sep=;"


def _header_key(cell: str) -> str:
    cell = unicodedata.normalize("NFC", cell.replace("\ufeff", ""))
    return _SEPARATORS.sub("", cell).casefold()


_SYNONYMS = {_header_key(name): column for column, names in COLUMNS.items() for name in names}


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line in the file where this row starts (the header is line 1)
    username: str  # normalised
    name: str
    password: str
    role: str  # "learner" unless the optional role column says otherwise
    group: str  # "" when none
    errors: tuple[str, ...]  # messages for the person, for this row


@dataclass(frozen=True)
class Preview:
    rows: tuple[Row, ...]
    problems: tuple[str, ...]  # whole-file problems: encoding, header, size, empty file

    @property
    def ok(self) -> bool:
        """Nothing to correct and at least one learner: the rows can be written."""
        return not self.problems and bool(self.rows) and not any(r.errors for r in self.rows)


def read_roster(data: bytes, taken_usernames: AbstractSet[str]) -> Preview:
    """Parse and check a CSV file of learners; `taken_usernames` are already normalised."""
    if len(data) > MAX_BYTES:
        return _refused(_l("The file is larger than %(mb)d MB. Split it into smaller files.",
                           mb=MAX_BYTES // (1024 * 1024)))
    text = _decode(bytes(data))
    if text is None:
        return _refused(_l(
            "The file is not in UTF-8, so its accents would come out wrong. In your "
            "spreadsheet, save it again as \"CSV UTF-8\": in Excel choose File, Save As, and the "
            "type \"CSV UTF-8 (Comma delimited)\"; in LibreOffice choose File, Save As, the type "
            "\"Text CSV\", tick \"Edit filter settings\" and pick the character set "
            "\"Unicode (UTF-8)\". Then upload the new file."))
    reader = None
    try:
        delimiter, skip_line = _sniff(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = list(_records(reader, skip_line))
    except csv.Error:  # a cell over the csv module's limit of 131,072 characters
        return _refused(_l("The file cannot be read as CSV near line %(line)d: a value is too "
                           "long or a quote is not closed.",
                           line=reader.line_num if reader else 1))
    except _TooManyRows:
        return _refused(_l("The file has more than %(n)d rows. Split it into files of at most "
                           "%(n)d rows.", n=MAX_ROWS))
    if not records:
        return _refused(_l("The file is empty."))
    (_, header_cells), body = records[0], records[1:]
    header, problems = _read_header(header_cells)
    if header is None:
        return Preview(rows=(), problems=tuple(problems))
    rows = _check_rows(body, header, taken_usernames)
    if not rows:
        problems.append(_l("The file has no learners: there is nothing under the line of "
                           "column names."))
    return Preview(rows=tuple(rows), problems=tuple(problems))


def _refused(problem: str) -> Preview:
    return Preview(rows=(), problems=(problem,))


def _decode(data: bytes) -> str | None:
    """The text of a UTF-8 (with or without BOM) or UTF-16 (with BOM) file, else None."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # reads the BOM: Excel's "Unicode text" export
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if "\x00" in text:  # UTF-16 or UTF-32 without its BOM, or not text at all
        return None
    return text


def _sniff(text: str) -> tuple[str, int]:
    """The delimiter of the first non-blank line, and the line number of an Excel "sep=" line
    to skip (0 when there is none)."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        line = line.strip("\r\n")
        if _blank(line):
            continue
        hint = _SEP_LINE.match(line)
        if hint:
            return hint.group(1), number
        return max(DELIMITERS, key=lambda d: _header_score(line, d)), 0
    return DELIMITERS[0], 0


def _header_score(line: str, delimiter: str) -> tuple[int, int]:
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return sum(_header_key(cell) in _SYNONYMS for cell in cells), len(cells)


def _blank(text: str) -> bool:
    """Nothing but spaces, separators and quotes: a blank line or an empty spreadsheet row."""
    return not text.translate(_NOT_DATA).strip()


class _TooManyRows(Exception):
    pass


def _records(reader, skip_line: int) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each non-blank record: the header, then at most MAX_ROWS rows."""
    count = 0
    before = 0
    for cells in reader:
        line, before = before + 1, reader.line_num
        if line == skip_line or _blank("".join(cells)):
            continue
        count += 1
        if count > MAX_ROWS + 1:
            raise _TooManyRows
        yield line, cells


def _role(cell: str) -> str:
    """The role a cell names, in any of the interface's languages; else the cell as written,
    which the row's check then refuses."""
    written = cell.strip().casefold()
    if not written:
        return "learner"
    return next((role for role, names in ROLE_NAMES.items() if written in names), written)


def _accepted_names() -> str:
    return "; ".join(", ".join(names) for names in COLUMNS.values())


def _shown(cell: str) -> str:
    cell = " ".join(cell.split())
    return f"\u201c{cell[:40]}\u2026\u201d" if len(cell) > 40 else f"\u201c{cell}\u201d"


@dataclass(frozen=True)
class _Header:
    columns: dict[str, int]  # column -> position
    width: int  # cells in the header line
    nameless: tuple[int, ...]  # positions of columns with no name, whose cells must be empty


def _read_header(header: Sequence[str]) -> tuple[_Header | None, list[str]]:
    """The header, or None when no row can be read under it; and the problems found."""
    columns: dict[str, int] = {}
    unknown: list[str] = []
    nameless: list[int] = []
    problems: list[str] = []
    blocking = False
    for position, cell in enumerate(header):
        key = _header_key(cell)
        column = _SYNONYMS.get(key)
        if not key:
            nameless.append(position)
        elif column is None:
            unknown.append(cell)
        elif column in columns:
            problems.append(_l("The column %(name)s appears more than once in the first line.",
                               name=column))
            blocking = True
        else:
            columns[column] = position
    if unknown:
        names = ", ".join(_shown(cell) for cell in unknown[:10])
        if len(unknown) > 10:
            names += ", \u2026"
        problems.append(_l("Unknown columns: %(names)s. The first line can name these columns "
                           "(alternatives separated by commas): %(accepted)s.",
                           names=names, accepted=_accepted_names()))
    for column in REQUIRED:
        if column not in columns:
            problems.append(_l("The column %(name)s is missing. The first line must name the "
                               "columns, for example: username, name, password, group.",
                               name=column))
            blocking = True
    if blocking:
        return None, problems
    return _Header(columns, len(header), tuple(nameless)), problems


def _check_rows(body: Sequence[tuple[int, list[str]]], header: _Header,
                taken: AbstractSet[str]) -> list[Row]:
    first_line: dict[str, int] = {}  # username -> the line it first appears on
    rows = []
    for line, cells in body:
        cells = [cell.strip() for cell in cells]
        values = {column: cells[position] if position < len(cells) else ""
                  for column, position in header.columns.items()}
        username = normalise_username(values["username"])
        row = Row(line=line, username=username,
                  name=_tidy(values.get("name", ""))[:NAME_LENGTH],
                  password=values["password"],
                  role=_role(values.get("role", "")),
                  group=_tidy(values.get("group", "")),
                  errors=())
        if len(cells) != header.width:
            # The cells are out of place: checking their values would only add noise.
            errors = [_l("Wrong number of cells: %(found)d on this line, %(expected)d in the "
                         "first line. Check for a stray separator or quote.",
                         found=len(cells), expected=header.width)]
        else:
            errors = _row_errors(row, cells, header, first_line, taken)
            if username:
                first_line.setdefault(username, line)
        rows.append(replace(row, errors=tuple(errors)))
    return rows


def _tidy(text: str) -> str:
    """One line of text, spaces collapsed, accents composed (as a phone keyboard types them)."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _row_errors(row: Row, cells: list[str], header: _Header, first_line: dict[str, int],
                taken: AbstractSet[str]) -> list[str]:
    errors = []
    if not row.username:
        errors.append(_l("The username is missing."))
    elif not USERNAME.match(row.username):
        errors.append(_l("A username has 2 to 32 letters, digits, dots, dashes or "
                         "underscores, and starts with a letter or digit."))
    elif row.username in first_line:
        errors.append(_l("The username %(name)s is already on line %(line)d.",
                         name=row.username, line=first_line[row.username]))
    elif row.username in taken:
        errors.append(_l("The username %(name)s is taken. Choose another.", name=row.username))
    if not row.password:
        errors.append(_l("The password is missing."))
    elif len(row.password) < MIN_PASSWORD:
        errors.append(_l("The password or PIN needs at least %(n)d characters.",
                         n=MIN_PASSWORD))
    if row.role not in ROLES:
        errors.append(_l("Unknown role %(role)s: write one of %(roles)s, or leave it empty "
                         "for a learner.", role=_shown(row.role), roles=", ".join(ROLES)))
    elif row.role != "learner":
        errors.append(_l("This import makes learners only. Add trainers and coordinators one "
                         "by one on the Accounts page, where they can be checked."))
    if len(row.group) > GROUP_LENGTH:
        errors.append(_l("A group name has at most %(n)d characters.", n=GROUP_LENGTH))
    if any(cells[position] for position in header.nameless):
        errors.append(_l("There is a value in a column that has no name in the first line."))
    return errors
