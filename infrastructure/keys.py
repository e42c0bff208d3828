"""Signing keys: the active Ed25519 key, every public key ever used, and rotation.

Key ids follow C2SP signed-note: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4], written
as 8 hex digits. The trust anchor is the set of public keys in the data directory (and
in an export bundle), never the database: a key someone inserts into the database next
to their forged events must not make them verify.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_ALG = b"\x01"
_KEY_ID = re.compile(r"^[0-9a-f]{8}$")


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> str:
    digest = hashlib.sha256(name.encode() + b"\n" + ED25519_ALG + raw_public(public)).digest()
    return digest[:4].hex()


def vkey(name: str, public: Ed25519PublicKey) -> str:
    """The C2SP verifier key string ``<name>+<hex key id>+<base64(0x01 ‖ key)>``."""
    encoded = base64.b64encode(ED25519_ALG + raw_public(public)).decode()
    return f"{name}+{key_id(name, public)}+{encoded}"


@dataclass(frozen=True)
class PublicKeyInfo:
    key_id: str
    name: str
    public_key: Ed25519PublicKey
    active: bool

    @property
    def pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @property
    def vkey(self) -> str:
        return vkey(self.name, self.public_key)

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "vkey": self.vkey,
            "public_key_pem": self.pem,
            "active": self.active,
        }


class PublicKeys:
    """Public keys by id; verifies signatures. Used alone by the offline verifier."""

    def __init__(self, keys: dict[str, PublicKeyInfo]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_dicts(cls, items: list[dict[str, object]]) -> PublicKeys:
        keys: dict[str, PublicKeyInfo] = {}
        for item in items:
            public = serialization.load_pem_public_key(str(item["public_key_pem"]).encode())
            if not isinstance(public, Ed25519PublicKey):
                raise ValueError("only Ed25519 public keys are accepted")
            name = str(item["name"])
            kid = key_id(name, public)
            if kid != item.get("key_id", kid):
                raise ValueError(f"key id {item.get('key_id')} does not match its public key")
            keys[kid] = PublicKeyInfo(kid, name, public, bool(item.get("active", False)))
        return cls(keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys or (isinstance(kid, str) and self._found_later(kid))

    def _found_later(self, kid: str) -> bool:
        """A key unknown here may have been added since (``custody keys rotate`` in
        another process): the keyring re-reads its keys; a plain key set does not."""
        return False

    def get(self, kid: str) -> PublicKeyInfo | None:
        return self._keys.get(kid)

    def all(self) -> list[PublicKeyInfo]:
        return sorted(self._keys.values(), key=lambda k: (not k.active, k.key_id))

    def raw(self) -> dict[str, bytes]:
        return {kid: raw_public(info.public_key) for kid, info in self._keys.items()}

    def verify(self, kid: str, signature: bytes, message: bytes) -> bool:
        info = self._keys.get(kid)
        if info is None and self._found_later(kid):
            info = self._keys.get(kid)
        if info is None:
            return False
        try:
            info.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Keyring(PublicKeys):
    """The service's keys: signs with the active one, verifies with all it ever had."""

    def __init__(self, name: str, private_path: Path, public_dir: Path) -> None:
        self.name = name
        self._private_path = private_path
        self._public_dir = public_dir
        self._lock = threading.RLock()
        self._last_reload = 0.0
        private = self._load_or_create()
        # One tuple, swapped whole by rotate(): a signature and its key id always match.
        self._active = (key_id(name, private.public_key()), private)
        self._on_disk = _file_identity(private_path)
        self._last_look = time.monotonic()
        super().__init__(self._load_public())

    ROTATION_CHECK_SECONDS = 1.0
    """How often the private key file is looked at (one ``stat``): a rotation made by
    another process (``custody keys rotate``) signs this process's next save after at
    most this long, and ``/keys`` shows the new key as active."""

    @property
    def active_key_id(self) -> str:
        return self.current()[0]

    def current(self) -> tuple[str, Ed25519PrivateKey]:
        """The active key id and key, read together; picks up a rotation made by another
        process (the private key file replaced) within ``ROTATION_CHECK_SECONDS``."""
        now = time.monotonic()
        if now - self._last_look >= self.ROTATION_CHECK_SECONDS:
            self._last_look = now
            self._pick_up_rotation()
        return self._active

    def _pick_up_rotation(self) -> None:
        try:
            seen = _file_identity(self._private_path)
        except OSError:
            return  # mid-replace or gone: keep signing with the key in memory
        if seen == self._on_disk:
            return
        with self._lock:
            if seen == self._on_disk:
                return
            loaded = serialization.load_pem_private_key(self._private_path.read_bytes(),
                                                        password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                return
            self._remember(loaded.public_key())
            self._on_disk = seen
            self._active = (key_id(self.name, loaded.public_key()), loaded)
            self._keys = self._load_public()

    def all(self) -> list[PublicKeyInfo]:
        self.current()
        return super().all()

    def _found_later(self, kid: str) -> bool:
        if not _KEY_ID.match(kid):
            return False
        now = time.monotonic()
        if now - self._last_reload < 1.0:  # a burst of unknown ids re-reads once a second
            return kid in self._keys
        self._last_reload = now
        with self._lock:
            self._keys = self._load_public()
        return kid in self._keys

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return self.current()[1]

    def sign(self, message: bytes) -> tuple[str, bytes]:
        kid, key = self.current()
        return kid, key.sign(message)

    def signer(self) -> tuple[str, Ed25519PrivateKey]:
        """The active key id and key, read together."""
        return self.current()

    def rotate(self, hand_over: Callable[[Ed25519PrivateKey, Ed25519PrivateKey], object]
               | None = None) -> str:
        """Start a new key; old public keys stay, so old signatures still verify.

        ``hand_over(old, new)`` runs before the new key replaces the old one on disk: the
        log uses it to sign, with both keys, a checkpoint naming the new key as the old
        one's successor (so an auditor who trusts the old key can trust the new one).
        If it raises, nothing changes."""
        with self._lock:
            new = Ed25519PrivateKey.generate()
            staged = _stage_private(self._private_path, new)  # on disk before it is named
            try:
                if hand_over is not None:
                    hand_over(self._active[1], new)
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            staged.replace(self._private_path)
            self._remember(new.public_key())
            self._on_disk = _file_identity(self._private_path)
            self._active = (key_id(self.name, new.public_key()), new)
            self._keys = self._load_public()
            return self.active_key_id

    def _load_or_create(self) -> Ed25519PrivateKey:
        if self._private_path.exists():
            loaded = serialization.load_pem_private_key(
                self._private_path.read_bytes(), password=None
            )
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{self._private_path} is not an Ed25519 private key")
            key = loaded
        else:
            key = Ed25519PrivateKey.generate()
            _write_private(self._private_path, key)
        self._remember(key.public_key())
        return key

    def _remember(self, public: Ed25519PublicKey) -> None:
        self._public_dir.mkdir(parents=True, exist_ok=True)
        kid = key_id(self.name, public)
        path = self._public_dir / f"{kid}.json"
        if not path.exists():
            info = PublicKeyInfo(kid, self.name, public, active=False)
            record = {
                "key_id": kid,
                "name": self.name,
                "public_key_pem": info.pem,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            path.write_text(json.dumps(record, indent=2) + "\n")

    def _load_public(self) -> dict[str, PublicKeyInfo]:
        active = self._active[0]
        keys: dict[str, PublicKeyInfo] = {}
        for path in sorted(self._public_dir.glob("*.json")):
            item = json.loads(path.read_text())
            public = serialization.load_pem_public_key(item["public_key_pem"].encode())
            if isinstance(public, Ed25519PublicKey):
                kid = key_id(item["name"], public)
                keys[kid] = PublicKeyInfo(kid, item["name"], public, kid == active)
        return keys


def _file_identity(path: Path) -> tuple[int, int, int]:
    """What changes when the file is replaced: inode, size, modification time."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def _stage_private(path: Path, key: Ed25519PrivateKey) -> Path:
    """Write ``key`` (0600, flushed to disk) beside ``path``; return where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    return tmp


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    _stage_private(path, key).replace(path)


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """A random secret kept in a file of mode 0600, made on first use."""
    if path.exists():
        data = path.read_bytes()
        if len(data) != size:
            raise ValueError(f"{path} must hold exactly {size} bytes")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return data
