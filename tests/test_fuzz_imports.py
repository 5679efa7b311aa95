"""Fuzzing what a coordinator imports: CSV files of learners uploaded on the accounts page,
and USB bundles (a folder on a stick for `trainer sync import`, or a .tar uploaded on the
Sync page), damaged in every way. The rule: never a 500 nor a crash, always a clear
message, and a refused file changes nothing (accounts, events, files on the stick)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trainer.cli import cli
from trainer.db import get_db
from trainer.events import canonical_json
from trainer.sync import bundle, keys, service

from .conftest import FIXTURE_COURSES, add_user, csrf_from, html, sign_in
from .fuzz_inputs import ODD_TEXT, damaged
from .test_bundles import enrol, node
from .test_enrolment import make_hub
from .test_sync_core import activity
from .test_sync_pages import flashes

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

# --- CSV files of learners -------------------------------------------------------------------

GOOD = "username,name,password,group\namina,Amina K,1234,Morning\njuma,Juma O,5678,Morning\n"
HEADERS = st.lists(st.sampled_from(["username", "Login", "name", "nom", "password", "PIN",
                                    "mot de passe", "group", "role", "rôle", "email", ""]),
                   min_size=1, max_size=6)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "latin-1",
                             "cp1252", "shift_jis"])
CELLS = st.lists(st.lists(ODD_TEXT | st.sampled_from(["amina", "1234", "learner", "trainer",
                                                     '"', '""', "a" * 40]), max_size=6),
                 max_size=8)


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([["username", "name", "password", "group"], *rows])
    return out.getvalue()


LEARNERS = st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True), ODD_TEXT,
                              st.sampled_from(["pass1234", "1234", "12", ""]),
                              st.sampled_from(["", "Morning", "x" * 61]) | ODD_TEXT).map(list),
                    min_size=1, max_size=3)
CSV_FILES = st.one_of(
    LEARNERS.map(csv_text).flatmap(lambda text: ENCODINGS.map(
        lambda enc: text.encode(enc, errors="replace"))),
    st.binary(max_size=2000),
    st.builds(lambda header, sep, cells: "\n".join(
        [sep.join(header), *(sep.join(row) for row in cells)]), HEADERS,
        st.sampled_from([",", ";", "\t", "|"]), CELLS).flatmap(
        lambda text: ENCODINGS.map(lambda enc: text.encode(enc, errors="replace"))),
    damaged(GOOD.encode()),
    st.sampled_from([b"username,name,password\namina,\"" + b"x" * 300_000 + b"\",1234\n",
                     b"username,password\n" + b"a,1234\n" * 6000, b"\xef\xbb\xbf",
                     b"sep=;\nusername;password\n", b"username,password\n" + b"\x00" * 500]))


def user_count(app) -> int:
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM users").fetchone()[0]


@pytest.fixture
def importer(app, coordinator):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an exception is a 500, as in production
    return app, coordinator


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(data=CSV_FILES, name=st.sampled_from(["learners.csv"] * 4 + ["", "../../etc/x", "a.xlsx"]),
       confirm=st.booleans())
@example(data=b"username,password\n" + b"a,1234\n" * 6000, name="x.csv", confirm=False)
def test_any_uploaded_csv_is_previewed_or_refused_and_creates_no_one_until_confirmed(
        importer, data, name, confirm):
    app, client = importer
    before = user_count(app)
    form = {"csrf_token": csrf_from(client, "/coordinate/users/import")}
    if name:
        form["file"] = (io.BytesIO(data), name)
    response = client.post("/coordinate/users/import", data=form,
                           content_type="multipart/form-data")
    assert response.status_code in (200, 400), response.status_code
    page = html(response)
    assert user_count(app) == before  # a preview creates no one
    if response.status_code == 400:
        assert page.select(".flash-error"), page.text  # the page says what is wrong
        assert page.find("input", attrs={"name": "confirm"}) is None
        return
    confirmation = page.find("input", attrs={"name": "confirm"}).find_parent("form")
    if confirm:  # all of them, or no one
        rows = len(page.select("tr.row-ok"))
        done = client.post("/coordinate/users/import", data={
            i["name"]: i["value"] for i in confirmation.find_all("input")})
        assert done.status_code in (302, 400)
        assert user_count(app) == before + (rows if done.status_code == 302 else 0)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(sent=st.one_of(ODD_TEXT, st.binary(max_size=200).map(lambda b: base64.b64encode(b)
                                                            .decode()),
                      CSV_FILES.map(lambda b: base64.b64encode(b).decode())))
def test_a_made_up_confirmation_is_checked_again(importer, sent):
    app, client = importer
    before = user_count(app)
    response = client.post("/coordinate/users/import", data={
        "csrf_token": csrf_from(client, "/coordinate/users/import"), "confirm": "1",
        "data": sent})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert html(response).select(".flash-error")
        assert user_count(app) == before


def test_trainer_users_import_refuses_a_bad_file_and_creates_no_one(tmp_path):
    home = tmp_path / "home"
    runner = CliRunner(env={"TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(tmp_path)})
    assert runner.invoke(cli, ["init"]).exit_code == 0
    for data in (b"\xff\xfe\x00\xd8", b"username,password\n" + b"x,1\n" + b"\x00" * 50,
                 GOOD.encode("latin-1") + "zoé,Zoé,1234\n".encode("latin-1")):
        source = tmp_path / "learners.csv"
        source.write_bytes(data)
        result = runner.invoke(cli, ["users", "import", str(source)])
        assert isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 1 and "Nothing was imported" in result.stderr
    listed = runner.invoke(cli, ["users", "list", "--json"])
    assert json.loads(listed.stdout) == []


# --- USB bundles -----------------------------------------------------------------------------

class Stick:
    """A hub with a signed-in coordinator, and a box enrolled with it: `fresh()` gives the
    files of a bundle of box results the hub lacks, for each example to damage."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.hub = node(tmp, "hub")
        make_hub(self.hub)
        with self.hub.app_context():
            self.hub.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
        self.hub.config["PROPAGATE_EXCEPTIONS"] = False  # an exception is a 500
        self.box = node(tmp, "box")
        enrol(self.hub, self.box)
        with self.box.app_context():
            self.seed = get_db().execute("SELECT signing_key FROM node").fetchone()[0]
        add_user(self.hub, "boss", "coordinator")
        self.chief = self.hub.test_client()
        sign_in(self.chief, "boss")
        self.learners = 0

    def fresh(self) -> dict[str, bytes]:
        """A new learner's results on the box, and a bundle of all the hub lacks, in chunks
        small enough to be several."""
        self.learners += 1
        activity(self.box, 1, f"l{self.learners}-")
        with self.box.app_context():
            chunk_bytes, bundle.CHUNK_BYTES = bundle.CHUNK_BYTES, 300
            try:
                made = bundle.export(get_db(), self.tmp / "made", events_held(self.hub)[1])
            finally:
                bundle.CHUNK_BYTES = chunk_bytes
        files = {p.relative_to(made).as_posix(): p.read_bytes() for p in made.rglob("*")
                 if p.is_file()}
        shutil.rmtree(made)
        return files

    def resign(self, manifest: object) -> tuple[bytes, bytes]:
        """A manifest the box really signs, whatever it holds."""
        text = canonical_json(manifest)
        signature = keys.sign(self.seed, hashlib.sha256(text.encode()).hexdigest())
        return text.encode(), signature.encode()


@pytest.fixture(scope="module")
def stick(tmp_path_factory):
    made = Stick(tmp_path_factory.mktemp("fuzz-bundles"))
    yield made
    for app in (made.hub, made.box):
        app.extensions["trainer"].sync.stop()
        app.extensions["trainer"].pool.close()


def events_held(app) -> tuple[set, dict]:
    """The events a node holds ((origin, seq, hash)), and its version vector."""
    from trainer import events

    with app.app_context():
        db = get_db()
        return (set(db.execute("SELECT origin, seq, hash FROM event").fetchall()),
                events.version_vector(db))


CHUNK_ENTRIES = st.one_of(JSON_VALUES := st.recursive(
    st.none() | st.booleans() | st.integers() | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=6), st.fixed_dictionaries({}, optional={
        "file": st.sampled_from(["chunks/0001.ndjson.gz", "../../../etc/passwd",
                                 "/etc/passwd", "chunks/../manifest.json",
                                 "chunks/9999.ndjson.gz"]) | JSON_VALUES,
        "sha256": st.sampled_from(["0" * 64]) | JSON_VALUES, "bytes": JSON_VALUES}))
MANIFEST_KEYS = ("format", "creator", "vv", "clock", "contents", "chunks", "certificates",
                 "revocations", "extra")
EXTRA_NAMES = st.sampled_from(["chunks/0099.ndjson.gz", "chunks/x", "receipts/evil.json",
                               "notes.txt", "chunks/0001.ndjson.gz.part", "manifest.json.bak"])


@st.composite
def damaged_bundles(draw, files: dict[str, bytes], stick: Stick) -> dict[str, bytes]:
    """A bundle's files after a few edits: a file damaged, dropped, added or swapped with
    another, or the manifest changed and signed again by the box (a hostile box). Each edit
    draws the same choices whatever the files (made anew each example)."""
    files = dict(files)
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(["damage", "damage", "drop", "add", "swap", "resign"]))
        names = sorted(files) or ["manifest.json"]
        name, other = (names[draw(st.integers(0, 99)) % len(names)] for _ in "ab")
        extra, added = draw(EXTRA_NAMES), draw(st.binary(max_size=200))
        key, value = draw(st.sampled_from(MANIFEST_KEYS)), draw(JSON_VALUES)
        entries, drop = draw(st.lists(CHUNK_ENTRIES, max_size=3)), draw(st.booleans())
        damage = draw(damaged(files.get(name, b"")))
        if edit == "damage" and name in files:
            files[name] = damage
        elif edit == "drop":
            files.pop(name, None)
        elif edit == "add":
            files[extra] = added
        elif edit == "swap" and name in files and other in files:
            files[name], files[other] = files[other], files[name]
        elif edit == "resign":
            try:
                manifest = json.loads(files.get("manifest.json", b"{}"))
            except ValueError:
                manifest = {}
            if isinstance(manifest, dict) and drop:
                manifest.pop(key, None)
            elif isinstance(manifest, dict):
                manifest[key] = entries if key == "chunks" else value
            files["manifest.json"], files["manifest.sig"] = stick.resign(manifest)
    return files


def write_bundle(folder: Path, files: dict[str, bytes]) -> Path:
    target = folder / "trainer-bundle-fuzzed"
    for name, data in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
    return target


def listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def assert_imported_whole_or_nothing(before: set, after: set, box: set, reports,
                                     as_made: bool) -> None:
    """Nothing made up; a refused bundle adds nothing; a bundle with the manifest the box
    made (`as_made`) and nothing refused adds all it carried (everything the box holds)."""
    assert after - before <= box, "events that the box never wrote"
    for report in reports:
        if report.refused:
            assert str(report.refused).strip()
            assert after == before
        elif report.imported.refused_chunks:
            assert all(str(reason).strip() for reason in report.imported.refused_chunks)
        elif as_made:
            assert box <= after


def import_from_stick(stick: Stick, files: dict[str, bytes], as_made: bool,
                      parent: Path) -> list:
    """Import the bundle's files as `trainer sync import` does, and check what it did."""
    box, _ = events_held(stick.box)
    before, _ = events_held(stick.hub)
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        made = write_bundle(Path(folder), files)
        on_stick = listing(Path(folder))
        with stick.hub.app_context():
            reports = service.import_from(get_db(), Path(folder))
        after, _ = events_held(stick.hub)
        assert_imported_whole_or_nothing(before, after, box, reports, as_made)
        if not reports or all(report.refused for report in reports):
            assert listing(Path(folder)) == on_stick  # not even a receipt
        else:
            assert (made / bundle.RECEIPTS).is_dir()
    return reports


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_damaged_bundle_on_a_stick_is_imported_whole_refused_or_in_whole_chunks(
        stick, tmp_path_factory, data):
    files = stick.fresh()
    damaged_files = data.draw(damaged_bundles(files, stick))
    as_made = damaged_files.get("manifest.json") == files["manifest.json"]
    import_from_stick(stick, damaged_files, as_made, tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("field, value", [
    ("chunks", 5), ("chunks", [5, None, {"file": "../../etc/passwd", "sha256": "0" * 64}]),
    ("certificates", True), ("certificates", [{"body": 1}]), ("revocations", 5),
    ("vv", {"x/1": 10**30, "y": -1}), ("clock", 10**30), ("contents", "x"), ("creator", None)])
def test_a_manifest_its_box_signed_with_fields_of_any_kind_is_read_or_refused(
        stick, tmp_path, field, value):
    files = stick.fresh()
    files["manifest.json"], files["manifest.sig"] = stick.resign(
        {**json.loads(files["manifest.json"]), field: value})
    import_from_stick(stick, files, False, tmp_path)


TAR_EDITS = st.sampled_from(["none", "../evil", "/tmp/evil", "trainer-bundle-fuzzed/../../evil",
                             "symlink", "hardlink", "fifo", "truncate", "flip"])


def tar_of(files: dict[str, bytes], edit: str, at: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for index, (name, data) in enumerate(sorted(files.items())):
            info = tarfile.TarInfo(f"trainer-bundle-fuzzed/{name}")
            if index == at % max(1, len(files)) and edit not in ("none", "truncate", "flip"):
                if edit in ("symlink", "hardlink", "fifo"):
                    info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                                 "fifo": tarfile.FIFOTYPE}[edit]
                    info.linkname = "/etc/passwd"
                    archive.addfile(info)
                    continue
                info.name = edit
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    if edit == "truncate":
        return raw[:at % max(1, len(raw))]
    if edit == "flip" and raw:
        at %= len(raw)
        return raw[:at] + bytes([raw[at] ^ 0x55]) + raw[at + 1:]
    return raw


@settings(max_examples=25, deadline=None)
@given(data=st.data(), edit=TAR_EDITS, at=st.integers(0, 10**6))
def test_a_damaged_bundle_uploaded_as_a_tar_gets_a_message_and_leaves_nothing_behind(
        stick, data, edit, at):
    files = data.draw(damaged_bundles(stick.fresh(), stick)) if data.draw(st.booleans()) \
        else stick.fresh()
    box, _ = events_held(stick.box)
    before, _ = events_held(stick.hub)
    token = csrf_from(stick.chief, "/coordinate/sync/")
    response = stick.chief.post("/coordinate/sync/import", data={
        "csrf_token": token, "bundle": (io.BytesIO(tar_of(files, edit, at)), "bundle.tar")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.status_code
    assert flashes(stick.chief).strip()  # what happened, said
    after, _ = events_held(stick.hub)
    assert after - before <= box
    instance = Path(stick.hub.instance_path)
    assert not list(instance.glob("upload-*")) and not (instance / "evil").exists()
    assert not Path("/tmp/evil").exists() and not (instance.parent / "evil").exists()


@pytest.mark.parametrize("edit", ["flip a chunk", "drop the signature", "chunks a number",
                                  "manifest nested deep"])
def test_trainer_sync_import_of_a_damaged_bundle_says_why_and_exits_1(stick, tmp_path, edit):
    files = stick.fresh()
    if edit == "flip a chunk":
        files["chunks/0001.ndjson.gz"] = bytes([files["chunks/0001.ndjson.gz"][0] ^ 1]) + \
            files["chunks/0001.ndjson.gz"][1:]
    elif edit == "drop the signature":
        del files["manifest.sig"]
    elif edit == "manifest nested deep":
        files["manifest.json"] = b"[" * 100_000
    else:
        files["manifest.json"], files["manifest.sig"] = stick.resign(
            {**json.loads(files["manifest.json"]), "chunks": 5})
    write_bundle(tmp_path, files)
    result = CliRunner(env={"TRAINER_HOME": stick.hub.instance_path}).invoke(
        cli, ["sync", "import", str(tmp_path)])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and "trainer-bundle-fuzzed" in result.stderr


RECEIPTS = [b"[" * 100_000, b"\xff", b"null", b'{"receipt": {"node": "HUB", "origin": "x/1",'
            b' "vv": {"\\ud800": 1}}, "signature": "00"}', b'{"receipt": {"node": "HUB",'
            b' "origin": "a/' + b"9" * 5000 + b'"}, "signature": ""}']


@pytest.mark.parametrize("receipt", RECEIPTS, ids=["deep", "not UTF-8", "null", "surrogate",
                                                   "huge epoch"])
def test_a_stick_with_damaged_receipts_still_takes_a_bundle(stick, tmp_path, receipt):
    with stick.box.app_context():
        hub_id = get_db().execute("SELECT hub_id FROM hub").fetchone()[0]
    (tmp_path / "trainer-bundle-old" / bundle.RECEIPTS).mkdir(parents=True)
    (tmp_path / "trainer-bundle-old" / bundle.RECEIPTS / "hub.json").write_bytes(
        receipt.replace(b"HUB", hub_id.encode()))
    with stick.box.app_context():
        made = service.export_for_hub(get_db(), tmp_path)
    assert (made / bundle.MANIFEST).is_file()


# --- Course packages on a stick --------------------------------------------------------------

@pytest.fixture(scope="module")
def content_pack(stick, tmp_path_factory):
    """The files of a content pack of the fixture course, as the hub writes it."""
    from trainer.content import pack, packages

    with stick.hub.app_context():
        signed, _ = packages.publish(get_db(), Path(stick.hub.instance_path),
                                     FIXTURE_COURSES / "basics")
    made = pack.write(Path(stick.hub.instance_path), tmp_path_factory.mktemp("pack"), [signed])
    return listing(made)


def import_pack(stick: Stick, files: dict[str, bytes], parent: Path):
    from trainer.content import pack

    with tempfile.TemporaryDirectory(dir=parent) as folder:
        for name, data in files.items():
            (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / name).write_bytes(data)
        with stick.box.app_context():
            return pack.import_packs(get_db(), Path(stick.box.instance_path), Path(folder),
                                     lambda: {})


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_damaged_content_pack_is_installed_or_refused_with_a_reason(
        stick, content_pack, tmp_path_factory, data):
    name = next(n for n in content_pack if n.endswith(".json"))
    files = {**content_pack, name: data.draw(damaged(content_pack[name]))}
    result = import_pack(stick, files, tmp_path_factory.getbasetemp())
    for report in result.reports:
        assert report.installed or report.current or report.message.strip()


@pytest.mark.parametrize("edit", ["nested deep", "version of 5000 digits", "lone surrogate"])
def test_a_content_pack_of_odd_json_is_refused_with_a_reason(stick, content_pack, tmp_path,
                                                             edit):
    name = next(n for n in content_pack if n.endswith(".json"))
    item = json.loads(content_pack[name])
    if edit == "nested deep":
        text = "[" * 100_000
    elif edit == "version of 5000 digits":
        text = json.dumps({**item, "body": {**item["body"], "version": "9" * 5000 + ".0.0"}})
    else:
        text = json.dumps({**item, "body": {**item["body"], "title": "\ud800"}})
    [report] = import_pack(stick, {**content_pack, name: text.encode()}, tmp_path).reports
    assert report.refused and report.message.strip()
