"""Guards against known-broken Qt bindings: each check runs in a fresh interpreter, where they crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_many_signal_emits_do_not_corrupt_the_interpreter() -> None:
    """PySide6 6.12.0 dropped a reference to ``True`` per ``Signal.emit()``; a few hundred emits later
    the interpreter aborted (``bool_dealloc``), usually at exit. pytest keeps enough references to hide
    it in-process, so the check runs in a subprocess and must exit cleanly."""
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtCore import QCoreApplication, QObject, Signal

        class Source(QObject):
            fired = Signal(object)

        app = QCoreApplication([])
        source = Source()
        seen = []
        source.fired.connect(seen.append)
        before = sys.getrefcount(True)
        for i in range(2000):
            source.fired.emit(i)
        assert len(seen) == 2000
        print(sys.getrefcount(True) - before)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert abs(int(result.stdout.strip())) < 100
