"""A file for a user's OneDrive, after they accepted a file consent card: the bytes PUT to the
upload session Teams handed over (`uploadInfo.uploadUrl`), then a file info card in the chat.

The upload URL is the user's OneDrive upload session, not the Bot Connector: it is pre-authorised
and takes no bot token (none is ever sent to it). Only https is allowed (or http on a loopback
address, for the offline stand-in). The whole file goes in one PUT with its Content-Range, as a
OneDrive upload session takes a last fragment (files of this size need no more than one)."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import Any

from bot.teams.connector import RETRY_STATUSES, ConnectorError, safe_service_url

log = logging.getLogger(__name__)

FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
MAX_UPLOAD_BYTES = 60 * 1024 * 1024  # one PUT of an upload session takes at most 60 MiB


def content_range(size: int) -> str:
    return f"bytes 0-{size - 1}/{size}"


def upload(url: str, data: bytes, *, timeout_s: float = 30.0) -> None:
    """PUT the whole file to an upload session. Raises ConnectorError: retry=True when the
    session may take it later (429, 5xx, a dropped connection), retry=False when it refused
    (an expired session, a bad URL)."""
    if not safe_service_url(url):
        raise ConnectorError("upload URL refused", retry=False)
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise ConnectorError("upload size", retry=False)
    request = urllib.request.Request(
        url,
        data=data,
        method="PUT",
        headers={
            "Content-Length": str(len(data)),
            "Content-Range": content_range(len(data)),
            "Content-Type": "application/octet-stream",
        },
    )
    # plain http only ever goes to a loopback address: never through a proxy
    handlers = [] if url.startswith("https:") else [urllib.request.ProxyHandler({})]
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as e:
        status = e.code
        e.close()
        raise ConnectorError(f"upload HTTP {status}", status in RETRY_STATUSES, status) from None
    except (OSError, ValueError) as e:  # URLError, a timeout, a reset connection
        raise ConnectorError(f"upload {type(e).__name__}", retry=True) from None


def file_info_card(
    name: str, content_url: str, unique_id: str | None, file_type: str | None
) -> dict[str, Any]:
    """The attachment that shows an uploaded file in the chat (from the accepted consent's
    uploadInfo: its name, where it now lives, its id and type)."""
    kind = file_type or (name.rpartition(".")[2] if "." in name else "")
    return {
        "contentType": FILE_INFO,
        "contentUrl": content_url,
        "name": name,
        "content": {"uniqueId": unique_id or "", "fileType": kind},
    }
