"""The ``automation:`` key of a scenario: SSM documents and how their runs behave, Lambda functions, and
loopback listeners for health checks (docs/simulator.md, "Automation steps").

Stdlib only, like ``ec2_spec``: ``scenario`` imports these dataclasses, and the reader takes the
scenario's ``Node`` without importing it. Tests build the same values directly (``RunBehaviour``,
``FunctionSpec``, ``ListenerSpec``) and hand them to the world at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drs_desktop.simulator.scenario_node import Node

#: What a Lambda function does with its payload (``FunctionSpec.behaviour``).
LAMBDA_BEHAVIOURS = ("echo", "ok", "not-ok", "raise", "answer")
LISTENER_KINDS = ("tcp", "http")
PLATFORMS = ("Linux", "Windows", "MacOS")


@dataclass(frozen=True)
class DocumentSpec:
    """An SSM Command document the account has besides AWS-RunShellScript and AWS-RunPowerShellScript.
    ``parameters``: the names it accepts (SendCommand refuses others, as SSM does); ``denied``: the
    caller may not use it (AccessDeniedException)."""

    name: str
    platforms: tuple[str, ...] = ("Linux", "Windows")
    parameters: tuple[str, ...] = ()
    denied: bool = False


@dataclass(frozen=True)
class RunBehaviour:
    """How one invocation runs once delivered. It applies to the runs of ``document`` (None: any) on the
    instances of ``server`` (a hostname or source server ID, or an instance ID; None: any); the most
    specific match wins (both, then server, then document).

    ``seconds``: virtual run time; ``exit_code``: 0 succeeds, anything else fails with that ResponseCode;
    ``output``/``stderr``: what the run prints (None: the document's default, each ``echo`` line of
    ``commands``); ``output_chars``: pad stdout to this many characters (SSM shows the first 24,000);
    ``hang``: never finishes (the execution timeout ends it, TimedOut); ``offline``: the agent lost its
    connection (commands wait for delivery until TimeoutSeconds, then TimedOut / DeliveryTimedOut);
    ``undeliverable``: the command cannot be delivered (Failed / Undeliverable)."""

    document: str | None = None
    server: str | None = None
    seconds: float = 5.0
    exit_code: int = 0
    output: str | None = None
    stderr: str = ""
    output_chars: int = 0
    hang: bool = False
    offline: bool = False
    undeliverable: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function. ``behaviour``: ``echo`` (answers the payload it got), ``ok`` (``{"ok": true}``),
    ``not-ok`` (``{"ok": false, "reason": error_message}``), ``raise`` (FunctionError Unhandled with
    ``errorMessage``), ``answer`` (answers ``answer``, a JSON value). ``seconds``: virtual run time; over
    ``timeout`` (Lambda's, 3 s by default) the invocation ends as Lambda's own timeout does."""

    name: str
    behaviour: str = "echo"
    seconds: float = 0.0
    timeout: int = 3
    error_message: str = "the function failed"
    answer: object = None
    denied: bool = False


@dataclass(frozen=True)
class ListenerSpec:
    """A real listener on the loopback address of a server's recovery instance: ``tcp`` (accepts) or
    ``http`` (answers ``status`` and ``body`` on every path). ``up_after``: virtual seconds after the
    instance launched before it binds; ``down``: never binds (connection refused)."""

    server: str
    port: int
    kind: str = "tcp"
    status: int = 200
    body: str = "OK"
    up_after: float = 0.0
    down: bool = False


@dataclass(frozen=True)
class AutomationSpec:
    documents: tuple[DocumentSpec, ...] = ()
    runs: tuple[RunBehaviour, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()
    listeners: tuple[ListenerSpec, ...] = ()


DEFAULT_AUTOMATION = AutomationSpec()


def read_automation(node: Node) -> AutomationSpec:
    """The ``automation:`` mapping; absent, nothing beyond the two AWS documents."""
    if not node.data:
        node.finish()
        return DEFAULT_AUTOMATION
    documents = tuple(_document(n) for n in node.items("ssm_documents"))
    runs = tuple(_run(n) for n in node.items("ssm_runs"))
    functions = tuple(_function(n) for n in node.items("lambda_functions"))
    listeners = tuple(_listener(n) for n in node.items("listeners"))
    names = [f.name for f in functions]
    if len(set(names)) != len(names):
        raise node.error("lambda_functions", "function names must be unique")
    node.finish()
    return AutomationSpec(documents=documents, runs=runs, functions=functions, listeners=listeners)


def _document(node: Node) -> DocumentSpec:
    name = node.text("name")
    if not name:
        raise node.error("name", "is required")
    platforms = node.strings("platforms") or ("Linux", "Windows")
    for i, p in enumerate(platforms):
        if p not in PLATFORMS:
            raise node.error(f"platforms[{i}]", f"{p!r} is not one of {', '.join(PLATFORMS)}")
    spec = DocumentSpec(name, platforms, node.strings("parameters"), node.flag("denied", False))
    node.finish()
    return spec


def _run(node: Node) -> RunBehaviour:
    spec = RunBehaviour(
        document=node.text("document"),
        server=node.text("server"),
        seconds=node.number("seconds", 5.0),
        exit_code=node.integer("exit_code", 0, high=255),
        output=node.text("output"),
        stderr=node.text("stderr", "") or "",
        output_chars=node.integer("output_chars", 0, high=1_000_000),
        hang=node.flag("hang", False),
        offline=node.flag("offline", False),
        undeliverable=node.flag("undeliverable", False),
    )
    if spec.document is None and spec.server is None:
        raise node.error("", "a run behaviour names a document, a server, or both")
    node.finish()
    return spec


def _function(node: Node) -> FunctionSpec:
    name = node.text("name")
    if not name:
        raise node.error("name", "is required")
    spec = FunctionSpec(
        name=name,
        behaviour=node.choice("behaviour", "echo", LAMBDA_BEHAVIOURS),
        seconds=node.number("seconds", 0.0),
        timeout=node.integer("timeout", 3, low=1, high=900),
        error_message=node.text("error_message", "the function failed") or "",
        answer=node.raw("answer") if node.has("answer") else None,
        denied=node.flag("denied", False),
    )
    node.finish()
    return spec


def _listener(node: Node) -> ListenerSpec:
    server = node.text("server")
    if not server:
        raise node.error("server", "is required (a hostname or source server ID)")
    spec = ListenerSpec(
        server=server,
        port=node.integer("port", 0, low=1, high=65535),
        kind=node.choice("kind", "tcp", LISTENER_KINDS),
        status=node.integer("status", 200, low=100, high=599),
        body=node.text("body", "OK") or "",
        up_after=node.number("up_after", 0.0),
        down=node.flag("down", False),
    )
    if not node.has("port"):
        raise node.error("port", "is required")
    node.finish()
    return spec
