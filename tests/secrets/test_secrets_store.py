"""SecretStore: typed keys in the OS keyring only; memory for the session when there is no keyring."""

from __future__ import annotations

import logging

import keyring.backends.null
import pytest

from drs_desktop.domain.connection import AccessKeyError, AccessKeyPair
from drs_desktop.secrets import SERVICE, SecretStore, SecretStoreError
from tests.secrets.memory_keyring import LockedKeyring, MemoryKeyring, install, install_fail, install_memory

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE//token+value="


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    return install_memory(monkeypatch)


def test_keys_round_trip_through_the_keyring(memory: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = SecretStore()
    assert store.persistent
    assert store.save_keys("dr-admin", AccessKeyPair(KEY_ID, SECRET, TOKEN)) is True
    assert memory.entries[(SERVICE, "dr-admin/access_key_id")] == KEY_ID
    assert memory.entries[(SERVICE, "dr-admin/secret_access_key")] == SECRET
    assert memory.entries[(SERVICE, "dr-admin/session_token")] == TOKEN
    # A new store (a restart) reads them back from the keyring.
    again = SecretStore()
    assert again.load_keys("dr-admin") == AccessKeyPair(KEY_ID, SECRET, TOKEN)
    info = again.describe("dr-admin")
    assert info is not None and info.masked_key_id == "…MPLE" and info.has_session_token and info.persistent
    assert again.load_keys("other") is None and again.describe("other") is None
    assert SECRET not in caplog.text and TOKEN not in caplog.text and KEY_ID not in caplog.text


def test_saving_without_a_token_removes_an_old_one(memory: MemoryKeyring) -> None:
    store = SecretStore()
    store.save_keys("default", AccessKeyPair(KEY_ID, SECRET, TOKEN))
    store.save_keys("default", AccessKeyPair(KEY_ID, SECRET))
    assert (SERVICE, "default/session_token") not in memory.entries
    assert store.load_keys("default") == AccessKeyPair(KEY_ID, SECRET)


def test_delete_removes_every_entry(memory: MemoryKeyring) -> None:
    store = SecretStore()
    store.save_keys("default", AccessKeyPair(KEY_ID, SECRET, TOKEN))
    store.save_keys("kept", AccessKeyPair(KEY_ID, SECRET))
    store.delete_keys("default")
    assert store.load_keys("default") is None
    assert {username for _, username in memory.entries} == {"kept/access_key_id", "kept/secret_access_key"}
    store.delete_keys("never-saved")  # nothing to delete is fine


def test_fail_backend_keeps_keys_in_memory_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    install_fail(monkeypatch)
    caplog.set_level(logging.DEBUG)
    store = SecretStore()
    assert store.persistent is False
    status = store.status()
    assert not status.persistent and "in memory" in status.message and "never written" in status.message
    assert store.save_keys("default", AccessKeyPair(KEY_ID, SECRET)) is False
    assert store.load_keys("default") == AccessKeyPair(KEY_ID, SECRET)
    info = store.describe("default")
    assert info is not None and info.persistent is False
    assert SecretStore().load_keys("default") is None  # a restart has forgotten them
    assert any(
        "memory" in record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING
    )
    assert SECRET not in caplog.text


def test_null_backend_counts_as_no_keyring() -> None:
    store = SecretStore(keyring.backends.null.Keyring())
    assert not store.persistent
    store.save_keys("default", AccessKeyPair(KEY_ID, SECRET))
    assert store.load_keys("default") == AccessKeyPair(KEY_ID, SECRET)


def test_a_keyring_that_refuses_to_store_falls_back_to_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    locked = LockedKeyring()
    install(monkeypatch, locked)
    store = SecretStore()
    assert store.persistent  # looks fine until it is asked to store
    assert store.save_keys("default", AccessKeyPair(KEY_ID, SECRET, TOKEN)) is False
    assert not store.persistent and "refused" in store.message
    assert store.load_keys("default") == AccessKeyPair(KEY_ID, SECRET, TOKEN)
    assert locked.entries == {}


def test_memory_keys_win_over_older_keyring_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    memory = install_memory(monkeypatch)
    SecretStore().save_keys("default", AccessKeyPair("AKIAOLDOLDOLDOLD0001", SECRET))
    store = SecretStore()
    memory.set_password = LockedKeyring.set_password.__get__(memory)  # type: ignore[method-assign]
    store.save_keys("default", AccessKeyPair(KEY_ID, SECRET))
    assert store.load_keys("default") == AccessKeyPair(KEY_ID, SECRET)


def test_repr_and_str_never_show_secrets() -> None:
    keys = AccessKeyPair(KEY_ID, SECRET, TOKEN)
    for text in (repr(keys), str(keys), f"{keys}"):
        assert SECRET not in text and TOKEN not in text and KEY_ID not in text
        assert "…MPLE" in text


@pytest.mark.parametrize(
    ("key_id", "secret", "token"),
    [("", SECRET, None), (KEY_ID, "", None), (KEY_ID, " padded", None), (KEY_ID, SECRET, "two\nlines")],
)
def test_malformed_pairs_are_refused(key_id: str, secret: str, token: str | None) -> None:
    with pytest.raises(AccessKeyError):
        AccessKeyPair(key_id, secret, token)


def test_labels_must_be_one_plain_line(memory: MemoryKeyring) -> None:
    store = SecretStore()
    for label in ("", "  ", "a/b", "two\nlines"):
        with pytest.raises(SecretStoreError):
            store.save_keys(label, AccessKeyPair(KEY_ID, SECRET))
    assert memory.entries == {}
