"""Sealed holder details, issuer keys and investor ids (greenbond.holders)."""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest
from nacl.public import PrivateKey

from greenbond import holders
from greenbond.holders import (
    BLOB_VERSION,
    MAX_ADDRESS_BYTES,
    MAX_EMAIL_BYTES,
    MAX_ENCRYPTED_INFO_LENGTH,
    MAX_NAME_BYTES,
    SEAL_OVERHEAD,
    HolderDecryptionError,
    HolderDetails,
    HolderDetailsError,
    IssuerKeyError,
    IssuerKeyPermissionWarning,
    generate_issuer_key,
    investor_id,
    load_investor_id_salt,
    load_issuer_private_key,
    load_issuer_public_key,
    public_key_path_for,
    seal,
    unseal,
)

ALICE = HolderDetails(
    name="Yamada Hanako",
    address="1-2-3 Marunouchi, Chiyoda-ku, Tokyo 100-0005",
    email="hanako.yamada@example.jp",
    tax_category="individual",
)


@pytest.fixture
def issuer():
    return PrivateKey.generate()


def _longest_email() -> str:
    domain = "@" + "d" * 60 + ".example.jp"
    return "a" * (MAX_EMAIL_BYTES - len(domain)) + domain


# --- HolderDetails ---------------------------------------------------------------------------


def test_round_trip(issuer):
    blob = seal(ALICE, issuer.public_key)
    assert blob[0] == BLOB_VERSION
    assert unseal(blob, issuer) == ALICE


def test_round_trip_japanese_and_multiline_address(issuer):
    details = HolderDetails(
        name="株式会社日立製作所",
        address="〒100-8280\n東京都千代田区丸の内一丁目6番6号",
        email="",
        tax_category="corporation",
    )
    assert unseal(seal(details, issuer.public_key), issuer) == details


def test_canonical_json_sorted_compact_utf8():
    raw = HolderDetails(name="山田", address="", email="", tax_category="non-resident").to_json()
    assert raw == '{"address":"","email":"","name":"山田","tax_category":"non-resident"}'.encode("utf-8")


def test_fields_are_stripped_and_nfc_normalised():
    decomposed = "Jose\u0301"  # e + combining acute
    d = HolderDetails(name=f"  {decomposed} ", address="", email="", tax_category="individual")
    assert d.name == "Jos\u00e9"


def test_repr_and_str_redact():
    for text in (repr(ALICE), str(ALICE), f"{ALICE}", f"{ALICE!r}", repr([ALICE]), repr({"h": ALICE})):
        for secret in (ALICE.name, "Yamada", "Marunouchi", ALICE.email, "individual"):
            assert secret not in text
    assert repr(ALICE) == "HolderDetails(<redacted>)"


def test_logging_does_not_leak(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("greenbond.test").info("registering %s / %r", ALICE, ALICE)
    assert "Yamada" not in caplog.text and "example.jp" not in caplog.text


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * (MAX_NAME_BYTES + 1)}, "name"),
        ({"name": "山" * (MAX_NAME_BYTES // 3 + 1)}, "name"),  # bytes, not characters
        ({"name": "tab\there"}, "name"),
        ({"address": "a" * (MAX_ADDRESS_BYTES + 1)}, "address"),
        ({"address": "nul\x00"}, "address"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "a b@example.com"}, "email"),
        ({"email": "a" * MAX_EMAIL_BYTES + "@example.com"}, "email"),
        ({"tax_category": "Individual"}, "tax_category"),
        ({"tax_category": "trust"}, "tax_category"),
        ({"tax_category": ""}, "tax_category"),
        ({"name": 42}, "name"),
        ({"email": None}, "email"),
    ],
)
def test_validation_names_field_without_value(changes, field):
    base = {"name": "Yamada Hanako", "address": "Tokyo", "email": "h@example.jp", "tax_category": "individual"}
    with pytest.raises(HolderDetailsError) as info:
        HolderDetails(**{**base, **changes})
    assert info.value.field == field
    value = changes[field]
    if isinstance(value, str) and len(value.strip()) > 3:
        assert value not in str(info.value)


def test_is_frozen():
    with pytest.raises(AttributeError):
        ALICE.name = "someone else"  # type: ignore[misc]


# --- sealing ---------------------------------------------------------------------------------


def test_wrong_key_fails(issuer):
    blob = seal(ALICE, issuer.public_key)
    with pytest.raises(HolderDecryptionError):
        unseal(blob, PrivateKey.generate())


@pytest.mark.parametrize("position", [1, 20, 40, 48, 60, -1])
def test_tampered_blob_fails(issuer, position):
    blob = bytearray(seal(ALICE, issuer.public_key))
    blob[position] ^= 0x01
    with pytest.raises(HolderDecryptionError):
        unseal(bytes(blob), issuer)


@pytest.mark.parametrize("cut", [1, 10, SEAL_OVERHEAD, SEAL_OVERHEAD + 1])
def test_truncated_blob_fails(issuer, cut):
    blob = seal(ALICE, issuer.public_key)
    with pytest.raises(HolderDecryptionError):
        unseal(blob[:cut], issuer)


def test_empty_blob_fails(issuer):
    with pytest.raises(HolderDecryptionError):
        unseal(b"", issuer)


@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_unknown_version_fails(issuer, version):
    blob = seal(ALICE, issuer.public_key)
    with pytest.raises(HolderDecryptionError, match="version"):
        unseal(bytes([version]) + blob[1:], issuer)


def test_sealed_valid_box_with_bad_content_fails(issuer):
    from nacl.public import SealedBox

    for plaintext in (b"not json", b'{"name":"x"}', json.dumps({"name": "", "address": "", "email": "", "tax_category": "individual"}).encode()):
        blob = bytes([BLOB_VERSION]) + SealedBox(issuer.public_key).encrypt(plaintext)
        with pytest.raises(HolderDecryptionError) as info:
            unseal(blob, issuer)
        assert "not json" not in str(info.value)


def test_error_messages_do_not_contain_plaintext(issuer):
    blob = seal(ALICE, issuer.public_key)
    with pytest.raises(HolderDecryptionError) as info:
        unseal(blob, PrivateKey.generate())
    assert "Yamada" not in str(info.value)


def _maximal_details() -> list[HolderDetails]:
    """Longest allowed fields, including the characters JSON has to escape (worst case)."""
    email = _longest_email()
    return [
        HolderDetails(name="x" * MAX_NAME_BYTES, address="y" * MAX_ADDRESS_BYTES, email=email, tax_category="non-resident"),
        HolderDetails(name='"' * MAX_NAME_BYTES, address="\\" * MAX_ADDRESS_BYTES, email=email, tax_category="non-resident"),
        HolderDetails(name="\\" * MAX_NAME_BYTES, address="a\n" * (MAX_ADDRESS_BYTES // 2), email=email, tax_category="corporation"),
        HolderDetails(name="山" * (MAX_NAME_BYTES // 3), address="東" * (MAX_ADDRESS_BYTES // 3), email=email, tax_category="non-resident"),
        HolderDetails(name="😀" * (MAX_NAME_BYTES // 4), address="😀" * (MAX_ADDRESS_BYTES // 4), email=email, tax_category="non-resident"),
    ]


def test_maximal_details_fit_contract_limit(issuer):
    assert len(_longest_email().encode()) == MAX_EMAIL_BYTES
    for details in _maximal_details():
        blob = seal(details, issuer.public_key)
        assert len(blob) == 1 + SEAL_OVERHEAD + len(details.to_json())
        assert len(blob) < MAX_ENCRYPTED_INFO_LENGTH
        assert unseal(blob, issuer) == details


def test_blob_contains_no_plaintext(issuer):
    details = HolderDetails(
        name="Suzuki Ichiro",
        address="4-5-6 Otemachi, Tokyo",
        email="ichiro.suzuki@example.com",
        tax_category="non-resident",
    )
    blob = seal(details, issuer.public_key)
    for text in (details.name, details.address, details.email, details.tax_category, "Suzuki", "example.com"):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert text.encode(encoding) not in blob
        assert text.encode().hex().encode() not in blob
    assert b'"name"' not in blob and b"{" not in blob[:2]


def test_two_seals_differ(issuer):
    a = seal(ALICE, issuer.public_key)
    b = seal(ALICE, issuer.public_key)
    assert a != b
    assert a[1:33] != b[1:33]  # fresh ephemeral public key each time
    assert unseal(a, issuer) == unseal(b, issuer) == ALICE


def test_seal_accepts_hex_raw_and_file(issuer, tmp_path):
    key_path = tmp_path / "issuer.key"
    key = generate_issuer_key(key_path)
    for public in (key.public_key, bytes(key.public_key), bytes(key.public_key).hex(), "0x" + bytes(key.public_key).hex(), public_key_path_for(key_path), str(public_key_path_for(key_path))):
        assert unseal(seal(ALICE, public), key) == ALICE
    assert unseal(seal(ALICE, key.public_key), bytes(key)) == ALICE


def test_seal_rejects_non_details(issuer):
    with pytest.raises(TypeError):
        seal({"name": "x"}, issuer.public_key)  # type: ignore[arg-type]


# --- issuer keys -----------------------------------------------------------------------------


def test_generate_key_mode_0600_and_public_file(tmp_path):
    key_path = tmp_path / "keys" / "issuer.key"
    key = generate_issuer_key(key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    doc = json.loads(key_path.read_text())
    assert doc["kind"] == "greenbond-issuer-key" and doc["version"] == 1
    assert bytes.fromhex(doc["private_key"]) == bytes(key)
    assert len(bytes.fromhex(doc["investor_id_salt"])) == 32
    public_path = tmp_path / "keys" / "issuer.pub"
    public_doc = json.loads(public_path.read_text())
    assert public_doc == {"kind": "greenbond-issuer-public-key", "version": 1, "public_key": bytes(key.public_key).hex()}
    assert "private_key" not in public_path.read_text()
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) & 0o077 == 0


def test_generate_key_mode_0600_despite_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        generate_issuer_key(tmp_path / "issuer.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "issuer.key").stat().st_mode) == 0o600


def test_generate_key_refuses_overwrite(tmp_path):
    key_path = tmp_path / "issuer.key"
    key = generate_issuer_key(key_path)
    before = key_path.read_bytes()
    with pytest.raises(FileExistsError):
        generate_issuer_key(key_path)
    assert key_path.read_bytes() == before
    assert bytes(load_issuer_private_key(key_path)) == bytes(key)


def test_generate_key_refuses_when_public_file_exists(tmp_path):
    (tmp_path / "issuer.pub").write_text("someone else's key")
    with pytest.raises(FileExistsError):
        generate_issuer_key(tmp_path / "issuer.key")
    assert not (tmp_path / "issuer.key").exists()


def test_load_keys_round_trip(tmp_path):
    key_path = tmp_path / "issuer.key"
    key = generate_issuer_key(key_path)
    assert bytes(load_issuer_private_key(key_path)) == bytes(key)
    assert bytes(load_issuer_public_key(public_key_path_for(key_path))) == bytes(key.public_key)
    assert bytes(load_issuer_public_key(key_path)) == bytes(key.public_key)  # derived from private file
    assert load_investor_id_salt(key_path) == bytes.fromhex(json.loads(key_path.read_text())["investor_id_salt"])


def test_load_missing_file(tmp_path):
    with pytest.raises(IssuerKeyError, match="not found"):
        load_issuer_private_key(tmp_path / "nope.key")
    with pytest.raises(IssuerKeyError, match="not found"):
        load_issuer_public_key(tmp_path / "nope.pub")


@pytest.mark.parametrize(
    "content, match",
    [
        ("not json at all", "not JSON"),
        ("[1, 2]", "kind"),
        ('{"kind": "something-else", "version": 1}', "kind"),
        ('{"kind": "greenbond-issuer-key", "version": 2, "private_key": "' + "11" * 32 + '"}', "version"),
        ('{"kind": "greenbond-issuer-key", "version": 1, "private_key": "abcd"}', "64 hex"),
        ('{"kind": "greenbond-issuer-key", "version": 1}', "private_key"),
        ('{"kind": "greenbond-issuer-key", "version": 1, "private_key": "' + "11" * 32 + '", "public_key": "' + "22" * 32 + '"}', "does not match"),
    ],
)
def test_load_private_wrong_format(tmp_path, content, match):
    path = tmp_path / "bad.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(IssuerKeyError, match=match):
        load_issuer_private_key(path)


def test_load_private_rejects_public_file(tmp_path):
    generate_issuer_key(tmp_path / "issuer.key")
    with pytest.raises(IssuerKeyError, match="kind"):
        load_issuer_private_key(tmp_path / "issuer.pub")


def test_load_binary_file(tmp_path):
    path = tmp_path / "bin.key"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(IssuerKeyError):
        load_issuer_private_key(path)


def test_wrong_permissions_warn_but_load(tmp_path):
    key_path = tmp_path / "issuer.key"
    key = generate_issuer_key(key_path)
    key_path.chmod(0o644)
    with pytest.warns(IssuerKeyPermissionWarning, match="0644"):
        loaded = load_issuer_private_key(key_path)
    assert bytes(loaded) == bytes(key)


def test_correct_permissions_do_not_warn(tmp_path, recwarn):
    key_path = tmp_path / "issuer.key"
    generate_issuer_key(key_path)
    load_issuer_private_key(key_path)
    assert not [w for w in recwarn if issubclass(w.category, IssuerKeyPermissionWarning)]


@pytest.mark.parametrize("value", ["abcd", "zz" * 32, b"\x01" * 31, 12345])
def test_load_public_bad_values(value, tmp_path):
    if value == "abcd":
        value = str(tmp_path / "abcd")  # looks like a path, does not exist
    with pytest.raises(IssuerKeyError):
        load_issuer_public_key(value)


def test_default_paths_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv(holders.ISSUER_KEY_ENV, raising=False)
    monkeypatch.delenv(holders.ISSUER_PUBLIC_KEY_ENV, raising=False)
    assert holders.default_issuer_key_path() == holders.REPO_ROOT / ".demo" / "keys" / "issuer.key"
    assert holders.default_issuer_public_key_path() == holders.REPO_ROOT / ".demo" / "keys" / "issuer.pub"
    monkeypatch.setenv(holders.ISSUER_KEY_ENV, str(tmp_path / "k.key"))
    monkeypatch.setenv(holders.ISSUER_PUBLIC_KEY_ENV, str(tmp_path / "k.pub"))
    key = generate_issuer_key()
    assert (tmp_path / "k.key").is_file() and (tmp_path / "k.pub").is_file()
    assert bytes(load_issuer_private_key()) == bytes(key)
    assert bytes(load_issuer_public_key()) == bytes(key.public_key)


def test_demo_key_dir_is_git_ignored():
    gitignore = (holders.REPO_ROOT / ".gitignore").read_text().split()
    assert ".demo/" in gitignore or ".demo" in gitignore


# --- investor ids ----------------------------------------------------------------------------

SALT = bytes(range(32))


def test_investor_id_deterministic_and_32_bytes():
    a = investor_id("CUST-000123", SALT)
    assert isinstance(a, bytes) and len(a) == 32
    assert a == investor_id("CUST-000123", SALT)
    assert a == investor_id("  CUST-000123 ", SALT)
    assert a != bytes(32)


def test_investor_id_depends_on_identifier_and_salt():
    a = investor_id("CUST-000123", SALT)
    assert a != investor_id("CUST-000124", SALT)
    assert a != investor_id("cust-000123", SALT)
    assert a != investor_id("CUST-000123", bytes(32))


def test_investor_id_is_not_a_plain_hash():
    from eth_utils import keccak

    ident = "CUST-000123"
    value = investor_id(ident, SALT)
    assert value != keccak(text=ident)
    assert ident.encode() not in value


def test_investor_id_known_vector():
    from eth_utils import keccak

    expected = keccak(SALT + b"greenbond-investor-id/v1\x00" + "CUST-000123".encode())
    assert investor_id("CUST-000123", SALT) == expected


@pytest.mark.parametrize("identifier, salt", [("", SALT), ("   ", SALT), ("x", b""), ("x", b"short"), ("x", b"\x00" * 33)])
def test_investor_id_rejects_bad_input(identifier, salt):
    with pytest.raises(ValueError):
        investor_id(identifier, salt)
