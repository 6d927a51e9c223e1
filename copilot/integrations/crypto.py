"""Connector secrets at rest: Fernet with a key from OMNICOPILOT_SECRET_KEY or a key file in the data directory."""
from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from copilot.config import Settings


def fernet_for(settings: Settings) -> Fernet:
    if settings.secret_key is not None:
        digest = hashlib.sha256(settings.secret_key.get_secret_value().encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    key_file = settings.data_dir / "secret.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        create_private_file(key_file, Fernet.generate_key())
    return Fernet(key_file.read_bytes().strip())


def create_private_file(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another worker made it first
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def encrypt_json(fernet: Fernet, data: dict[str, Any]) -> str:
    return fernet.encrypt(json.dumps(data).encode()).decode()


def decrypt_json(fernet: Fernet, token: str) -> dict[str, Any]:
    try:
        return json.loads(fernet.decrypt(token.encode()))
    except InvalidToken as err:
        raise ValueError("connector settings cannot be decrypted: was OMNICOPILOT_SECRET_KEY changed?") from err
