"""The packaged application (PyInstaller, ``build.spec``) as an operator gets it: it tests itself, serves
every CLI command like the installed one, stays within its size, and carries only what the app uses.

The bundle runs in a clean environment (no PYTHONPATH, no virtual environment on PATH), so nothing of the
checkout can stand in for a file the bundle lacks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drs_desktop import __version__
from drs_desktop.aws.services import BOTOCORE_SHARED_DATA, USED
from tests.process_output import first_line

from .conftest import ROOT, Bundle

#: The unpacked bundle's budget (issue 12): docs/packaging.md has the measured size.
MAX_BUNDLE_BYTES = 150 * 1024 * 1024
SAMPLE_PLAN = ROOT / "resources" / "sample-plan.yaml"
SAMPLE_NAME = "Payments and orders (sample)"


def run_bundle(
    bundle: Bundle, home: Path, *args: str, timeout: float = 180, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = bundle.env(home)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(env_extra or {})
    return subprocess.run(
        [str(bundle.executable), *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=home
    )


def run_installed(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "DRS_DESKTOP_HOME": str(home / "drs-home"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "drs_desktop", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=home,
    )


def test_the_bundle_tests_itself(bundle: Bundle, tmp_path: Path) -> None:
    """``--self-test``: the window offscreen, a client per used service, the keyring, a 3-server drill."""
    done = run_bundle(bundle, tmp_path, "--self-test", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "self-test: ok"
    assert f"({'bundle ' + str(bundle.folder / '_internal')})" in lines[0], lines[0]
    assert "Qt platform offscreen" in lines[0]
    clients = next(line for line in lines if line.startswith("self-test: aws clients:"))
    for service in USED:
        assert f" {service} (" in clients, clients
    assert (
        "simulator model" in clients and "CA certificates (cacert.pem)" in clients
    )  # HTTPS to AWS verifiable
    assert any(line.startswith("self-test: keyring: keyring.backends.") for line in lines)
    assert any("3-server drill in 2 waves SUCCEEDED" in line for line in lines)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bootloader's library path")
@pytest.mark.parametrize("caller", [None, "/opt/vendor/lib"])
def test_programs_the_bundle_starts_get_the_callers_library_path(
    bundle: Bundle, tmp_path: Path, caller: str | None
) -> None:
    """The bootloader points LD_LIBRARY_PATH at the bundle's libraries; the browser an SSO sign-in opens
    (xdg-open) or a profile's credential process must not load them."""
    extra = {"LD_LIBRARY_PATH": caller} if caller else None
    done = run_bundle(bundle, tmp_path, "--self-test", timeout=300, env_extra=extra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"self-test: child processes: LD_LIBRARY_PATH {caller or ''!r}, as the caller set it" in done.stdout
    )


def test_one_executable_serves_every_command_like_the_installed_one(bundle: Bundle, tmp_path: Path) -> None:
    version = run_bundle(bundle, tmp_path, "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"drs-desktop {__version__}")

    (tmp_path / "bundle").mkdir()
    (tmp_path / "installed").mkdir()
    imported = run_bundle(bundle, tmp_path / "bundle", "plan", "import", str(SAMPLE_PLAN))
    assert imported.returncode == 0, imported.stderr
    assert run_installed(tmp_path / "installed", "plan", "import", str(SAMPLE_PLAN)).returncode == 0
    bundle_list = run_bundle(bundle, tmp_path / "bundle", "plan", "list", "--json")
    installed_list = run_installed(tmp_path / "installed", "plan", "list", "--json")
    assert bundle_list.returncode == installed_list.returncode == 0, bundle_list.stderr
    assert json.loads(bundle_list.stdout)[0]["name"] == SAMPLE_NAME

    def without_times(text: str) -> list[str]:
        return [line for line in text.splitlines() if "_at" not in line and "id" not in line]

    assert without_times(bundle_list.stdout) == without_times(installed_list.stdout)

    exported = run_bundle(bundle, tmp_path / "bundle", "plan", "export", SAMPLE_NAME)
    assert exported.returncode == 0, exported.stderr
    # the sample plan has automation steps (format 3), a test brief and a cadence (plan format 4): the
    # bundle writes them back whole
    assert "format: drs-desktop/plan@4" in exported.stdout
    assert "kind: health-check" in exported.stdout and "kind: ssm" in exported.stdout
    assert "scenario: Loss of the primary site" in exported.stdout and "every_days: 90" in exported.stdout

    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("format: drs-desktop/plan@1\nname: x\nrto_minutes: -5\nwaves: []\n", encoding="utf-8")
    validated = run_bundle(bundle, tmp_path / "bundle", "plan", "validate", str(invalid))
    assert validated.returncode == 1 and validated.stdout.strip()

    usage = run_bundle(bundle, tmp_path, "plan", "frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_a_drill_and_its_pdf_report_from_the_bundle(bundle: Bundle, tmp_path: Path) -> None:
    """The CLI's own run against the bundle's simulator, then the auditor's PDF (Qt, headless)."""
    simulator = subprocess.Popen(
        [str(bundle.executable), "simulator", "--port", "0", "--scenario", "small", "--time-scale", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=bundle.env(tmp_path),
    )
    try:
        endpoint = first_line(simulator)
        assert endpoint.startswith("http://127.0.0.1:"), endpoint
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            "format: drs-desktop/plan@1\nname: Bundle drill\nwaves:\n  - name: Web\n"
            "    servers: [s-placeholder]\n",
            encoding="utf-8",
        )
        servers = _simulator_server_ids(endpoint)
        plan.write_text(
            plan.read_text(encoding="utf-8").replace("s-placeholder", servers[0]), encoding="utf-8"
        )
        assert run_bundle(bundle, tmp_path, "plan", "import", str(plan)).returncode == 0
        env = bundle.env(tmp_path)
        env.update(AWS_ACCESS_KEY_ID="bundle-test", AWS_SECRET_ACCESS_KEY="bundle-test")
        ran = subprocess.run(
            [str(bundle.executable), "run", "Bundle drill", "--mode", "drill", "--endpoint", endpoint,
             "--region", "us-east-1", "--poll-interval", "30", "--json"],
            capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
        listed = run_bundle(bundle, tmp_path, "executions", "list", "--json")
        (execution,) = json.loads(listed.stdout)
        execution_id = execution["execution_id"]
        pdf = tmp_path / "evidence.pdf"
        env = bundle.env(tmp_path)  # no QT_QPA_PLATFORM, no display: the CLI picks offscreen itself
        env.pop("DISPLAY", None)
        report = subprocess.run(
            [str(bundle.executable), "report", execution_id, "--format", "pdf", "-o", str(pdf)],
            capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path,
        )  # fmt: skip
        assert report.returncode == 0, report.stderr
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


def _simulator_server_ids(endpoint: str) -> list[str]:
    import boto3

    client = boto3.client(
        "drs",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    items = client.describe_source_servers(filters={})["items"]
    return sorted(item["sourceServerID"] for item in items)


def _size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def test_the_bundle_stays_within_its_size(bundle: Bundle) -> None:
    size = _size(bundle.folder)
    assert size <= MAX_BUNDLE_BYTES, f"the bundle is {size / 2**20:.1f} MB, over its 150 MB budget"


def test_botocore_keeps_only_the_models_of_the_services_the_app_calls(bundle: Bundle) -> None:
    data = bundle.folder / "_internal" / "botocore" / "data"
    assert {p.name for p in data.iterdir() if p.is_dir()} == set(USED)
    assert {p.name for p in data.iterdir() if p.is_file()} == set(BOTOCORE_SHARED_DATA)
    assert not (bundle.folder / "_internal" / "boto3" / "data").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's Linux libraries")
def test_only_the_qt_the_app_uses_is_carried(bundle: Bundle) -> None:
    internal = bundle.folder / "_internal"
    bindings = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so")}
    assert bindings == {"QtCore", "QtGui", "QtWidgets"}
    libraries = {p.name for p in (internal / "PySide6" / "Qt" / "lib").iterdir()}
    for unused in ("libQt6Quick.so.6", "libQt6Qml.so.6", "libQt6Pdf.so.6", "libQt6Network.so.6"):
        assert unused not in libraries
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqxcb.so").is_file() and (
        plugins / "platforms" / "libqwayland.so"
    ).is_file()
    assert not (plugins / "platformthemes" / "libqgtk3.so").exists()
    dangling = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, f"links to libraries left out: {dangling}"
    assert not (internal / "PySide6" / "Qt" / "translations").exists()


def test_the_bundle_carries_resources_migrations_and_scenarios(bundle: Bundle) -> None:
    package = bundle.folder / "_internal" / "drs_desktop"
    assert (package / "resources" / "sample-plan.yaml").read_bytes() == SAMPLE_PLAN.read_bytes()
    migrations = sorted(p.name for p in (package / "storage" / "migrations").glob("*.sql"))
    assert migrations == sorted(
        p.name for p in (ROOT / "drs_desktop" / "storage" / "migrations").glob("*.sql")
    )
    scenarios = sorted(p.name for p in (package / "simulator" / "scenarios").glob("*.yaml"))
    assert scenarios == sorted(
        p.name for p in (ROOT / "drs_desktop" / "simulator" / "scenarios").glob("*.yaml")
    )
