"""DescribeRecoveryInstances lagging behind its job, for tests of the engine's bounded looks.

Real DRS may list a new recovery instance only some time after its job ended, and DescribeJobs may
never name it (drs_api.md §12.5, §12.14). ``InstanceLag`` wraps the simulator backend's own
DescribeRecoveryInstances handler (the answer is still the simulator's, served to the real boto3
client in process or over HTTP) and leaves out the instances of chosen servers for their first
``hidden_looks`` listings, or for good (``None``). Test-only: the simulator's own configurable lag is
its scenario's business.
"""

from __future__ import annotations

from typing import Any

from drs_desktop.simulator.backend import DrsBackend


class InstanceLag:
    def __init__(self, backend: DrsBackend, server_ids: tuple[str, ...], hidden_looks: int | None) -> None:
        self.server_ids = set(server_ids)
        self.hidden_looks = hidden_looks
        self.looks = 0  # listings that asked for one of ``server_ids``
        handlers = backend._handlers
        self._inner = handlers["DescribeRecoveryInstances"]
        handlers["DescribeRecoveryInstances"] = self._answer

    def _answer(self, params: dict[str, Any]) -> dict[str, Any]:
        answer = self._inner(params)
        asked = set((params.get("filters") or {}).get("sourceServerIDs") or ())
        if not asked & self.server_ids:
            return answer
        self.looks += 1
        if self.hidden_looks is not None and self.looks > self.hidden_looks:
            return answer
        items = [i for i in answer.get("items", []) if i.get("sourceServerID") not in self.server_ids]
        return {**answer, "items": items}
