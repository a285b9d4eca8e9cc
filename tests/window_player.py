"""Plays a video in a real OpenCV window at the file's frame rate: a stand-in for a call window.

Run as a script by the end-to-end tests, under Xvfb: ``python window_player.py CLIP TITLE [--close-after S]
[--move-after S --move-to X,Y] [--x X --y Y]``. Prints ``ready`` on stdout once the window shows its first
frame, so the test starts ``callcoach live`` only when there is something to follow.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_LOGGING_RULES", "*.debug=false;qt.qpa.*=false")


def _painted(x: int, y: int, w: int, h: int) -> bool:
    import mss
    import numpy as np

    with mss.MSS() as sct:
        return bool(np.asarray(sct.grab({"left": x, "top": y, "width": w, "height": h}))[..., :3].max() > 0)


def open_window(cap: object, title: str, x: int, y: int) -> bool:
    """Open the window and make sure it really shows the video.

    On a fresh Xvfb without a window manager, Qt sometimes maps the window but never paints it (about one
    start in five here): it stays black whatever imshow draws. Destroying and re-creating it heals that.
    """
    import cv2

    for _ in range(5):
        # GUI_NORMAL: no Qt toolbar or status bar, so the window shows the picture and nothing else.
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        cv2.moveWindow(title, x, y)
        size = (0, 0)
        for _ in range(8):
            ok, frame = cap.read()  # type: ignore[attr-defined]
            if not ok:
                return False
            size = (frame.shape[1], frame.shape[0])
            cv2.imshow(title, frame)
            cv2.waitKey(40)
        if _painted(x, y, *size):
            return True
        cv2.destroyWindow(title)
        cv2.waitKey(50)
    return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip")
    parser.add_argument("title")
    parser.add_argument("--close-after", type=float, default=None, help="destroy the window after S seconds")
    parser.add_argument("--move-after", type=float, default=None, help="move the window after S seconds")
    parser.add_argument("--move-to", default="400,200")
    parser.add_argument("--x", type=int, default=40)
    parser.add_argument("--y", type=int, default=30)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()

    import cv2

    cap = cv2.VideoCapture(args.clip)
    if not cap.isOpened():
        print(f"cannot open {args.clip}", file=sys.stderr)
        return 1
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    if not open_window(cap, args.title, args.x, args.y):
        print("the window stayed black", file=sys.stderr)
        return 1
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    began = start = time.monotonic()  # ``start`` restarts with each loop of the clip, ``began`` never
    shown = 0
    moved = announced = False
    while True:
        now = time.monotonic()
        running = now - began
        if running > args.max_seconds:
            break
        if args.close_after is not None and running >= args.close_after:
            break
        if args.move_after is not None and not moved and running >= args.move_after:
            x, y = (int(v) for v in args.move_to.split(","))
            cv2.moveWindow(args.title, x, y)
            moved = True
        due = int((now - start) * fps)
        if due >= shown:
            ok, frame = True, None
            while shown <= due and ok:  # skip frames we are late for, like a real player
                ok, frame = cap.read()
                shown += 1
            if not ok or frame is None:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # loop: a call does not end when the clip does
                start, shown = time.monotonic(), 0
                continue
            cv2.imshow(args.title, frame)
        next_due = start + shown / fps
        cv2.waitKey(max(1, int((next_due - time.monotonic()) * 1000)))
        if not announced:
            print("ready", flush=True)
            announced = True
    cv2.destroyAllWindows()
    cv2.waitKey(50)
    cap.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
