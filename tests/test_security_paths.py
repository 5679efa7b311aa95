"""Path traversal and zip-slip: course media asked for with ../ in every spelling or through
links leading out of the course; uploaded .tar files (content packs, bundles) and folders on a
stick (`trainer content import`, `trainer sync import`) whose members are named ../x or /abs,
or are links (symbolic or hard) leading outside. Each is refused, writes nothing outside its
folder (the files outside are listed before and after) and changes nothing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from trainer.cli import cli
from trainer.content import pack, packages
from trainer.content.package import body, digest
from trainer.db import get_db
from trainer.sync import bundle, keys

from .conftest import add_user, csrf_from, sign_in
from .content_network import Network, new_version
from .test_security import snapshot

SECRET = "the box's own file"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside every course, instance and stick, with a file in it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
            for p in sorted(folder.rglob("*"))}


# Course media ---------------------------------------------------------------------------------

def test_media_links_leading_out_of_the_course_are_not_followed(app, client, courses_dir,
                                                                outside):
    media = courses_dir / "basics" / "media"
    (media / "leak.svg").symlink_to(outside / "secret.txt")
    (media / "out").symlink_to(outside)
    (media / "inside.svg").symlink_to(media / "diagram.svg")  # a link within the media: fine
    (courses_dir / "basics" / "fr").mkdir()
    (courses_dir / "basics" / "fr" / "media").mkdir()
    (courses_dir / "basics" / "fr" / "media" / "leak.svg").symlink_to(outside / "secret.txt")
    for path in ("/courses/basics/media/leak.svg", "/courses/basics/media/out/secret.txt",
                 "/courses/basics/translations/fr/media/leak.svg",
                 "/courses/basics/media/%2e%2e/%2e%2e/outside/secret.txt",
                 "/courses/basics/media/%252e%252e/course.md",
                 "/courses/basics/media/..%5ccourse.md",
                 "/courses/basics/media/%2Fetc%2Fpasswd",
                 "/courses/basics/media/a%00b",
                 f"/courses/basics/media/{outside}/secret.txt"):
        with client.get(path, follow_redirects=True) as response:
            assert response.status_code == 404, path
            assert SECRET.encode() not in response.data, path
    with client.get("/courses/basics/media/inside.svg") as response:
        assert response.status_code == 200 and response.data.startswith(b"<svg")


def test_a_lesson_file_that_is_a_link_is_refused_and_shows_nothing(app, client, courses_dir,
                                                                    outside, learner):
    (outside / "secret.md").write_text(f"# Leak\n\n{SECRET}\n")
    (courses_dir / "basics" / "04-leak.md").symlink_to(outside / "secret.md")
    result = CliRunner().invoke(cli, ["check", str(courses_dir / "basics")])
    assert result.exit_code == 1
    assert "04-leak.md:1:1: error" in result.output and "is a link" in result.output
    sign_in(client, learner)
    for path in ("/courses/basics", "/courses/basics/leak", "/search?q=box"):
        with client.get(path) as response:
            assert response.status_code in (200, 404), path
            assert SECRET.encode() not in response.data, path


# Content packs --------------------------------------------------------------------------------

@pytest.fixture
def network(tmp_path):
    """A hub with basics 1.1.0 published and a box enrolled with it, running 1.0.0."""
    made = Network(tmp_path)
    new_version(made.courses(made.hub) / "basics", "1.1.0", lesson_text="Newer.")
    with made.hub.app_context():
        made.signed, _ = packages.publish(get_db(), Path(made.hub.instance_path),
                                          made.courses(made.hub) / "basics")
    yield made
    made.close()


def box_state(network) -> tuple:
    """What a refused import must leave as it was: the courses the box runs, its database,
    the files of its instance folder."""
    home = Path(network.box.instance_path)
    return (network.running(network.box), snapshot(network.box),
            sorted(str(p.relative_to(home)) for p in home.rglob("*")
                   if ".db" not in p.name and "search" not in p.parts
                   and "cache" not in p.parts  # templates compiled on a first page view
                   and p.suffix != ".lock"))  # the lock a sync or import takes


def pack_tar(network, stick: Path, evil: str, outside: Path) -> bytes:
    """The hub's content pack as a .tar, with one more member after the good ones."""
    made = pack.write(Path(network.hub.instance_path), stick, [network.signed])
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        archive.add(made, arcname=made.name)
        member = tarfile.TarInfo(f"{made.name}/{evil}")
        if evil == "link-out":
            member.type, member.linkname = tarfile.SYMTYPE, str(outside)
            archive.addfile(member)
            member = tarfile.TarInfo(f"{made.name}/link-out/evil")
        elif evil == "hard-link":
            member.type, member.linkname = tarfile.LNKTYPE, str(outside / "secret.txt")
            archive.addfile(member)
            return data.getvalue()
        elif evil.startswith("/"):
            member = tarfile.TarInfo(str(outside / "evil"))
        member.size = 4
        archive.addfile(member, io.BytesIO(b"evil"))
    return data.getvalue()


def test_a_pack_tar_with_a_member_leaving_its_folder_is_refused_whole(network, tmp_path,
                                                                      outside):
    add_user(network.box, "boss", "coordinator")
    boss = network.box.test_client()
    sign_in(boss, "boss")
    for evil in ("../../evil", "/abs", "link-out", "hard-link"):
        upload = pack_tar(network, tmp_path / f"stick-{evil[-3:]}", evil, outside)
        before, around = box_state(network), listing(outside)
        answer = boss.post("/coordinate/courses/import", data={
            "csrf_token": csrf_from(boss, "/coordinate/courses/"),
            "pack": (io.BytesIO(upload), "pack.tar")}, content_type="multipart/form-data")
        assert answer.status_code == 302, evil
        assert box_state(network) == before, evil  # not even the good members were taken
        assert listing(outside) == around, evil
        assert not list(tmp_path.rglob("evil")), evil
        assert not list(Path(network.box.instance_path).glob("upload-*"))


def test_a_bundle_tar_with_a_member_leaving_its_folder_imports_nothing(network, tmp_path,
                                                                      outside):
    add_user(network.box, "amina")
    with network.box.app_context():
        made = bundle.export(get_db(), tmp_path / "stick")
    add_user(network.hub, "boss", "coordinator")
    boss = network.hub.test_client()
    sign_in(boss, "boss")
    for evil in ("../../evil", "/abs", "link-out"):
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            archive.add(made, arcname=made.name)  # a whole bundle first, then the bad one
            member = tarfile.TarInfo(f"{made.name}/{evil}" if evil != "/abs"
                                     else str(outside / "evil"))
            if evil == "link-out":
                member.type, member.linkname = tarfile.SYMTYPE, str(outside)
                archive.addfile(member)
            else:
                member.size = 4
                archive.addfile(member, io.BytesIO(b"evil"))
        before, around = snapshot(network.hub), listing(outside)
        answer = boss.post("/coordinate/sync/import", data={
            "csrf_token": csrf_from(boss, "/coordinate/sync/"),
            "bundle": (io.BytesIO(data.getvalue()), "bundle.tar")},
            content_type="multipart/form-data")
        assert answer.status_code == 302, evil
        assert snapshot(network.hub) == before, evil
        assert listing(outside) == around and not list(tmp_path.rglob("evil")), evil


def test_a_csv_uploaded_under_a_name_with_a_path_writes_no_file(network, tmp_path, outside):
    add_user(network.box, "boss", "coordinator")
    boss = network.box.test_client()
    sign_in(boss, "boss")
    def files() -> list[Path]:  # but templates compiled on a first page view
        return sorted(p for p in tmp_path.rglob("*") if "cache" not in p.parts)

    around = files()
    for name in ("../../outside/evil.csv", str(outside / "evil.csv"), "..\\..\\evil.csv"):
        answer = boss.post("/coordinate/users/import", data={
            "csrf_token": csrf_from(boss, "/coordinate/users/import"),
            "file": (io.BytesIO(b"username,password\nzawadi,pass1234\n"), name)},
            content_type="multipart/form-data")
        assert answer.status_code == 200, name  # the preview, read from memory
    assert files() == around  # no file made anywhere


def test_a_stick_whose_pack_files_are_links_out_installs_nothing(network, tmp_path, outside):
    stick = tmp_path / "stick"
    made = pack.write(Path(network.hub.instance_path), stick, [network.signed])
    first = network.signed.body["files"][0]["sha256"]
    (made / "files" / first).unlink()
    (made / "files" / first).symlink_to(outside / "secret.txt")  # another file's bytes
    before, around = box_state(network), listing(outside)
    done = CliRunner(env=cli_env(network.box)).invoke(cli, ["content", "import", str(stick)])
    assert done.exit_code == 1 and "is missing or damaged on the stick" in done.stderr
    assert box_state(network) == before and listing(outside) == around


def test_a_package_naming_paths_outside_its_folder_is_refused_even_signed(network, tmp_path,
                                                                          outside):
    """Only the hub signs packages; still, a body naming ../ or /abs is refused before any
    file is written."""
    stick = tmp_path / "stick"
    made = pack.write(Path(network.hub.instance_path), stick, [network.signed])
    with network.hub.app_context():
        node_id, seed = get_db().execute("SELECT node_id, signing_key FROM node").fetchone()
    for name in ("../../../outside/evil", str(outside / "evil"), "media/../../evil"):
        files = [*network.signed.body["files"], {**network.signed.body["files"][0],
                                                 "path": name}]
        forged = body("basics", "1.2.0", "Basics", files, 1, node_id)
        (made / "basics-1.1.0.json").write_text(json.dumps(
            {"body": forged, "signature": keys.sign(seed, digest(forged))}))
        before, around = box_state(network), listing(outside)
        done = CliRunner(env=cli_env(network.box)).invoke(cli, ["content", "import",
                                                                str(stick)])
        assert done.exit_code == 1 and "not a safe relative path" in done.stderr, done.stderr
        assert box_state(network) == before and listing(outside) == around


def cli_env(app) -> dict:
    return {"TRAINER_HOME": app.instance_path, "TRAINER_COURSES_DIR": app.config["COURSES_DIR"],
            "TRAINER_SECRET_KEY": app.config["SECRET_KEY"]}


# USB bundles ----------------------------------------------------------------------------------

def test_a_bundle_import_writes_its_receipt_through_no_link(network, tmp_path, outside):
    """The importer leaves a receipt on the stick: never through a link the stick holds (the
    receipt file, or the receipts folder, leading out)."""
    add_user(network.box, "amina")
    with network.hub.app_context():
        hub_id = get_db().execute("SELECT node_id FROM node").fetchone()[0]
    for case in ("file", "folder"):
        stick = tmp_path / f"stick-{case}"
        with network.box.app_context():
            made = bundle.export(get_db(), stick)
        if case == "file":
            (made / bundle.RECEIPTS).mkdir()
            (made / bundle.RECEIPTS / f"{hub_id}.json").symlink_to(outside / "secret.txt")
        else:
            (made / bundle.RECEIPTS).symlink_to(outside)
        around = listing(outside)
        done = CliRunner(env=cli_env(network.hub)).invoke(cli, ["sync", "import", str(stick)])
        assert done.exit_code == 0, done.output
        assert listing(outside) == around, case


def test_a_pack_written_to_a_stick_goes_through_no_link_the_stick_holds(network, tmp_path,
                                                                        outside):
    """`trainer content export` onto a stick someone else prepared: a file, the files folder
    or the package file there may be a link leading out; each is replaced, never followed."""
    sha = network.signed.body["files"][0]["sha256"]
    plants = {"file": f"trainer-content/files/{sha}", "folder": "trainer-content/files",
              "package": "trainer-content/basics-1.1.0.json.part"}
    for case, planted in plants.items():
        stick = tmp_path / f"stick-{case}"
        (stick / planted).parent.mkdir(parents=True)
        (stick / planted).symlink_to(outside / "secret.txt" if case != "folder" else outside)
        around = listing(outside)
        done = CliRunner(env=cli_env(network.hub)).invoke(cli, ["content", "export",
                                                                str(stick)])
        assert done.exit_code == 0, done.output
        assert listing(outside) == around, case
        assert (stick / "trainer-content" / "files" / sha).is_file()
        assert not (stick / "trainer-content" / "files" / sha).is_symlink()
