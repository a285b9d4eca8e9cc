"""File sources: every frame, right order, right timing, RGB; every failure a SourceError naming the path."""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from callcoach.errors import SourceError, UsageError
from callcoach.sources import ImageDirSource, ImageSource, VideoFileSource, open_source

# BGR as OpenCV writes it -> the RGB the source must hand out.
RED_BGR, RED_RGB = (0, 0, 255), (255, 0, 0)


def _png(path: Path, bgr: tuple[int, int, int], size: tuple[int, int] = (24, 32)) -> Path:
    image = np.zeros((*size, 3), np.uint8)
    image[:] = bgr
    assert cv2.imwrite(str(path), image)
    return path


# --- real video ---------------------------------------------------------------------------------------


def test_video_yields_every_frame_in_rgb(real_media: Path) -> None:
    clip = real_media / "single_face.mp4"
    source = open_source(clip)
    assert isinstance(source, VideoFileSource)
    assert source.kind == "video" and source.name == str(clip)
    assert source.frame_count == 72
    assert source.fps == pytest.approx(30.0)
    frames = list(source.frames())
    source.close()
    assert len(frames) == 72
    assert [f.index for f in frames] == list(range(72))
    times = [f.t_s for f in frames]
    assert times[0] == 0.0 and times[1] == pytest.approx(1 / 30, abs=1e-3)
    assert all(b > a for a, b in itertools.pairwise(times))
    first = frames[0].image
    assert first.shape == (360, 640, 3) and first.dtype == np.uint8 and first.flags["C_CONTIGUOUS"]

    cap = cv2.VideoCapture(str(clip))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    np.testing.assert_array_equal(first, bgr[:, :, ::-1])


def test_long_real_clip_count_and_duration(real_media: Path) -> None:
    source = VideoFileSource(real_media / "WolfgangLanger_Pexels.mp4")
    assert source.frame_count == 472
    assert source.fps == pytest.approx(23.976, abs=1e-3)
    last = None
    n = 0
    for frame in source.frames():
        n, last = n + 1, frame
    assert n == 472 and last is not None
    assert last.t_s == pytest.approx(471 / source.fps, abs=0.05)


def test_video_fps_override_sets_timing(real_media: Path) -> None:
    source = open_source(real_media / "single_face.mp4", fps=10)
    times = [f.t_s for f in source.frames()]
    assert source.fps == 10
    assert times[:3] == pytest.approx([0.0, 0.1, 0.2])


def test_video_can_be_read_twice(real_media: Path) -> None:
    source = VideoFileSource(real_media / "single_face.mp4")
    assert sum(1 for _ in source.frames()) == sum(1 for _ in source.frames()) == 72


# --- images -------------------------------------------------------------------------------------------


def test_image_dir_natural_order_and_fps(tmp_path: Path) -> None:
    for i, name in enumerate(["frame10.png", "frame2.png", "frame1.png", "Frame3.JPG"]):
        _png(tmp_path / name, (i, i, i))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "._frame0.png").write_bytes(b"macOS resource fork")
    (tmp_path / "sub").mkdir()

    source = open_source(tmp_path, fps=4)
    assert isinstance(source, ImageDirSource) and source.kind == "images"
    assert [p.name for p in source.files] == ["frame1.png", "frame2.png", "Frame3.JPG", "frame10.png"]
    assert source.frame_count == 4
    frames = list(source.frames())
    assert [f.t_s for f in frames] == [0.0, 0.25, 0.5, 0.75]
    assert [f.index for f in frames] == [0, 1, 2, 3]


def test_image_dir_default_fps_and_rgb(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", RED_BGR)
    _png(tmp_path / "b.png", RED_BGR)
    source = open_source(tmp_path)
    frames = list(source.frames())
    assert frames[1].t_s == pytest.approx(1 / 30)
    assert tuple(frames[0].image[0, 0]) == RED_RGB
    assert frames[0].image.flags["C_CONTIGUOUS"] and frames[0].image.dtype == np.uint8


def test_single_image(tmp_path: Path, real_media: Path) -> None:
    path = _png(tmp_path / "one.png", RED_BGR)
    source = open_source(path)
    assert isinstance(source, ImageSource) and source.kind == "image" and source.frame_count == 1
    (frame,) = list(source.frames())
    assert frame.t_s == 0.0 and frame.index == 0 and tuple(frame.image[0, 0]) == RED_RGB

    photo = open_source(real_media / "single_face.jpg")
    (frame,) = list(photo.frames())
    assert frame.image.ndim == 3 and frame.image.shape[2] == 3


# --- errors -------------------------------------------------------------------------------------------


def _source_error(path: Path, fps: float | None = None) -> str:
    with pytest.raises(SourceError) as info:
        source = open_source(path, fps=fps)
        list(source.frames())
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    return message


def test_missing_path(tmp_path: Path) -> None:
    assert "no such file" in _source_error(tmp_path / "nope.mp4")


def test_directory_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    assert "no images" in _source_error(tmp_path)


def test_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"this is plain text, not a video\n" * 20)
    assert "not a readable video" in _source_error(path)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", "Meeting notes: ask about the budget, then the timeline. Ünïcode too.\n".encode()),
        ("NOTES.TXT", b"upper-case suffix\n"),
        ("notes.txt", b"Windows quotes \x93like this\x94, not UTF-8\n"),  # FFmpeg plays these too
        ("readme.nfo", b"\xc9\xcd\xcd\xbb CP437 box art \xc8\xcd\xcd\xbc\n"),
    ],
)
def test_a_text_document_is_not_read_as_a_video_of_its_characters(tmp_path: Path, name: str, data: bytes) -> None:
    # FFmpeg's ANSI-art demuxer opens a .txt as a video of its characters: 69 frames, "no face", exit 0.
    path = tmp_path / name
    path.write_bytes(data * 80)
    error = _source_error(path)
    assert "not a readable video" in error and "holds text" in error and str(path) in error


@pytest.mark.parametrize("name", ["notes.mp4", "notes"])
def test_text_under_another_name_is_still_not_a_video(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Meeting notes, not a video.\n" * 80, encoding="utf-8")
    assert "not a readable video" in _source_error(path)


def test_real_media_and_text_based_media_are_not_text_documents(real_media: Path, tmp_path: Path) -> None:
    from callcoach.sources.checks import is_text_document

    files = [p for p in sorted(real_media.iterdir()) if p.suffix.lower() in (".mp4", ".mov", ".jpg", ".png")]
    assert len(files) >= 3
    y4m = tmp_path / "grey.y4m"  # a text header, then raw frames: a real video format
    y4m.write_bytes(b"YUV4MPEG2 W8 H8 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes([128]) * 96)
    pgm = tmp_path / "grey.pgm"  # a Netpbm image in ASCII: text, and an image FFmpeg reads
    pgm.write_text("P2\n8 8\n255\n" + " ".join(["128"] * 64) + "\n", encoding="ascii")
    concat = tmp_path / "list.txt"  # an FFmpeg concat list is a video to FFmpeg whatever its suffix
    (tmp_path / "clip.mp4").symlink_to(real_media / "single_face.mp4")  # relative: FFmpeg's "safe" paths
    concat.write_text("ffconcat version 1.0\nfile 'clip.mp4'\n", encoding="utf-8")
    for path in [*files, y4m, pgm, concat]:
        assert not is_text_document(path), path
    assert VideoFileSource(y4m).width == 8 and VideoFileSource(pgm).width == 8  # and they still open
    assert VideoFileSource(concat).width == 640


def test_empty_video_file_says_it_is_empty(tmp_path: Path) -> None:
    # Not "convert it to MP4": it already is one, with nothing in it.
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"")
    assert "is empty (0 bytes)" in _source_error(path)


def test_file_without_extension_that_is_an_image_still_opens(tmp_path: Path) -> None:
    png = _png(tmp_path / "x.png", RED_BGR)
    odd = tmp_path / "snapshot"
    odd.write_bytes(png.read_bytes())
    source = open_source(odd)
    assert tuple(next(iter(source.frames())).image[0, 0]) == RED_RGB


def test_corrupt_image(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8 definitely not a jpeg")
    assert "cannot decode image" in _source_error(path)


def test_corrupt_image_in_the_middle_of_a_folder(tmp_path: Path) -> None:
    _png(tmp_path / "f1.png", RED_BGR)
    (tmp_path / "f2.png").write_bytes(b"garbage")
    _png(tmp_path / "f3.png", RED_BGR)
    source = ImageDirSource(tmp_path, fps=10)
    frames = source.frames()
    assert next(frames).index == 0
    with pytest.raises(SourceError, match=r"f2\.png"):
        next(frames)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read anything")
def test_permission_denied_real(tmp_path: Path) -> None:
    path = _png(tmp_path / "locked.png", RED_BGR)
    path.chmod(0)
    try:
        assert "permission denied" in _source_error(path)
    finally:
        path.chmod(0o644)


def test_permission_denied_translated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated so the case is covered when the tests run as root (as on CI).
    path = _png(tmp_path / "locked.png", RED_BGR)
    real_open = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(SourceError) as info:
        open_source(path)
    assert "permission denied" in str(info.value) and str(path) in str(info.value)
    assert isinstance(info.value.__cause__, PermissionError)


@pytest.mark.parametrize("fps", [0, -1.5, math.nan, math.inf])
def test_bad_fps_is_a_usage_error(tmp_path: Path, fps: float) -> None:
    _png(tmp_path / "a.png", RED_BGR)
    with pytest.raises(UsageError, match="--fps"):
        open_source(tmp_path, fps=fps)


def test_video_source_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a folder, not a video"):
        VideoFileSource(tmp_path)
