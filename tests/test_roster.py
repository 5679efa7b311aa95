"""A CSV list of learners is read and checked row by row before anything is written."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.accounts import MIN_PASSWORD, ROLES, USERNAME
from trainer.roster import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    NAME_LENGTH,
    Preview,
    Row,
    _header_key,
    read_roster,
)


def read(text: str, taken: set[str] | None = None, encoding: str = "utf-8") -> Preview:
    return read_roster(text.encode(encoding), taken or set())


def problems(preview: Preview) -> list[str]:
    return [str(problem) for problem in preview.problems]


def errors(preview: Preview) -> dict[int, list[str]]:
    """Line -> the errors of the row on that line, for the rows that have any."""
    return {row.line: [str(e) for e in row.errors] for row in preview.rows if row.errors}


def check_invariants(preview: Preview, taken: set[str]) -> None:
    """What any preview promises, whatever the file was."""
    assert isinstance(preview, Preview)
    assert all(isinstance(row, Row) for row in preview.rows)
    for message in [*preview.problems, *(e for row in preview.rows for e in row.errors)]:
        assert str(message).strip()
    lines = [row.line for row in preview.rows]
    assert lines == sorted(set(lines))
    assert all(line >= 2 for line in lines)
    assert len(preview.rows) <= MAX_ROWS
    for row in preview.rows:
        assert len(row.name) <= NAME_LENGTH
        assert row.username == row.username.strip().lower()
    if preview.ok:
        assert preview.rows and not preview.problems
        usernames = [row.username for row in preview.rows]
        assert len(set(usernames)) == len(usernames)
        for row in preview.rows:
            assert USERNAME.match(row.username)
            assert row.username not in taken
            assert len(row.password) >= MIN_PASSWORD
            assert row.role in ROLES


# --- Good files ------------------------------------------------------------------------------


def test_a_good_comma_file_gives_one_row_per_learner():
    preview = read("username,name,password,group,role\r\n"
                   "amina,Amina Bello,1234,Morning,\r\n"
                   "Joseph.K , Joseph Kamau ,s3cret!,,Learner\r\n"
                   "chef,Marie Ndiaye,9876,Evening,\r\n")
    assert preview.ok
    assert preview.problems == ()
    assert preview.rows == (
        Row(2, "amina", "Amina Bello", "1234", "learner", "Morning", ()),
        Row(3, "joseph.k", "Joseph Kamau", "s3cret!", "learner", "", ()),
        Row(4, "chef", "Marie Ndiaye", "9876", "learner", "Evening", ()),
    )


def test_staff_accounts_are_not_made_by_an_import():
    preview = read("username,password,role\ntina,1234,trainer\nchef,1234,coordinator\n")
    assert not preview.ok
    assert all("makes learners only" in str(row.errors[0]) for row in preview.rows)


def test_only_username_and_password_are_required():
    preview = read("Username,Password\namina,1234\n")
    assert preview.ok
    assert preview.rows == (Row(2, "amina", "", "1234", "learner", "", ()),)


def test_header_names_ignore_case_spaces_and_take_synonyms():
    preview = read(" LOGIN , Full Name,PIN, Class ,Rôle\nzara,Zara Ali,4321,B,learner\n")
    assert preview.ok
    assert preview.rows == (Row(2, "zara", "Zara Ali", "4321", "learner", "B", ()),)
    preview = read("user;display_name;password;groupe;role\nzara;Zara;4321;B;\n")
    assert preview.ok and preview.rows[0].name == "Zara"


def test_a_french_semicolon_file_with_bom_and_accents():
    text = ("Identifiant;Nom;Mot de passe;Groupe;Rôle\r\n"
            "zoe.lefevre;Zoé Lefèvre;çà1234;CE2 – Mme Dupré;\r\n"
            "francois;François Müller, fils;0000;CE2 – Mme Dupré;formateur\r\n")
    preview = read_roster(text.encode("utf-8-sig"), set())
    assert problems(preview) == []
    first, second = preview.rows
    assert first == Row(2, "zoe.lefevre", "Zoé Lefèvre", "çà1234", "learner", "CE2 – Mme Dupré",
                        ())
    assert second.name == "François Müller, fils"  # a comma is no separator in this file
    assert errors(preview) == {3: ["This import makes learners only. Add trainers and "
                                   "coordinators one by one on the Accounts page, where they "
                                   "can be checked."]}  # formateur: a trainer, in French


@pytest.mark.parametrize("header,role", [
    ("nombre de usuario,nombre,contraseña,grupo,rol", "estudiante"),
    ("nome de acesso;nome;senha;turma;função", "aluno"),
    ("jina la mtumiaji,jina,nenosiri,kikundi,jukumu", "mwanafunzi"),
    ("اسم المستخدم,الاسم,كلمة المرور,المجموعة,الدور", "متعلم"),
])
def test_headers_and_roles_in_every_interface_language(header, role):
    delimiter = ";" if ";" in header else ","
    preview = read(f"{header}\nzawadi{delimiter}Zawadi{delimiter}4321{delimiter}B{delimiter}"
                   f"{role}\n")
    assert preview.ok, errors(preview)
    assert preview.rows == (Row(2, "zawadi", "Zawadi", "4321", "learner", "B", ()),)
    wrong = read(f"{header}\nzawadi{delimiter}Zawadi{delimiter}4321{delimiter}B{delimiter}"
                 "chef\n")
    assert "Unknown role “chef”" in errors(wrong)[2][0]


def test_no_header_name_stands_for_two_columns():
    keys = [_header_key(name) for names in COLUMNS.values() for name in names]
    assert len(keys) == len(set(keys))


def test_a_french_file_without_bom_reads_the_same():
    preview = read("identifiant;nom;mot de passe\nzoe;Zoé;1234\n")
    assert preview.ok and preview.rows[0].name == "Zoé"


def test_decomposed_accents_are_composed_in_names_and_groups():
    preview = read("username,name,password,group\nzoe,Zoe\u0301,1234,Cre\u0300che\n")
    assert preview.rows[0].name == "Zoé"
    assert preview.rows[0].group == "Crèche"


def test_a_utf16_tab_file_from_excel_unicode_text():
    text = "username\tname\tpassword\r\namina\tAmina Bèllo\t1234\r\n"
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
        preview = read_roster(bom + text.encode(encoding), set())
        assert preview.ok, encoding
        assert preview.rows == (Row(2, "amina", "Amina Bèllo", "1234", "learner", "", ()),)


def test_excel_sep_line_sets_the_separator_and_counts_as_a_line():
    preview = read("sep=;\nusername;password;name\namina;1234;Bello, Amina\n")
    assert preview.ok
    assert preview.rows == (Row(3, "amina", "Bello, Amina", "1234", "learner", "", ()),)


def test_quoted_cells_may_hold_separators_quotes_and_line_breaks():
    preview = read('username,name,password\n'
                   'amina,"Bello, ""Mina""\nAmina",1234\n'
                   'joseph,Joseph,5678\n')
    assert preview.ok
    assert [(row.line, row.name) for row in preview.rows] == [
        (2, 'Bello, "Mina" Amina'), (4, "Joseph")]


def test_a_long_name_is_cut_to_80_characters():
    preview = read(f"username,name,password\namina,{'x' * 200},1234\n")
    assert preview.ok
    assert preview.rows[0].name == "x" * NAME_LENGTH


def test_a_password_keeps_its_inner_spaces_and_case_but_not_the_outer_ones():
    preview = read("username,password\namina,  Open Sesame  \n")
    assert preview.rows[0].password == "Open Sesame"


# --- Encoding --------------------------------------------------------------------------------


def test_a_latin1_file_is_refused_with_how_to_save_as_csv_utf8():
    data = "username;name;password\nzoe;Zoé Lefèvre;1234\n".encode("latin-1")
    preview = read_roster(data, set())
    assert not preview.ok
    assert preview.rows == ()
    [problem] = problems(preview)
    assert "UTF-8" in problem and '"CSV UTF-8' in problem


def test_text_full_of_nul_characters_is_refused_as_an_encoding_problem():
    data = "username,password\namina,1234\n".encode("utf-16-le")  # no BOM
    preview = read_roster(data, set())
    assert preview.rows == ()
    assert "UTF-8" in problems(preview)[0]


def test_a_broken_utf16_file_is_an_encoding_problem():
    preview = read_roster(b"\xff\xfeu\x00s\x00\x00\xd8", set())  # a lone surrogate
    assert preview.rows == ()
    assert "UTF-8" in problems(preview)[0]


# --- Header ----------------------------------------------------------------------------------


def test_unknown_columns_are_named_with_the_accepted_names():
    preview = read("username,password,email,Phone number\namina,1234,a@b.c,555\n")
    assert not preview.ok
    [problem] = problems(preview)
    assert "“email”" in problem and "“Phone number”" in problem
    for accepted in ("username", "identifiant", "mot de passe", "groupe", "rôle"):
        assert accepted in problem
    assert [row.username for row in preview.rows] == ["amina"]  # still previewed


def test_a_missing_required_column_is_a_problem_and_no_rows_are_read():
    preview = read("username,name\namina,Amina\n")
    assert preview.rows == ()
    assert problems(preview) == ["The column password is missing. The first line must name the "
                                 "columns, for example: username, name, password, group."]
    preview = read("amina,1234\njoseph,5678\n")  # no header at all
    assert preview.rows == ()
    assert len(problems(preview)) == 3  # unknown "amina" and "1234", username and password


def test_a_column_named_twice_is_a_problem():
    preview = read("username,login,password\namina,amina,1234\n")
    assert preview.rows == ()
    assert problems(preview) == [
        "The column username appears more than once in the first line."]


def test_columns_without_a_name_must_stay_empty():
    preview = read("username,password,,\namina,1234,,\njoseph,5678,,oops\n")
    assert problems(preview) == []
    assert errors(preview) == {
        3: ["There is a value in a column that has no name in the first line."]}


# --- Row errors, each on its line ------------------------------------------------------------


def test_each_kind_of_row_error_is_on_its_line():
    preview = read("username,name,password,role,group\n"
                   "amina,Amina,1234,,\n"  # 2: fine
                   "-bad,Bad,1234,,\n"  # 3: invalid username
                   ",Nobody,1234,,\n"  # 4: missing username
                   "short,Short,123,,\n"  # 5: password too short
                   "nopass,No pass,,,\n"  # 6: password missing
                   "boss,Boss,1234,admin,\n"  # 7: unknown role
                   "few,Few,1234\n"  # 8: too few cells
                   "many,Dupont, Jean,1234,,\n"  # 9: too many cells
                   f"grp,Group,1234,,{'g' * 61}\n")  # 10: group name too long
    assert not preview.ok
    assert problems(preview) == []
    cells = ("Wrong number of cells: {} on this line, 5 in the first line. "
             "Check for a stray separator or quote.")
    assert errors(preview) == {
        3: ["A username has 2 to 32 letters, digits, dots, dashes or underscores, and starts "
            "with a letter or digit."],
        4: ["The username is missing."],
        5: [f"The password or PIN needs at least {MIN_PASSWORD} characters."],
        6: ["The password is missing."],
        7: ["Unknown role “admin”: write one of learner, trainer, coordinator, or leave it "
            "empty for a learner."],
        8: [cells.format(3)],
        9: [cells.format(6)],
        10: ["A group name has at most 60 characters."],
    }
    assert [row.line for row in preview.rows] == list(range(2, 11))


def test_a_row_can_have_several_errors():
    preview = read("username,password,role\nx,1,boss\n")
    assert len(errors(preview)[2]) == 3


def test_too_long_a_username_is_an_error():
    preview = read(f"username,password\n{'a' * 33},1234\n{'a' * 32},1234\n")
    assert list(errors(preview)) == [2]


# --- Duplicates ------------------------------------------------------------------------------


def test_later_duplicates_in_the_file_name_the_first_line():
    preview = read("username,password\n"
                   "amina,1234\n"
                   "joseph,1234\n"
                   "AMINA ,5678\n"
                   "amina,9999\n")
    assert errors(preview) == {
        4: ["The username amina is already on line 2."],
        5: ["The username amina is already on line 2."],
    }


def test_usernames_already_taken_are_errors():
    preview = read("username,password\namina,1234\nJoseph,1234\njoseph,5678\n",
                   taken={"joseph"})
    assert errors(preview) == {
        3: ["The username joseph is taken. Choose another."],
        4: ["The username joseph is already on line 3."],
    }


# --- Blank lines, empty files, size limits ---------------------------------------------------


def test_blank_lines_and_empty_spreadsheet_rows_are_skipped_but_counted():
    preview = read("\n  \nusername;password\n\namina;1234\n;;\n  ; \njoseph;5678\n\n")
    assert preview.ok
    assert [(row.line, row.username) for row in preview.rows] == [(5, "amina"), (8, "joseph")]


def test_an_empty_file_is_a_problem():
    for text in ("", "\n\n", "\ufeff", " ;\n"):
        preview = read(text)
        assert not preview.ok and preview.rows == ()
        assert problems(preview) == ["The file is empty."], repr(text)


def test_a_header_alone_is_not_ok():
    preview = read("username,password\n\n")
    assert not preview.ok
    assert preview.rows == ()
    assert problems(preview) == ["The file has no learners: there is nothing under the line "
                                 "of column names."]


def test_files_over_2_mb_are_refused():
    data = b"username,name,password\n" + b"".join(
        b"u%04d,%s,1234\n" % (n, b"x" * 400) for n in range(MAX_ROWS - 1))
    data += b"last," + b"x" * (MAX_BYTES - len(data) - 11) + b",1234\n"
    assert len(data) == MAX_BYTES
    assert read_roster(data, set()).problems == ()  # just at the limit: read
    preview = read_roster(data + b"\n", set())
    assert preview.rows == ()
    assert problems(preview) == ["The file is larger than 2 MB. Split it into smaller files."]


def test_files_over_5000_rows_are_refused():
    rows = "".join(f"u{n:05d},1234\n" for n in range(MAX_ROWS))
    preview = read("username,password\n" + rows + "\n\n")
    assert preview.ok and len(preview.rows) == MAX_ROWS
    preview = read("username,password\n" + rows + "u99999,1234\n")
    assert preview.rows == ()
    assert problems(preview) == [f"The file has more than {MAX_ROWS} rows. Split it into files "
                                 f"of at most {MAX_ROWS} rows."]


def test_a_cell_too_long_for_csv_is_a_problem_not_a_crash():
    preview = read('username,name,password\namina,"' + "x" * 200_000 + '",1234\n')
    assert preview.rows == ()
    assert "cannot be read as CSV near line" in problems(preview)[0]


# --- Never raises ----------------------------------------------------------------------------

HEADER_NAMES = ["username", "Login", "identifiant", "name", "Full Name", "nom", "password",
                "PIN", "mot de passe", "group", "classe", "role", "Rôle", "email", ""]
DELIMITER = st.sampled_from([",", ";", "\t"])
TAKEN = {"amina", "joseph"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data):
    check_invariants(read_roster(data, TAKEN), TAKEN)


@settings(max_examples=300, deadline=None)
@given(header=st.lists(st.sampled_from(HEADER_NAMES), min_size=1, max_size=6),
       delimiter=DELIMITER, body=st.text(max_size=500), bom=st.booleans())
def test_arbitrary_text_under_a_plausible_header_never_raises(header, delimiter, body, bom):
    text = delimiter.join(header) + "\n" + body
    data = text.encode("utf-8-sig" if bom else "utf-8")
    check_invariants(read_roster(data, TAKEN), TAKEN)


@settings(max_examples=200, deadline=None)
@given(delimiter=DELIMITER,
       cells=st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=6), max_size=12),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_arbitrary_cells_in_the_right_columns_never_raise(delimiter, cells, encoding):
    lines = [delimiter.join(["username", "name", "password", "group", "role"])]
    lines += [delimiter.join(row) for row in cells]
    data = "\r\n".join(lines).encode(encoding)
    check_invariants(read_roster(data, TAKEN), TAKEN)


USERNAMES = st.from_regex(USERNAME, fullmatch=True).filter(lambda name: name not in TAKEN)
CELL_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=100)
PASSWORDS = CELL_TEXT.filter(lambda p: p == p.strip() and len(p) >= MIN_PASSWORD)


@settings(max_examples=150, deadline=None)
@given(learners=st.lists(st.tuples(USERNAMES, CELL_TEXT, PASSWORDS,
                                   st.sampled_from(["learner", "Learner", ""])),
                         min_size=1, max_size=10, unique_by=lambda learner: learner[0]),
       delimiter=DELIMITER, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_what_a_spreadsheet_writes_is_read_back(learners, delimiter, encoding):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Username", "Name", "Password", "Role"])
    writer.writerows(learners)
    preview = read_roster(out.getvalue().encode(encoding), TAKEN)
    check_invariants(preview, TAKEN)
    assert preview.ok, (problems(preview), errors(preview))
    assert [(row.username, row.password, row.role) for row in preview.rows] == [
        (username, password, "learner") for username, _, password, _ in learners]
    for row, (_, name, _, _) in zip(preview.rows, learners, strict=True):
        assert row.name == unicodedata.normalize("NFC", " ".join(name.split()))[:NAME_LENGTH]
