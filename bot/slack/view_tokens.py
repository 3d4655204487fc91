"""What a dialog modal carries in private_metadata: which dialog, step and version it shows,
signed, so a submission that was tampered with or forged is refused before it is read."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class ViewRef:
    dialog_id: str
    step: str
    version: int


class ViewSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"itaku-view:" + secret.encode()).digest()

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, ref: ViewRef) -> str:
        body = f"{ref.dialog_id}.{ref.step}.{ref.version}"
        return f"{body}.{self._mac(body)}"

    def verify(self, token: object) -> ViewRef | None:
        if not isinstance(token, str) or len(token) > 200:
            return None
        body, _, mac = token.rpartition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            return None
        parts = body.split(".")
        if len(parts) != 3 or not all(parts) or not parts[2].isdigit():
            return None
        dialog_id, step, version = parts
        return ViewRef(dialog_id, step, int(version))
