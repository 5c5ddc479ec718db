"""``aws.services.USED`` is the one list of AWS services the app calls, and the bundle keeps botocore's
models only for those (``build.spec``): a client built anywhere in the package for a service missing from
the list would work from a checkout and fail in the packaged application. The same for Qt: build.spec's
``QT_USED`` must name every PySide6 module the package imports, since the bundle leaves out the others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session

from drs_desktop.aws.services import BOTOCORE_SHARED_DATA, USED

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "drs_desktop"
CLIENT_FACTORIES = {"client", "create_client"}


#: Functions that build a client of a service their caller names, and refuse one missing from ``USED``
#: at run time (``test_a_gateway_refuses_a_client_of_an_unlisted_service``): the one computed name allowed.
GUARDED_BUILDERS = {("aws/gateway_base.py", "_new_client")}


def _guarded_lines(tree: ast.AST, relative: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (relative, node.name) in GUARDED_BUILDERS:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _client_services(tree: ast.AST, guarded: set[int] | None = None) -> list[tuple[int, str]]:
    """Every ``*.client("name", ...)`` / ``*.create_client("name", ...)`` with a literal service name, and
    every such call whose name is not a literal (which this check cannot follow), but in a guarded
    builder's lines."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in CLIENT_FACTORIES or not node.args:
            continue
        first = node.args[0]
        name = (
            first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else "<computed>"
        )
        if name == "<computed>" and node.lineno in (guarded or set()):
            continue
        found.append((node.lineno, name))
    return found


def test_every_client_the_package_builds_is_for_a_used_service() -> None:
    problems = []
    seen: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if "simulator" in path.relative_to(PACKAGE).parts or path.name == "self_test.py":
            continue  # the simulator builds no client; the self-test builds one per USED service
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(PACKAGE).as_posix()
        for line, name in _client_services(tree, _guarded_lines(tree, relative)):
            seen.add(name)
            if name not in USED:
                problems.append(
                    f"{path.relative_to(ROOT)}:{line}: a {name!r} client; add it to aws.services.USED"
                )
    assert not problems, "\n".join(problems)
    assert {"drs", "sts", "sso-oidc"} <= seen, f"the scan found only {sorted(seen)}: is it still looking?"


def test_every_client_botocores_credential_providers_build_is_kept() -> None:
    """A profile's credentials come through botocore's own providers (assume role, SSO, ``aws login``),
    which build clients of their own: in the bundle, a model left out breaks that profile at its first
    refresh, long after the self-test passed."""
    root = Path(botocore.__file__).parent
    found: set[str] = set()
    for module in ("credentials.py", "tokens.py"):
        tree = ast.parse((root / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in {"_client_creator", "create_nested_client", "create_client"}:
                continue
            literals = [
                a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            found.update(literals)
    assert {"sts", "sso", "sso-oidc"} <= found, f"the scan found only {sorted(found)}: is it still looking?"
    assert found <= set(USED), f"botocore builds clients for {sorted(found - set(USED))}: add them to USED"


def test_the_scan_sees_a_client_for_an_unlisted_service() -> None:
    tree = ast.parse("import boto3\nboto3.session.Session().client('ec2', region_name='x')\n")
    assert _client_services(tree) == [(2, "ec2")]


def test_used_services_and_shared_files_exist_in_botocore() -> None:
    session = botocore.session.get_session()
    available = set(session.get_available_services())
    assert set(USED) <= available
    data = Path(botocore.__file__).parent / "data"
    assert all((data / name).is_file() for name in BOTOCORE_SHARED_DATA)


def _qt_used_in_spec() -> set[str]:
    tree = ast.parse((ROOT / "build.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "QT_USED" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return set(value)
    raise AssertionError("build.spec has no QT_USED")


def test_build_spec_keeps_every_qt_module_the_package_imports() -> None:
    imported: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            imported.update(n.split(".")[1] for n in names if n.startswith("PySide6.") and n.count(".") >= 1)
    assert imported == _qt_used_in_spec()


def test_a_gateway_refuses_a_client_of_an_unlisted_service() -> None:
    from drs_desktop.aws.ec2 import Ec2Gateway
    from drs_desktop.aws.session import AwsTarget

    gateway = Ec2Gateway(AwsTarget(profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:1"))
    try:
        gateway._new_client(object(), "s3", retries=False, local_only=True)
    except ValueError as error:
        assert "aws.services.USED" in str(error)
    else:
        raise AssertionError("a client of a service the bundle does not carry was built")
