"""The bundle reaches a Linux desktop's keyring: under a D-Bus session with GNOME Keyring's Secret Service
running (unlocked, as after a desktop login), the bundle's self-test finds the SecretService backend and
stores, reads back and deletes an entry through it (the Secret Service's encrypted session included).
Without the backends PyInstaller must collect (keyring's entry points, secretstorage, jeepney,
cryptography), typed keys would silently stay in memory on every desktop."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Bundle

pytestmark = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs dbus-run-session and gnome-keyring-daemon (scripts/test.sh installs gnome-keyring)",
)


def test_the_bundle_uses_the_desktop_keyring(bundle: Bundle, tmp_path: Path) -> None:
    env = bundle.env(tmp_path)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["DRS_SELF_TEST_KEYRING"] = "roundtrip"  # store, read back, delete: secretstorage's session too
    session = (
        "printf 'self-test-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
        f"exec '{bundle.executable}' --self-test"
    )
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", session],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    backend = "keyring.backends.SecretService.Keyring"
    line = f"self-test: keyring: {backend}; an entry stored, read back and deleted"
    assert line in done.stdout, done.stdout
