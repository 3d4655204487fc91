"""`itaku teams-package`: the Teams app zip (manifest.json, color.png, outline.png), checked
against the manifest schema's rules that hold offline, and the command's refusals."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from bot import __version__
from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.teams import package
from bot.teams.package import Developer, PackageOptions, build_manifest, build_package

APP_ID = "0f6b3c1e-2a4d-4b8f-9c7e-5d1a2b3c4d5e"
OTHER_APP_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
COMMAND_NAMES = ["help", "ask", "nda", "clause", "subcontract", "requests"]
# required at the manifest's root by the app manifest schema
REQUIRED = [
    "$schema",
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
]


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def manifest_of(data: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(read_zip(data)["manifest.json"].decode("utf-8"))
    return loaded


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = [], 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        (crc,) = struct.unpack(">I", data[i + 8 + length : i + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        i += 12 + length
    return chunks


def png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from IHDR, the first chunk."""
    kind, body = png_chunks(data)[0]
    assert kind == b"IHDR" and len(body) == 13
    width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
    return width, height, depth, color_type


def png_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """RGBA pixels of an 8-bit RGBA PNG whose rows all use filter 0 (what icons.py writes)."""
    width, height, depth, color_type = png_header(data)
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(b"".join(b for k, b in png_chunks(data) if k == b"IDAT"))
    stride = width * 4 + 1
    assert len(raw) == stride * height
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        pixels += [tuple(row[1 + x * 4 : 5 + x * 4]) for x in range(width)]
    return pixels  # type: ignore[return-value]


@pytest.fixture(scope="module")
def zip_bytes() -> bytes:
    return build_package(PackageOptions(app_id=APP_ID, domains=("itaku.example.com",)))


# --- the package -----------------------------------------------------------------------------


def test_zip_holds_exactly_the_manifest_and_two_icons(zip_bytes: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert zf.testzip() is None


def test_manifest_has_the_required_fields_of_its_schema_version(zip_bytes: bytes) -> None:
    m = manifest_of(zip_bytes)
    for key in REQUIRED:
        assert m.get(key), key
    assert m["manifestVersion"] == package.MANIFEST_VERSION
    assert m["$schema"] == (
        f"https://developer.microsoft.com/json-schemas/teams/v{m['manifestVersion']}"
        "/MicrosoftTeams.schema.json"
    )
    assert tuple(int(p) for p in m["manifestVersion"].split(".")) >= (1, 19)
    assert m["version"] == __version__ and SEMVER.match(m["version"])
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", m["accentColor"])
    assert m["icons"] == {"color": "color.png", "outline": "outline.png"}
    for key in ("name", "websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert m["developer"][key], key
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert m["developer"][key].startswith("https://")
        assert len(m["developer"][key]) <= 2048
    assert m["name"]["short"] and m["description"]["short"] and m["description"]["full"]


def test_texts_are_within_the_schema_limits(zip_bytes: bytes) -> None:
    m = manifest_of(zip_bytes)
    assert len(m["name"]["short"]) <= 30
    assert len(m["name"]["full"]) <= 100
    assert len(m["description"]["short"]) <= 80
    assert len(m["description"]["full"]) <= 4000
    assert len(m["developer"]["name"]) <= 32
    for command_list in m["bots"][0]["commandLists"]:
        assert len(command_list["commands"]) <= 10  # the older schemas' cap (12 since 1.24)
        for command in command_list["commands"]:
            assert 0 < len(command["title"]) <= 32
            assert 0 < len(command["description"]) <= 128


def test_bot_is_the_app_id_in_all_three_scopes_with_files(zip_bytes: bytes) -> None:
    bots = manifest_of(zip_bytes)["bots"]
    assert len(bots) == 1
    bot = bots[0]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is True
    assert bot["isNotificationOnly"] is False


def test_commands_are_listed_for_personal_and_team(zip_bytes: bytes) -> None:
    lists = manifest_of(zip_bytes)["bots"][0]["commandLists"]
    assert len(lists) <= 3
    by_scope = {}
    for command_list in lists:
        for scope in command_list["scopes"]:
            assert scope not in by_scope
            by_scope[scope] = [c["title"] for c in command_list["commands"]]
    assert by_scope["personal"] == COMMAND_NAMES
    assert by_scope["team"] == COMMAND_NAMES


def test_id_is_a_guid_stable_across_runs_and_distinct_per_bot() -> None:
    first = manifest_of(build_package(PackageOptions(app_id=APP_ID)))["id"]
    again = manifest_of(build_package(PackageOptions(app_id=APP_ID.upper())))["id"]
    other = manifest_of(build_package(PackageOptions(app_id=OTHER_APP_ID)))["id"]
    assert GUID.match(first)
    assert first == again == package.app_guid(APP_ID)
    assert first != other
    assert first != APP_ID  # the app's id is not the bot's


def test_rerunning_gives_the_same_bytes() -> None:
    options = PackageOptions(app_id=APP_ID, domains=("itaku.example.com",))
    assert build_package(options) == build_package(options)


def test_valid_domains_are_host_names() -> None:
    m = build_manifest(
        PackageOptions(
            app_id=APP_ID,
            domains=("Itaku.Example.com", "https://itaku.example.com/api/messages", "*.corp.jp"),
        )
    )
    assert m["validDomains"] == ["itaku.example.com", "*.corp.jp"]
    assert build_manifest(PackageOptions(app_id=APP_ID))["validDomains"] == []
    with pytest.raises(package.PackageError, match="--domain"):
        build_manifest(PackageOptions(app_id=APP_ID, domains=("not a host",)))


def test_developer_options_are_used_and_checked() -> None:
    dev = Developer(
        name="Example 株式会社",
        website_url="https://www.example.co.jp/",
        privacy_url="https://www.example.co.jp/privacy",
        terms_url="https://www.example.co.jp/terms",
    )
    m = build_manifest(PackageOptions(app_id=APP_ID, developer=dev))
    assert m["developer"] == {
        "name": "Example 株式会社",
        "websiteUrl": "https://www.example.co.jp/",
        "privacyUrl": "https://www.example.co.jp/privacy",
        "termsOfUseUrl": "https://www.example.co.jp/terms",
    }
    assert dev.placeholders() == []
    assert Developer().placeholders() == ["--developer-url", "--privacy-url", "--terms-url"]
    with pytest.raises(package.PackageError, match="--privacy-url"):
        build_manifest(
            PackageOptions(app_id=APP_ID, developer=Developer(privacy_url="http://x.example"))
        )
    with pytest.raises(package.PackageError, match="--developer-name"):
        build_manifest(PackageOptions(app_id=APP_ID, developer=Developer(name="x" * 33)))


@pytest.mark.parametrize("bad", ["", "not-a-guid", APP_ID + "0", "{" + APP_ID + "}"])
def test_app_id_must_be_a_guid(bad: str) -> None:
    with pytest.raises(package.PackageError, match="GUID"):
        build_manifest(PackageOptions(app_id=bad))


# --- the icons -------------------------------------------------------------------------------


def test_color_icon_is_an_opaque_192_png(zip_bytes: bytes) -> None:
    data = read_zip(zip_bytes)["color.png"]
    assert png_header(data)[:2] == (192, 192)
    pixels = png_pixels(data)
    assert all(p[3] == 255 for p in pixels)
    assert len(set(pixels)) > 2  # a mark on a background, anti-aliased


def test_outline_icon_is_white_on_transparent_32_png(zip_bytes: bytes) -> None:
    data = read_zip(zip_bytes)["outline.png"]
    assert png_header(data)[:2] == (32, 32)
    pixels = png_pixels(data)
    assert all(p[:3] == (255, 255, 255) for p in pixels)  # only white, of varying opacity
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)
    assert pixels[0][3] == 0  # the corners are transparent


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)
    return tmp_path


def test_cli_writes_to_output(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = in_tmp / "pkg" / "teams.zip"
    out.parent.mkdir()
    assert main(["teams-package", "--app-id", APP_ID, "--output", str(out)]) == 0
    assert manifest_of(out.read_bytes())["bots"][0]["botId"] == APP_ID
    captured = capsys.readouterr()
    assert str(out) in captured.out
    assert "--developer-url" in captured.err  # the admin is told the links are placeholders
    assert sorted(p.name for p in out.parent.iterdir()) == ["teams.zip"]  # no temporary left


def test_cli_defaults_to_the_current_folder_and_teams_app_id(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    args = ["teams-package", "--developer-url", "https://www.example.co.jp/"]
    args += ["--privacy-url", "https://www.example.co.jp/p", "--terms-url", "https://e.example/t"]
    assert main(args) == 0
    m = manifest_of((in_tmp / "itaku-teams.zip").read_bytes())
    assert m["bots"][0]["botId"] == APP_ID
    assert m["developer"]["websiteUrl"] == "https://www.example.co.jp/"
    assert "placeholder" not in capsys.readouterr().err


def test_cli_replaces_an_earlier_package(in_tmp: Path) -> None:
    out = in_tmp / "itaku-teams.zip"
    out.write_bytes(b"old")
    assert main(["teams-package", "--app-id", OTHER_APP_ID]) == 0
    assert manifest_of(out.read_bytes())["bots"][0]["botId"] == OTHER_APP_ID


def test_cli_without_app_id_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams-package"]) == 2
    err = capsys.readouterr().err
    assert "TEAMS_APP_ID is not set" in err and "--app-id" in err
    assert not (in_tmp / "itaku-teams.zip").exists()


def test_cli_with_a_bad_app_id_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams-package", "--app-id", "my-bot"]) == 2
    assert "GUID" in capsys.readouterr().err


def test_cli_refuses_a_folder_as_output(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = in_tmp / "out"
    folder.mkdir()
    assert main(["teams-package", "--app-id", APP_ID, "--output", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder} is a folder" in err
    assert list(folder.iterdir()) == []


def test_cli_missing_folder_is_named(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = in_tmp / "nowhere" / "x.zip"
    assert main(["teams-package", "--app-id", APP_ID, "--output", str(out)]) == 2
    assert f"the folder {out.parent} does not exist" in capsys.readouterr().err


def test_cli_unwritable_path_is_a_clear_error_and_keeps_the_old_file(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = in_tmp / "itaku-teams.zip"
    out.write_bytes(b"old")

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", refuse)  # the rename at the end fails
        code = main(["teams-package", "--app-id", APP_ID])
    assert code == 1
    assert f"cannot write {out} (Permission denied)" in capsys.readouterr().err
    assert out.read_bytes() == b"old"
    assert [p.name for p in in_tmp.iterdir()] == ["itaku-teams.zip"]  # temporary removed


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_cli_read_only_folder(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = in_tmp / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code = main(["teams-package", "--app-id", APP_ID, "--output", str(folder / "x.zip")])
    finally:
        folder.chmod(0o700)
    assert code == 1
    assert f"cannot write in {folder}" in capsys.readouterr().err


def test_command_line_through_a_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEAMS_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["TEAMS_APP_ID"] = APP_ID
    r = subprocess.run(
        [sys.executable, "-m", "bot", "teams-package"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "itaku-teams.zip").read_bytes()
    assert data == build_package(PackageOptions(app_id=APP_ID))
    del env["TEAMS_APP_ID"]
    r = subprocess.run(
        [sys.executable, "-m", "bot", "teams-package", "--output", "again.zip"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "TEAMS_APP_ID is not set" in r.stderr
    assert not (tmp_path / "again.zip").exists()
