"""Asks an X11 window to close the way a window manager's close button does: a WM_DELETE_WINDOW message.

Usage: ``python3 scripts/x11_close_window.py WINDOW_ID`` (decimal or 0x hex, as ``xdotool search``
prints it), with DISPLAY set. Exits 0 when the message was sent.

Why: xdotool 3.20160805 (Debian 12) can only destroy a window (``windowkill`` drops the whole X
connection), which skips the program's own close path. Under Xvfb there is no window manager to click close
for us, so scripts/check_fresh_debian.sh sends the message itself and the program closes as it does for a
user: its close event, any confirmation dialog, its orderly shutdown. Needs only libX11 (Xvfb's and
xdotool's dependency) through ctypes, so it runs with the host's python3 and nothing installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

CLIENT_MESSAGE = 33  # X.h ClientMessage
NO_EVENT_MASK = 0
CURRENT_TIME = 0


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    # Xlib's XEvent is a union padded to 24 longs; XSendEvent copies that many bytes.
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


def close_window(window: int) -> bool:
    """Sends WM_PROTOCOLS/WM_DELETE_WINDOW to ``window`` on $DISPLAY; False when X refused it."""
    xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.restype = ctypes.c_int
    xlib.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(_XEvent),
    ]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]

    display = xlib.XOpenDisplay(None)
    if not display:
        raise OSError("cannot open the X display named by DISPLAY")
    try:
        event = _XEvent()
        event.xclient.type = CLIENT_MESSAGE
        event.xclient.window = window
        event.xclient.message_type = xlib.XInternAtom(display, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = xlib.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = CURRENT_TIME
        sent = xlib.XSendEvent(display, window, 0, NO_EVENT_MASK, ctypes.byref(event))
        xlib.XFlush(display)
        return bool(sent)
    finally:
        xlib.XCloseDisplay(display)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return 0 if close_window(int(argv[1], 0)) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
