"""One probe of a health check (``domain.plan.automation.HealthCheckStep``) from this desktop: a TCP port
that accepts, or an HTTP(S) answer with the expected status and body.

HTTPS is probed without verifying the certificate: a recovered instance answers on an address its
certificate does not name (a drill's private IP), and the check asks whether the service is up, not
whether to trust it; nothing is sent but a GET of ``path``.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from drs_desktop.domain.plan.automation import HealthCheckStep, Probe

#: How much of an answer's body is read to look for ``expect_body``.
BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class ProbeAnswer:
    ok: bool
    detail: str


def probe_address(step: HealthCheckStep, address: str, timeout: float) -> ProbeAnswer:
    """Probe ``address`` once, as ``step`` says, within ``timeout`` seconds."""
    if step.probe is Probe.TCP:
        return _tcp(address, step.port, timeout)
    return _http(step, address, timeout)


def _tcp(address: str, port: int, timeout: float) -> ProbeAnswer:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return ProbeAnswer(True, f"TCP {port} open")
    except TimeoutError:
        return ProbeAnswer(False, f"TCP {port}: no answer within {timeout:g} s")
    except OSError as error:
        return ProbeAnswer(False, f"TCP {port}: {error.strerror or error}")


def _http(step: HealthCheckStep, address: str, timeout: float) -> ProbeAnswer:
    scheme = "HTTPS" if step.probe is Probe.HTTPS else "HTTP"
    connection: http.client.HTTPConnection
    if step.probe is Probe.HTTPS:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(address, step.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(address, step.port, timeout=timeout)
    path = step.path if step.path.startswith("/") else "/" + step.path
    try:
        connection.request("GET", path, headers={"User-Agent": "drs-desktop-health-check"})
        response = connection.getresponse()
        body = response.read(BODY_LIMIT).decode("utf-8", "replace")
        status = response.status
    except TimeoutError:
        return ProbeAnswer(False, f"{scheme} {step.port}{path}: no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as error:
        return ProbeAnswer(False, f"{scheme} {step.port}{path}: {getattr(error, 'strerror', None) or error}")
    finally:
        connection.close()
    if step.expect_status is not None and status != step.expect_status:
        return ProbeAnswer(False, f"{scheme} {status} (expected {step.expect_status})")
    if step.expect_body is not None and step.expect_body not in body:
        return ProbeAnswer(False, f"{scheme} {status}, the body does not contain {step.expect_body!r}")
    return ProbeAnswer(True, f"{scheme} {status}")
