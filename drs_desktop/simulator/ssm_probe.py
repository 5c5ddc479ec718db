"""DRS Desktop's health probe script (AWS-RunShellScript, first line ``# drs-desktop health probe v1``),
run by the simulator as the instance in the VPC would run it.

The simulator runs no shell. It reads only that format (the marker, single-quoted assignments ``KIND
PORT URLPATH STATUS BODY TIMEOUT``, a ``probe() {`` ... ``}`` function it does not read, one ``probe
'<server-id>' '<address>' &`` line per target, ``wait``) and refuses any other line, then probes exactly
the addresses the script names, for real, from the simulator's process: an address is looked up in the
VPC of the instance running the script (the recovery instance holding that private IP); that instance's
services are its health-check listeners on its loopback address (``listeners``), which the simulator
shares. So a listener that is up answers, one that is down refuses, an instance without listeners
refuses, and an address no instance of that VPC holds gets no answer within the probe's timeout (without
waiting for it: the run's time is the virtual clock's). Security groups and NACLs are not evaluated.
The output is the script's: one ``PASS|FAIL <server-id> <address>: <detail>`` line per target.
"""

from __future__ import annotations

import http.client
import shlex
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MARKER = "# drs-desktop health probe v1"
_VALUES = ("KIND", "PORT", "URLPATH", "STATUS", "BODY", "TIMEOUT")
_BODY_LIMIT = 64 * 1024


class ProbeScriptError(ValueError):
    """The script carries the marker but not the format: its run fails (exit 2) saying why."""


@dataclass(frozen=True)
class ProbeScript:
    kind: str  # tcp | http | https
    port: int
    path: str
    status: int | None
    body: str
    timeout: float
    targets: tuple[tuple[str, str], ...]  # (server ID, address), in the script's order


def is_probe_script(commands: Sequence[str]) -> bool:
    lines = [line for chunk in commands for line in chunk.splitlines()]
    return bool(lines) and lines[0].strip() == MARKER


def parse_probe_script(commands: Sequence[str]) -> ProbeScript:
    """The probe a marked script describes; ``ProbeScriptError`` names the first line it cannot read."""
    lines = [line for chunk in commands for line in chunk.splitlines()]
    values: dict[str, str] = {}
    targets: list[tuple[str, str]] = []
    in_function = waited = False
    for number, line in enumerate(lines[1:], start=2):
        text = line.strip()
        if in_function:
            in_function = line.rstrip() != "}"
            continue
        if not text or text.startswith("#"):
            continue
        if waited:
            raise ProbeScriptError(f"line {number}: nothing may follow wait: {text!r}")
        try:
            words = shlex.split(text, posix=True)
        except ValueError as error:
            raise ProbeScriptError(f"line {number}: {error}: {text!r}") from None
        name = text.partition("=")[0]
        if name in _VALUES and len(words) == 1 and not targets:
            values[name] = words[0].partition("=")[2]
        elif text == "probe() {":
            in_function = True
        elif len(words) == 4 and words[0] == "probe" and words[3] == "&":
            targets.append((words[1], words[2]))
        elif text == "wait":
            waited = True
        else:
            raise ProbeScriptError(f"line {number}: not a line of the probe format: {text!r}")
    missing = [n for n in _VALUES if n not in values]
    if missing:
        raise ProbeScriptError(f"no {', '.join(missing)} assignment")
    if values["KIND"] not in ("tcp", "http", "https"):
        raise ProbeScriptError(f"KIND must be tcp, http or https, not {values['KIND']!r}")
    for name in ("PORT", "TIMEOUT") + (("STATUS",) if values["STATUS"] else ()):
        if not values[name].isdigit():
            raise ProbeScriptError(f"{name} must be a number, not {values[name]!r}")
    if not waited:
        raise ProbeScriptError("the script does not wait for its probes")
    return ProbeScript(
        kind=values["KIND"],
        port=int(values["PORT"]),
        path=values["URLPATH"] or "/",
        status=int(values["STATUS"]) if values["STATUS"] else None,
        body=values["BODY"],
        timeout=float(min(int(values["TIMEOUT"]), 10)),
        targets=tuple(targets),
    )


#: ``resolve(address)``: where the service of the instance holding ``address`` listens ("" none: the
#: instance is there with no listener), or None: no instance of the VPC holds it.
Resolve = Callable[[str], str | None]


def run_probe_script(script: ProbeScript, resolve: Resolve) -> str:
    """The script's output: one line per target, as the function in it prints them."""
    out = []
    for server_id, address in script.targets:
        ok, detail = _probe(script, resolve(address))
        out.append(f"{'PASS' if ok else 'FAIL'} {server_id} {address}: {detail}\n")
    return "".join(out)


def _probe(script: ProbeScript, where: str | None) -> tuple[bool, str]:
    t = f"{script.timeout:g}"
    if script.kind == "tcp":
        if not where:  # no instance there (no answer), or nothing of it listens (refused): same line
            return False, f"TCP {script.port}: refused or no answer within {t} s"
        try:
            with socket.create_connection((where, script.port), timeout=script.timeout):
                return True, f"TCP {script.port} open"
        except OSError:
            return False, f"TCP {script.port}: refused or no answer within {t} s"
    scheme = script.kind.upper()
    if where is None:
        return False, f"{scheme} {script.port}{script.path}: curl exit 28"  # curl's "timed out"
    if not where:
        return False, f"{scheme} {script.port}{script.path}: curl exit 7"  # curl's "couldn't connect"
    connection: http.client.HTTPConnection
    if script.kind == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection = http.client.HTTPSConnection(where, script.port, timeout=script.timeout, context=context)
    else:
        connection = http.client.HTTPConnection(where, script.port, timeout=script.timeout)
    try:
        connection.request("GET", script.path, headers={"User-Agent": "drs-desktop-health-check"})
        response = connection.getresponse()
        body = response.read(_BODY_LIMIT).decode("utf-8", "replace")
        status = response.status
    except TimeoutError:
        return False, f"{scheme} {script.port}{script.path}: curl exit 28"
    except (OSError, http.client.HTTPException):
        return False, f"{scheme} {script.port}{script.path}: curl exit 7"
    finally:
        connection.close()
    if script.status is not None and status != script.status:
        return False, f"{scheme} {status} (expected {script.status})"
    if script.body and script.body not in body:
        return False, f"{scheme} {status}, the body does not contain '{script.body}'"
    return True, f"{scheme} {status}"
