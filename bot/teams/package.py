"""The Teams app package an admin uploads (`itaku teams-package`): a zip of manifest.json (app
manifest schema 1.29) and the two icons (bot/teams/icons.py). The bot is the Azure Bot's app id
(TEAMS_APP_ID); the app's own id is derived from it (uuid5), so re-running gives the same app and
the same bytes. The name, short description and accent colour are the Slack app's (manifest.json),
so both apps look alike."""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import sys
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot import __version__
from bot.config import project_file
from bot.teams import icons

# The newest generally available schema (OfficeDev/microsoft-teams-app-schema, June 2026).
MANIFEST_VERSION = "1.29"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
DEFAULT_OUTPUT = Path("itaku-teams.zip")
PACKAGE_FILES = ("manifest.json", "color.png", "outline.png")

# The schema's limits (the stricter ones of older versions for command titles and descriptions,
# which some clients still apply).
LIMITS = {
    "name.short": 30,
    "name.full": 100,
    "description.short": 80,
    "description.full": 4000,
    "developer.name": 32,
    "url": 2048,
    "command.title": 32,
    "command.description": 128,
}

# uuid5 namespace of Itaku's Teams apps: id = uuid5(APP_NAMESPACE, bot app id)
APP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:itaku:teams-app")

PLACEHOLDER_DEVELOPER = "Itaku"
PLACEHOLDER_WEBSITE = "https://itaku.example.com/"
PLACEHOLDER_PRIVACY = "https://itaku.example.com/privacy"
PLACEHOLDER_TERMS = "https://itaku.example.com/terms"

_FALLBACK_NAME = "Itaku"
_FALLBACK_SHORT = "委託先の情報セキュリティ管理について、社内ナレッジベースから出典付きで答えます。"
_FALLBACK_ACCENT = "#1f3a5f"

FULL_DESCRIPTION = (
    "Itaku（委託）は、委託先・再委託先の選定、契約に入れるべき条項、監査、漏えい時の対応、NDA、"
    "個人情報保護法などについて、社内のナレッジベースから出典付きで回答するアシスタントです。"
    "ナレッジベースにない質問には推測で答えず、その旨をお伝えします。"
    "個人チャットで質問するか、チームのチャネルやグループチャットで @Itaku とメンションしてください。"
    "NDA のドラフト（.docx）は個人チャットでお渡しします。"
    "再委託の承認申請とその承認も、Teams から行えます。"
)

# (title, description): the commands the Teams adapter understands, offered in the compose box
COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "使い方とコマンドの一覧を表示します"),
    ("ask", "委託先のセキュリティについて質問します（例：ask 再委託の条件は？）"),
    (
        "nda",
        "秘密保持契約（NDA）のドラフトを対話で作成します（.docx は個人チャットでお渡しします）",
    ),
    ("clause", "契約条項のひな形を値を埋めて表示します（例：clause 再委託 notice_days=14）"),
    ("subcontract", "再委託の承認を申請します（対話形式）"),
    ("requests", "自分の申請と、自分が判断する申請の一覧を表示します"),
)
COMMAND_SCOPES = ("personal", "team")
BOT_SCOPES = ("personal", "team", "groupChat")

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DOMAIN = re.compile(
    r"(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?::[0-9]{1,5})?"
)
# A zip entry's time is stored; a fixed one keeps the package byte-identical across runs.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


EXIT_USAGE = 2  # a missing or wrong value: the admin must change the command or the settings
EXIT_WRITE = 1  # the file system refused


class PackageError(Exception):
    """A value the package cannot be built with, or a path it cannot be written to."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Developer:
    name: str = PLACEHOLDER_DEVELOPER
    website_url: str = PLACEHOLDER_WEBSITE
    privacy_url: str = PLACEHOLDER_PRIVACY
    terms_url: str = PLACEHOLDER_TERMS

    def placeholders(self) -> list[str]:
        """The options still at their example.com placeholders."""
        out = []
        if self.website_url == PLACEHOLDER_WEBSITE:
            out.append("--developer-url")
        if self.privacy_url == PLACEHOLDER_PRIVACY:
            out.append("--privacy-url")
        if self.terms_url == PLACEHOLDER_TERMS:
            out.append("--terms-url")
        return out


@dataclass(frozen=True)
class PackageOptions:
    app_id: str
    developer: Developer = field(default_factory=Developer)
    domains: tuple[str, ...] = ()


def normalize_app_id(value: str) -> str:
    """The bot's Microsoft App ID as a lowercase GUID, or PackageError."""
    text = value.strip()
    if not _GUID.fullmatch(text):
        raise PackageError(
            f"the app id must be the Azure Bot's Microsoft App ID, a GUID "
            f"(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); got {value!r}"
        )
    return text.lower()


def app_guid(app_id: str) -> str:
    """The Teams app's own id: stable for a given bot, distinct from the bot's id."""
    return str(uuid.uuid5(APP_NAMESPACE, normalize_app_id(app_id)))


def _https_url(option: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or len(value) > LIMITS["url"]:
        raise PackageError(f"{option} must be an https:// URL; got {value!r}")
    return value


def _domain(value: str) -> str:
    text = value.strip().lower()
    if "://" in text:  # a URL was given: keep its host
        text = urlsplit(text).netloc
    if not _DOMAIN.fullmatch(text):
        raise PackageError(f"--domain must be a host name such as itaku.example.com; got {value!r}")
    return text


def _slack_branding() -> tuple[str, str, str]:
    """Name, short description and colour of the Slack app (manifest.json), one brand for both."""
    try:
        info = json.loads(project_file("manifest.json").read_text(encoding="utf-8"))[
            "display_information"
        ]
        name, short, accent = info["name"], info["description"], info["background_color"]
    except (OSError, ValueError, KeyError, TypeError):
        return _FALLBACK_NAME, _FALLBACK_SHORT, _FALLBACK_ACCENT
    ok = (
        isinstance(name, str)
        and 0 < len(name) <= LIMITS["name.short"]
        and isinstance(short, str)
        and 0 < len(short) <= LIMITS["description.short"]
        and isinstance(accent, str)
        and re.fullmatch(r"#[0-9a-fA-F]{6}", accent) is not None
    )
    return (name, short, accent) if ok else (_FALLBACK_NAME, _FALLBACK_SHORT, _FALLBACK_ACCENT)


def build_manifest(options: PackageOptions) -> dict[str, Any]:
    bot_id = normalize_app_id(options.app_id)
    dev = options.developer
    if not dev.name.strip() or len(dev.name) > LIMITS["developer.name"]:
        raise PackageError(
            f"--developer-name must be 1 to {LIMITS['developer.name']} characters; got {dev.name!r}"
        )
    name, short, accent = _slack_branding()
    domains = list(dict.fromkeys(_domain(d) for d in options.domains))
    commands = [{"title": t, "description": d} for t, d in COMMANDS]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": __version__,
        "id": app_guid(bot_id),
        "localizationInfo": {"defaultLanguageTag": "ja-jp"},
        "developer": {
            "name": dev.name,
            "websiteUrl": _https_url("--developer-url", dev.website_url),
            "privacyUrl": _https_url("--privacy-url", dev.privacy_url),
            "termsOfUseUrl": _https_url("--terms-url", dev.terms_url),
        },
        "name": {"short": name, "full": f"{name}（委託先セキュリティ・アシスタント）"},
        "description": {"short": short, "full": FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": accent,
        "bots": [
            {
                "botId": bot_id,
                "scopes": list(BOT_SCOPES),
                "supportsFiles": True,  # the .docx goes to 1:1 chats through the file consent card
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": [scope], "commands": commands} for scope in COMMAND_SCOPES
                ],
            }
        ],
        "defaultInstallScope": "personal",
        "validDomains": domains,
    }


def build_package(options: PackageOptions) -> bytes:
    """The zip's bytes: manifest.json, color.png, outline.png at its root."""
    manifest = build_manifest(options)
    contents = {
        "manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode(),
        "color.png": icons.color_icon(manifest["accentColor"]),
        "outline.png": icons.outline_icon(),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in PACKAGE_FILES:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, contents[name])
    return buf.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`: a reader never sees
    half a zip, and a failure leaves any earlier package untouched."""
    path = path.absolute()  # messages name the full path: "cannot write in ." helps no one
    if path.is_dir():
        raise PackageError(f"{path} is a folder; give a file name, e.g. {path / DEFAULT_OUTPUT}")
    folder = path.parent
    if not folder.is_dir():
        raise PackageError(f"the folder {folder} does not exist")
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise PackageError(f"cannot write in {folder} ({e.strerror or e})", EXIT_WRITE) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise PackageError(f"cannot write {path} ({e.strerror or e})", EXIT_WRITE) from None


def run_teams_package(
    app_id: str, output: Path | None, developer: Developer, domains: tuple[str, ...] = ()
) -> int:
    """`itaku teams-package`: write the package, say what to do with it; an exit status."""
    if not app_id.strip():
        print(
            "itaku teams-package: TEAMS_APP_ID is not set. Put the Azure Bot's Microsoft App ID "
            "in TEAMS_APP_ID (.env, see .env.sample), or pass --app-id.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    path = output if output is not None else DEFAULT_OUTPUT
    try:
        options = PackageOptions(app_id=app_id, developer=developer, domains=domains)
        data = build_package(options)
        write_atomically(path, data)
    except PackageError as e:
        print(f"itaku teams-package: {e}", file=sys.stderr)
        return e.exit_code
    print(
        f"wrote {path} (Teams app {app_guid(app_id)}, bot {normalize_app_id(app_id)}, "
        f"version {__version__}, manifest schema {MANIFEST_VERSION}); upload it in the Teams "
        "admin center (Teams apps > Manage apps > Upload new app) or in Teams (Apps > Manage your "
        "apps > Upload an app)"
    )
    missing = developer.placeholders()
    if missing:
        print(
            "itaku teams-package: the developer links are placeholders (itaku.example.com); "
            f"set {', '.join(missing)} to your organisation's pages before publishing the app",
            file=sys.stderr,
        )
    return 0
