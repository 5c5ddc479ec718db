"""A health check's probe round from inside the VPC (``Reach.SSM``): the shell script sent through SSM
Run Command (AWS-RunShellScript) to the instance ``via``, and how its output is read.

The desktop may have no path to a drill's private addresses; an instance in the VPC does. The script is
POSIX sh, probes every target's private address at once (TCP through bash's ``/dev/tcp`` under
``timeout``, else ``nc -z``; HTTP(S) through ``curl``, the certificate not verified as from the desktop,
the path taken as written: ``-g``, no ``[1-3]`` or ``{a,b}`` globbing)
and prints one line per target: ``PASS <server-id> <detail>`` or ``FAIL <server-id> <detail>``. It only
reads (a TCP connect, an HTTP GET), so a round may be sent again at any time.

Version 1 of the format, which the simulator reads (docs/simulator.md): the marker line, then the probe's
values as single-quoted shell assignments (``KIND PORT URLPATH STATUS BODY TIMEOUT``), a fixed function,
and one ``probe '<server-id>' '<address>' &`` line per target, then ``wait``. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from drs_desktop.domain.engine.automation_state import TargetResult
from drs_desktop.domain.plan.automation import HealthCheckStep

#: The first line of every probe script: what it is, and which format its lines follow.
PROBE_MARKER = "# drs-desktop health probe v1"
#: A line missing for a target in a round's output.
NO_ANSWER = "no answer in the probe's output"

#: The probe itself: fixed text (no value of the plan is spliced into it; those are the quoted
#: assignments above it, read by the shell as data).
_FUNCTION = r"""probe() {
  id=$1; addr=$2
  case $KIND in
  tcp)
    if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
      if timeout "$TIMEOUT" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$addr" "$PORT" >/dev/null 2>&1; then
        echo "PASS $id $addr: TCP $PORT open"
      else
        echo "FAIL $id $addr: TCP $PORT: refused or no answer within $TIMEOUT s"
      fi
    elif command -v nc >/dev/null 2>&1; then
      if nc -z -w "$TIMEOUT" "$addr" "$PORT" >/dev/null 2>&1; then
        echo "PASS $id $addr: TCP $PORT open"
      else
        echo "FAIL $id $addr: TCP $PORT: refused or no answer within $TIMEOUT s"
      fi
    else
      echo "FAIL $id no bash or nc"
    fi ;;
  *)
    if ! command -v curl >/dev/null 2>&1; then echo "FAIL $id no curl"; return; fi
    body=$(mktemp) || { echo "FAIL $id no temporary file"; return; }
    code=$(curl -g -k -s -m "$TIMEOUT" -A drs-desktop-health-check -o "$body" -w '%{http_code}' \
      "$KIND://$addr:$PORT$URLPATH")
    rc=$?
    scheme=$(echo "$KIND" | tr a-z A-Z)
    if [ "$rc" -ne 0 ]; then
      echo "FAIL $id $addr: $scheme $PORT$URLPATH: curl exit $rc"
    elif [ -n "$STATUS" ] && [ "$code" != "$STATUS" ]; then
      echo "FAIL $id $addr: $scheme $code (expected $STATUS)"
    elif [ -n "$BODY" ] && ! head -c 65536 "$body" | grep -qF -- "$BODY"; then
      echo "FAIL $id $addr: $scheme $code, the body does not contain '$BODY'"
    else
      echo "PASS $id $addr: $scheme $code"
    fi
    rm -f "$body" ;;
  esac
}"""

_LINE = re.compile(r"^(PASS|FAIL) (\S+)(?: (.*))?$")


def sh_quote(text: str) -> str:
    """``text`` as one single-quoted sh word (a quote inside becomes ``'\\''``)."""
    return "'" + text.replace("'", "'\\''") + "'"


def probe_timeout(step: HealthCheckStep) -> int:
    """Seconds one target's probe may take: within the interval, 1..10 (as from the desktop)."""
    return max(1, min(10, step.interval_seconds))


def round_seconds(step: HealthCheckStep) -> int:
    """The round's SSM timeout (delivery and run): every target is probed at once, within its timeout."""
    return probe_timeout(step) + 20


def probe_script(step: HealthCheckStep, jobs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The script's lines (SSM's ``commands``) probing ``jobs``: (server ID, private address) each."""
    for server_id, address in jobs:
        if not re.fullmatch(r"[0-9A-Za-z.:_-]+", server_id) or not re.fullmatch(r"[0-9A-Fa-f.:]+", address):
            raise ValueError(f"not a server ID and an IP address: {server_id!r} {address!r}")
    if step.expect_body is not None and ("\n" in step.expect_body or "\r" in step.expect_body):
        # grep -F reads each line of its pattern as a pattern of its own (any one matching passes).
        raise ValueError(f"an expected body must be one line: {step.expect_body!r}")
    values = {
        "KIND": step.probe.value,
        "PORT": str(step.port),
        "URLPATH": step.path if step.path.startswith("/") else "/" + step.path,
        "STATUS": "" if step.expect_status is None else str(step.expect_status),
        "BODY": step.expect_body or "",
        "TIMEOUT": str(probe_timeout(step)),
    }
    return (
        PROBE_MARKER,
        "# One line per target: PASS|FAIL <server-id> <detail>. It only reads (a TCP connect, a GET).",
        *(f"{name}={sh_quote(value)}" for name, value in values.items()),
        *_FUNCTION.splitlines(),
        *(f"probe {sh_quote(server_id)} {sh_quote(address)} &" for server_id, address in jobs),
        "wait",
    )


def read_probe_output(
    output: str, jobs: Sequence[tuple[str, str, str]], *, error_output: str = ""
) -> tuple[TargetResult, ...]:
    """The round's results from the script's output, one per job (server ID, instance ID, address): its
    ``PASS``/``FAIL`` line, else FAIL ``NO_ANSWER`` (a line that is neither, or names another server, is
    not taken for an answer). A server named twice: the first line counts."""
    lines: dict[str, tuple[str, str]] = {}
    for line in output.splitlines():
        match = _LINE.match(line.strip())
        if match is not None and match.group(2) not in lines:
            lines[match.group(2)] = (match.group(1), (match.group(3) or "").strip()[:300])
    out: list[TargetResult] = []
    for server_id, instance_id, _address in jobs:
        status, detail = lines.get(server_id, ("FAIL", NO_ANSWER))
        if (server_id not in lines) and error_output.strip():
            detail = f"{detail} (stderr: {error_output.strip().splitlines()[-1][:200]})"
        out.append(TargetResult(server_id=server_id, instance_id=instance_id, status=status, detail=detail))
    return tuple(out)


def round_failed(jobs: Sequence[tuple[str, str, str]], detail: str) -> tuple[TargetResult, ...]:
    """Every target FAIL with the same reason: the round itself did not run (SSM's status, a refusal)."""
    return tuple(
        TargetResult(server_id=server_id, instance_id=instance_id, status="FAIL", detail=detail)
        for server_id, instance_id, _address in jobs
    )
