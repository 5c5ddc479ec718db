"""Access keys an operator typed: in the OS keyring, or for this session only in memory. Never on disk.

DESIGN §4: secrets never touch SQLite, logs, reports or exports. The settings store refuses anything that
looks like a key, so the keyring is the only place a typed key may live. When there is no usable keyring
(keyring's ``fail`` or ``null`` backend, a locked or broken one), the keys are kept in this process's
memory and ``SecretStore.persistent`` turns False with a message the settings page shows: the operator
learns that they must type the keys again after a restart. There is deliberately no plaintext fallback,
and this module never writes a file itself.

Each key pair is stored as up to three keyring entries of the service ``drs-desktop``, one per field
(``<label>/access_key_id`` ...): some keyrings cap the size of one secret, and a session token is long.
Log lines name the label and the backend, never a value.
"""

from __future__ import annotations

import logging
import threading

import keyring
import keyring.backends.fail
import keyring.backends.null
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

from drs_desktop.domain.connection import AccessKeyError, AccessKeyPair, KeyringStatus, StoredKeyInfo
from drs_desktop.domain.errors import DrsDesktopError

logger = logging.getLogger(__name__)

__all__ = ["SERVICE", "SecretStore", "SecretStoreError"]

#: The keyring service name every entry of DRS Desktop is filed under.
SERVICE = "drs-desktop"
_ACCESS_KEY_ID = "access_key_id"
_SECRET_ACCESS_KEY = "secret_access_key"
_SESSION_TOKEN = "session_token"
#: Single secrets (``save_secret``) are filed as ``secret/<label>``, apart from key pairs' entries.
_SECRET_PREFIX = "secret/"


class SecretStoreError(DrsDesktopError):
    """Keys that cannot be stored as given (a label that is not one line, not an AccessKeyPair)."""


def _check_label(label: str) -> str:
    cleaned = label.strip()
    if not cleaned or "\n" in cleaned or "/" in cleaned:
        raise SecretStoreError(f"cannot store keys under the label {label!r}")
    return cleaned


class SecretStore:
    """Typed AWS keys per profile label (``services.connection`` uses the profile name, or "default").

    Thread-safe: the settings thread saves keys while the aws thread may read them. The keyring
    backend is looked up on first use, never at construction (nothing does I/O at import or build time);
    pass ``backend`` to pin one (tests set a backend with ``keyring.set_keyring`` instead).
    """

    def __init__(self, backend: KeyringBackend | None = None, *, service: str = SERVICE) -> None:
        self._given = backend
        self._service = service
        self._lock = threading.RLock()
        self._resolved = False
        self._backend: KeyringBackend | None = None
        self._backend_name = ""
        self._problem = ""
        self._memory: dict[str, AccessKeyPair] = {}
        self._memory_values: dict[str, str] = {}

    # -- status ---------------------------------------------------------------------------------------

    @property
    def persistent(self) -> bool:
        """True when saved keys go to an OS keyring (and so outlive this process)."""
        with self._lock:
            return self._keyring() is not None

    @property
    def message(self) -> str:
        """One sentence for the settings page: where typed keys are kept."""
        return self.status().message

    def status(self) -> KeyringStatus:
        with self._lock:
            backend = self._keyring()
            if backend is not None:
                return KeyringStatus(
                    True,
                    self._backend_name,
                    f"Access keys are saved in the OS keyring ({self._backend_name}).",
                )
            return KeyringStatus(
                False,
                self._backend_name,
                f"No usable OS keyring ({self._problem}): access keys you type are kept in memory "
                "until DRS Desktop closes, and must be typed again next time. They are never written "
                "to disk.",
            )

    # -- keys -----------------------------------------------------------------------------------------

    def save_keys(self, label: str, keys: AccessKeyPair) -> bool:
        """Store ``keys`` under ``label``; True when they went to the OS keyring, False when they are
        kept in memory for this session (see ``message``)."""
        label = _check_label(label)
        if not isinstance(keys, AccessKeyPair):
            raise SecretStoreError("save_keys needs an AccessKeyPair")
        with self._lock:
            backend = self._keyring()
            if backend is not None:
                try:
                    self._write(backend, label, keys)
                    if self._read(backend, label) != keys:
                        raise KeyringError("the keyring did not give back what was stored")
                except Exception as exc:
                    self._give_up(f"it refused to store keys: {type(exc).__name__}")
                    self._erase(backend, label)
                else:
                    self._memory.pop(label, None)
                    logger.info("access keys for %s saved in the OS keyring (%s)", label, self._backend_name)
                    return True
            self._memory[label] = keys
            logger.warning(
                "access keys for %s kept in memory for this session only (%s)", label, self._problem
            )
            return False

    def load_keys(self, label: str) -> AccessKeyPair | None:
        """The keys stored under ``label`` (memory first: a save this session that fell back wins)."""
        label = _check_label(label)
        with self._lock:
            if label in self._memory:
                return self._memory[label]
            backend = self._keyring()
            if backend is None:
                return None
            try:
                return self._read(backend, label)
            except Exception as exc:
                logger.warning(
                    "cannot read the keys for %s from the OS keyring: %s", label, type(exc).__name__
                )
                return None

    def delete_keys(self, label: str) -> None:
        """Forget the keys of ``label`` everywhere they may be (memory and keyring)."""
        label = _check_label(label)
        with self._lock:
            self._memory.pop(label, None)
            backend = self._keyring()
            if backend is not None:
                self._erase(backend, label)
            logger.info("access keys for %s deleted", label)

    def has_keys(self, label: str) -> bool:
        return self.load_keys(label) is not None

    def describe(self, label: str) -> StoredKeyInfo | None:
        """What the settings page may show about the keys of ``label``; None when there are none."""
        label = _check_label(label)
        with self._lock:
            keys = self.load_keys(label)
            if keys is None:
                return None
            return StoredKeyInfo(
                label=label,
                masked_key_id=keys.masked_key_id,
                has_session_token=keys.session_token is not None,
                persistent=label not in self._memory,
            )

    # -- single secrets (an alert route's webhook URL) ------------------------------------------------

    def save_secret(self, label: str, value: str) -> bool:
        """Store one secret value (a webhook URL) under ``secret/<label>``; True when it went to the OS
        keyring, False when it is kept in memory for this session. The value is never logged."""
        label = _check_label(label)
        if not value:
            raise SecretStoreError("an empty secret cannot be stored")
        name = f"{_SECRET_PREFIX}{label}"
        with self._lock:
            backend = self._keyring()
            if backend is not None:
                try:
                    backend.set_password(self._service, name, value)
                    if backend.get_password(self._service, name) != value:
                        raise KeyringError("the keyring did not give back what was stored")
                except Exception as exc:
                    self._give_up(f"it refused to store a secret: {type(exc).__name__}")
                    self._delete_entry(backend, name)
                else:
                    self._memory_values.pop(label, None)
                    logger.info("secret %s saved in the OS keyring (%s)", label, self._backend_name)
                    return True
            self._memory_values[label] = value
            logger.warning("secret %s kept in memory for this session only (%s)", label, self._problem)
            return False

    def load_secret(self, label: str) -> str | None:
        """The secret stored under ``label`` (memory first), or None."""
        label = _check_label(label)
        with self._lock:
            if label in self._memory_values:
                return self._memory_values[label]
            backend = self._keyring()
            if backend is None:
                return None
            try:
                return backend.get_password(self._service, f"{_SECRET_PREFIX}{label}") or None
            except Exception as exc:
                logger.warning("cannot read secret %s from the OS keyring: %s", label, type(exc).__name__)
                return None

    def delete_secret(self, label: str) -> None:
        """Forget the secret of ``label`` in memory and in the keyring."""
        label = _check_label(label)
        with self._lock:
            self._memory_values.pop(label, None)
            backend = self._keyring()
            if backend is not None:
                self._delete_entry(backend, f"{_SECRET_PREFIX}{label}")
            logger.info("secret %s deleted", label)

    # -- keyring plumbing -----------------------------------------------------------------------------

    def _keyring(self) -> KeyringBackend | None:
        """The usable backend, or None (the reason in ``_problem``). Called with the lock held."""
        if not self._resolved:
            self._resolved = True
            try:
                backend = self._given if self._given is not None else keyring.get_keyring()
            except Exception as exc:
                self._backend_name = "none"
                self._problem = f"the keyring could not be loaded: {type(exc).__name__}"
                logger.warning("no OS keyring: %s", self._problem)
                return None
            self._backend_name = _backend_name(backend)
            if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
                self._problem = "no keyring backend is available on this system"
                logger.warning("no usable OS keyring (%s); typed keys stay in memory", self._backend_name)
                return None
            self._backend = backend
        return self._backend

    def _give_up(self, problem: str) -> None:
        self._backend = None
        self._problem = problem
        logger.warning("OS keyring %s unusable (%s); typed keys stay in memory", self._backend_name, problem)

    def _write(self, backend: KeyringBackend, label: str, keys: AccessKeyPair) -> None:
        backend.set_password(self._service, f"{label}/{_SECRET_ACCESS_KEY}", keys.secret_access_key)
        if keys.session_token is not None:
            backend.set_password(self._service, f"{label}/{_SESSION_TOKEN}", keys.session_token)
        else:
            self._delete_entry(backend, f"{label}/{_SESSION_TOKEN}")
        # The key ID last: an entry set with no key ID reads back as "no keys", never half a pair.
        backend.set_password(self._service, f"{label}/{_ACCESS_KEY_ID}", keys.access_key_id)

    def _read(self, backend: KeyringBackend, label: str) -> AccessKeyPair | None:
        key_id = backend.get_password(self._service, f"{label}/{_ACCESS_KEY_ID}")
        secret = backend.get_password(self._service, f"{label}/{_SECRET_ACCESS_KEY}")
        if not key_id or not secret:
            return None
        token = backend.get_password(self._service, f"{label}/{_SESSION_TOKEN}")
        try:
            return AccessKeyPair(key_id, secret, token or None)
        except AccessKeyError:
            logger.warning("the keys stored for %s in the OS keyring are malformed; ignoring them", label)
            return None

    def _erase(self, backend: KeyringBackend, label: str) -> None:
        for name in (_ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _SESSION_TOKEN):
            self._delete_entry(backend, f"{label}/{name}")

    def _delete_entry(self, backend: KeyringBackend, username: str) -> None:
        try:
            backend.delete_password(self._service, username)
        except PasswordDeleteError:
            pass  # there was no such entry
        except Exception as exc:
            logger.warning("cannot delete a keyring entry of %s: %s", self._service, type(exc).__name__)


def _backend_name(backend: KeyringBackend) -> str:
    try:
        return str(backend.name)
    except Exception:
        return type(backend).__name__
