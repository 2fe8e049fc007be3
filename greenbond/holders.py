"""Holder details sealed to the issuer, and pseudonymous investor ids.

`HolderRegistry.registerHolder(wallet, investorId, country, expiresAt, encryptedInfo)` records, for
each wallet, the holder's personal details (the ibet PersonalInfo model: name, postal address,
contact, tax category): the sealed bytes in its HolderRegistered event, their keccak256 in the
record. Nothing readable may go on chain or into logs, so:

* `HolderDetails` holds the details in memory. Its repr and str are `HolderDetails(<redacted>)`,
  so an accidental `print`, f-string or log line shows nothing personal.
* `seal(details, issuer_public_key)` turns them into the `encryptedInfo` bytes: anyone with the
  issuer's *public* key (the registrar) can seal; only the issuer's *private* key can `unseal`.

Blob format, version 1 (at most `MAX_ENCRYPTED_INFO_LENGTH` = 2048 bytes, the contract's limit)::

    0x01 || SealedBox(issuer_public_key).encrypt(canonical_json(details))

`SealedBox` is libsodium's crypto_box_seal: a fresh ephemeral X25519 key pair per message,
XSalsa20-Poly1305, 48 bytes of overhead (32-byte ephemeral public key + 16-byte tag). Sealing the
same details twice gives different blobs, and the sender cannot decrypt what it sealed. The
canonical JSON has sorted keys, no whitespace and raw UTF-8 (`ensure_ascii=False`), with the
fields NFC-normalised. The leading byte is the format version so that the format can change
later; an unknown version, a wrong key or any tampering makes `unseal` raise
`HolderDecryptionError` (whose message never contains plaintext).

Field bounds (UTF-8 bytes): name 200, address 400, email 254, tax category one of
`TAX_CATEGORIES`. JSON escaping at most doubles a field (`"`, `\\`, newline), so the largest
possible plaintext is about 1.5 kB and the blob stays below 2048 bytes; `seal` checks it anyway.

Issuer keys
-----------
The private key file is JSON, written with mode 0600 and never overwritten::

    {"kind": "greenbond-issuer-key", "version": 1,
     "private_key": "<64 hex>", "public_key": "<64 hex>", "investor_id_salt": "<64 hex>"}

The public key file (shareable with the registrar) is::

    {"kind": "greenbond-issuer-public-key", "version": 1, "public_key": "<64 hex>"}

Location convention: dev/demo keys live under `.demo/keys/` in the repo (`.demo/` is ignored by
git): `.demo/keys/issuer.key` and `.demo/keys/issuer.pub`. The environment variables
`GREENBOND_ISSUER_KEY` and `GREENBOND_ISSUER_PUBLIC_KEY` point elsewhere (a real issuer keeps its
private key off the repo, ideally in an HSM or secret store). Never commit a private key.

Investor ids
------------
`investor_id(identifier, salt)` = keccak256(salt || "greenbond-investor-id/v1" || 0x00 ||
NFC(identifier) as UTF-8), where `identifier` is the issuer's own customer reference (customer
number, account id...) and `salt` is a 32-byte issuer-side secret (generated into the key file as
`investor_id_salt`, read with `load_investor_id_salt`). Only the hash goes on chain. Because the
salt is secret, someone reading the chain cannot recover the identifier or test guesses of it
(customer numbers are low-entropy; an unsalted or public-salt hash would be brute-forced). The
same identifier and salt always give the same id, so one investor with several wallets has one id.
"""

from __future__ import annotations

import json
import os
import re
import stat
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
from eth_utils import keccak
from nacl.public import PrivateKey, PublicKey, SealedBox

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_KEY_DIR = REPO_ROOT / ".demo" / "keys"
DEFAULT_ISSUER_KEY = DEMO_KEY_DIR / "issuer.key"
DEFAULT_ISSUER_PUBLIC_KEY = DEMO_KEY_DIR / "issuer.pub"
ISSUER_KEY_ENV = "GREENBOND_ISSUER_KEY"
ISSUER_PUBLIC_KEY_ENV = "GREENBOND_ISSUER_PUBLIC_KEY"

PRIVATE_KEY_KIND = "greenbond-issuer-key"
PUBLIC_KEY_KIND = "greenbond-issuer-public-key"
KEY_FILE_VERSION = 1

BLOB_VERSION = 1
SEAL_OVERHEAD = nacl.bindings.crypto_box_SEALBYTES  # 48: ephemeral public key + Poly1305 tag
MAX_ENCRYPTED_INFO_LENGTH = 2048  # HolderRegistry.MAX_ENCRYPTED_INFO_LENGTH

TAX_CATEGORIES = ("individual", "corporation", "non-resident")
"""individual: resident natural person; corporation: resident legal person;
non-resident: natural or legal person not resident in Japan (withholding differs)."""

MAX_NAME_BYTES = 200
MAX_ADDRESS_BYTES = 400
MAX_EMAIL_BYTES = 254  # RFC 5321 path limit

SALT_BYTES = 32
_INVESTOR_ID_DOMAIN = b"greenbond-investor-id/v1\x00"
_FIELDS = ("name", "address", "email", "tax_category")
_EMAIL = re.compile(r"[^@\s\"\\]+@[^@\s\"\\]+\.[^@\s\"\\]+")


class HolderDetailsError(ValueError):
    """A holder detail is invalid. `field` names it; the message never repeats the value."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(f"holder details: {field_name}: {message}")


class HolderDecryptionError(Exception):
    """A blob could not be unsealed: wrong key, tampered or truncated blob, or unknown version."""


class IssuerKeyError(Exception):
    """An issuer key file or value is missing or malformed."""


class IssuerKeyPermissionWarning(UserWarning):
    """The private key file can be read by users other than its owner."""


def _has_control(text: str, allow_newline: bool = False) -> bool:
    for ch in text:
        if allow_newline and ch == "\n":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):  # control characters, lone surrogates
            return True
    return False


@dataclass(frozen=True, repr=False)
class HolderDetails:
    """A holder's personal details. Fields are stripped and NFC-normalised on creation.

    name: legal name of the person or company (required).
    address: postal address; may span lines (newlines allowed), may be empty.
    email: contact address, or empty.
    tax_category: one of `TAX_CATEGORIES`.
    """

    name: str
    address: str
    email: str
    tax_category: str

    def __post_init__(self) -> None:
        for key in _FIELDS:
            value = getattr(self, key)
            if not isinstance(value, str):
                raise HolderDetailsError(key, f"must be a string, got {type(value).__name__}")
            object.__setattr__(self, key, unicodedata.normalize("NFC", value.strip()))
        limits = {"name": MAX_NAME_BYTES, "address": MAX_ADDRESS_BYTES, "email": MAX_EMAIL_BYTES}
        for key, limit in limits.items():
            value = getattr(self, key)
            if _has_control(value, allow_newline=key == "address"):
                raise HolderDetailsError(key, "contains control characters")
            size = len(value.encode("utf-8"))
            if size > limit:
                raise HolderDetailsError(key, f"is {size} bytes of UTF-8, at most {limit} allowed")
        if not self.name:
            raise HolderDetailsError("name", "must not be empty")
        if self.email and not _EMAIL.fullmatch(self.email):
            raise HolderDetailsError("email", "is not an email address")
        if self.tax_category not in TAX_CATEGORIES:
            raise HolderDetailsError("tax_category", f"must be one of {list(TAX_CATEGORIES)}")

    def __repr__(self) -> str:
        return "HolderDetails(<redacted>)"

    __str__ = __repr__

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys, no whitespace, UTF-8): the plaintext that gets sealed."""
        data = {key: getattr(self, key) for key in _FIELDS}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> HolderDetails:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or set(data) != set(_FIELDS):
            raise ValueError("holder details: expected exactly the fields " + ", ".join(_FIELDS))
        return cls(**data)


# --- keys -----------------------------------------------------------------------------------


def _hex32(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise IssuerKeyError(f"{what} must be a hex string")
    text = value[2:] if value.lower().startswith("0x") else value
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise IssuerKeyError(f"{what} must be 32 bytes of hex (64 hex digits)")
    return bytes.fromhex(text)


def _write_exclusive(path: Path, content: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # umask may have narrowed or (for 0644) reduced the mode
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(content)
    finally:
        if fd != -1:
            os.close(fd)


def public_key_path_for(private_key_path: str | Path) -> Path:
    """Where `generate_issuer_key` puts the public key: `issuer.key` -> `issuer.pub`."""
    return Path(private_key_path).with_suffix(".pub")


def default_issuer_key_path() -> Path:
    return Path(os.environ.get(ISSUER_KEY_ENV) or DEFAULT_ISSUER_KEY)


def default_issuer_public_key_path() -> Path:
    return Path(os.environ.get(ISSUER_PUBLIC_KEY_ENV) or DEFAULT_ISSUER_PUBLIC_KEY)


def generate_issuer_key(path: str | Path | None = None, public_path: str | Path | None = None) -> PrivateKey:
    """Creates an issuer key pair: the private key file (mode 0600) and a shareable public key file.

    `path` defaults to `default_issuer_key_path()`; `public_path` to `public_key_path_for(path)`.
    Refuses (FileExistsError) to overwrite either file. Parent directories are created 0700.
    """
    path = Path(path) if path is not None else default_issuer_key_path()
    public_path = Path(public_path) if public_path is not None else public_key_path_for(path)
    for target in (path, public_path):
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} already exists; refusing to overwrite an issuer key")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    public_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = PrivateKey.generate()
    private_doc = {
        "kind": PRIVATE_KEY_KIND,
        "version": KEY_FILE_VERSION,
        "private_key": bytes(key).hex(),
        "public_key": bytes(key.public_key).hex(),
        "investor_id_salt": os.urandom(SALT_BYTES).hex(),
    }
    _write_exclusive(path, json.dumps(private_doc, indent=2) + "\n", 0o600)
    public_doc = {"kind": PUBLIC_KEY_KIND, "version": KEY_FILE_VERSION, "public_key": bytes(key.public_key).hex()}
    try:
        _write_exclusive(public_path, json.dumps(public_doc, indent=2) + "\n", 0o644)
    except FileExistsError:
        path.unlink()  # appeared between the check and now: leave nothing half-made
        raise FileExistsError(f"{public_path} already exists; refusing to overwrite an issuer key") from None
    return key


def _read_key_file(path: Path, kinds: tuple[str, ...]) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IssuerKeyError(f"issuer key file not found: {path}") from None
    except IsADirectoryError:
        raise IssuerKeyError(f"issuer key path is a directory: {path}") from None
    except UnicodeDecodeError:
        raise IssuerKeyError(f"{path} is not a greenbond issuer key file (not UTF-8 text)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        raise IssuerKeyError(f"{path} is not a greenbond issuer key file (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("kind") not in kinds:
        raise IssuerKeyError(f"{path} is not a greenbond issuer key file (kind must be one of {list(kinds)})")
    if doc.get("version") != KEY_FILE_VERSION:
        raise IssuerKeyError(f"{path}: unsupported key file version {doc.get('version')!r}, expected {KEY_FILE_VERSION}")
    return doc


def _check_permissions(path: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        warnings.warn(
            f"issuer private key {path} has mode {mode:04o}; it should be 0600 (chmod 600 {path})",
            IssuerKeyPermissionWarning,
            stacklevel=3,
        )


def _private_from_doc(doc: dict, path: Path) -> PrivateKey:
    key = PrivateKey(_hex32(doc.get("private_key"), f"{path}: private_key"))
    if "public_key" in doc and bytes(key.public_key) != _hex32(doc["public_key"], f"{path}: public_key"):
        raise IssuerKeyError(f"{path}: public_key does not match private_key")
    return key


def load_issuer_private_key(path: str | Path | None = None) -> PrivateKey:
    """Reads the issuer's private key file. Warns (IssuerKeyPermissionWarning) if not mode 0600."""
    path = Path(path) if path is not None else default_issuer_key_path()
    doc = _read_key_file(path, (PRIVATE_KEY_KIND,))
    key = _private_from_doc(doc, path)
    _check_permissions(path)
    return key


def load_investor_id_salt(path: str | Path | None = None) -> bytes:
    """The issuer-side secret salt for `investor_id`, stored in the private key file."""
    path = Path(path) if path is not None else default_issuer_key_path()
    doc = _read_key_file(path, (PRIVATE_KEY_KIND,))
    if "investor_id_salt" not in doc:
        raise IssuerKeyError(f"{path}: no investor_id_salt")
    _check_permissions(path)
    return _hex32(doc["investor_id_salt"], f"{path}: investor_id_salt")


def load_issuer_public_key(path_or_hex: str | Path | bytes | PublicKey | None = None) -> PublicKey:
    """The issuer's public key from a public key file, a private key file, 64 hex digits
    (optionally 0x-prefixed), 32 raw bytes, or a PublicKey. Defaults to
    `default_issuer_public_key_path()`."""
    if path_or_hex is None:
        path_or_hex = default_issuer_public_key_path()
    if isinstance(path_or_hex, PublicKey):
        return path_or_hex
    if isinstance(path_or_hex, (bytes, bytearray)):
        if len(path_or_hex) != PublicKey.SIZE:
            raise IssuerKeyError(f"a raw public key is {PublicKey.SIZE} bytes, got {len(path_or_hex)}")
        return PublicKey(bytes(path_or_hex))
    if isinstance(path_or_hex, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]{64}", path_or_hex):
        return PublicKey(_hex32(path_or_hex, "public key"))
    if not isinstance(path_or_hex, (str, Path)):
        raise IssuerKeyError(f"expected a key file path, hex string or PublicKey, got {type(path_or_hex).__name__}")
    path = Path(path_or_hex)
    doc = _read_key_file(path, (PUBLIC_KEY_KIND, PRIVATE_KEY_KIND))
    if doc["kind"] == PRIVATE_KEY_KIND:
        return _private_from_doc(doc, path).public_key
    return PublicKey(_hex32(doc.get("public_key"), f"{path}: public_key"))


def _as_private_key(key: PrivateKey | bytes) -> PrivateKey:
    if isinstance(key, PrivateKey):
        return key
    if isinstance(key, (bytes, bytearray)) and len(key) == PrivateKey.SIZE:
        return PrivateKey(bytes(key))
    raise TypeError("private_key must be a nacl.public.PrivateKey or 32 raw bytes")


# --- sealing --------------------------------------------------------------------------------


def seal(details: HolderDetails, public_key: PublicKey | bytes | str) -> bytes:
    """The `encryptedInfo` blob: version byte + sealed box of the canonical JSON of `details`."""
    if not isinstance(details, HolderDetails):
        raise TypeError("seal() takes HolderDetails")
    box = SealedBox(load_issuer_public_key(public_key))
    blob = bytes([BLOB_VERSION]) + box.encrypt(details.to_json())
    if len(blob) > MAX_ENCRYPTED_INFO_LENGTH:  # unreachable with the field bounds; kept as a guard
        raise HolderDetailsError("details", f"sealed size {len(blob)} exceeds {MAX_ENCRYPTED_INFO_LENGTH} bytes")
    return blob


def unseal(blob: bytes, private_key: PrivateKey | bytes) -> HolderDetails:
    """Opens a blob made by `seal`. Raises HolderDecryptionError if it cannot be opened or parsed."""
    key = _as_private_key(private_key)
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise HolderDecryptionError(f"expected bytes, got {type(blob).__name__}")
    blob = bytes(blob)
    if not blob:
        raise HolderDecryptionError("empty blob")
    if blob[0] != BLOB_VERSION:
        raise HolderDecryptionError(f"unknown holder blob format version {blob[0]} (this code reads {BLOB_VERSION})")
    if len(blob) > MAX_ENCRYPTED_INFO_LENGTH:
        raise HolderDecryptionError(f"blob is {len(blob)} bytes, more than {MAX_ENCRYPTED_INFO_LENGTH}")
    try:
        plaintext = SealedBox(key).decrypt(blob[1:])
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise HolderDecryptionError("cannot decrypt holder details: wrong issuer key or tampered/truncated blob") from None
    try:
        return HolderDetails.from_json(plaintext)
    except (ValueError, TypeError):  # includes UnicodeDecodeError, JSONDecodeError, HolderDetailsError
        raise HolderDecryptionError("decrypted holder details are malformed") from None


# --- investor ids ---------------------------------------------------------------------------


def investor_id(identifier: str, salt: bytes) -> bytes:
    """The 32-byte pseudonymous `investorId` for an issuer-side identifier; see the module doc.

    `identifier` is stripped and NFC-normalised (case is kept). `salt` is the issuer's 32-byte
    secret (`load_investor_id_salt`); never publish it.
    """
    if not isinstance(identifier, str):
        raise TypeError("identifier must be a string")
    text = unicodedata.normalize("NFC", identifier.strip())
    if not text:
        raise ValueError("investor identifier must not be empty")
    if not isinstance(salt, (bytes, bytearray)) or len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes (the issuer's investor_id_salt)")
    digest = keccak(bytes(salt) + _INVESTOR_ID_DOMAIN + text.encode("utf-8"))
    if digest == bytes(32):  # the registry rejects a zero id; astronomically unlikely
        raise ValueError("investor id hashed to zero")
    return digest
