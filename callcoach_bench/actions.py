"""Facial actions as landmark displacements at apex, in face units (see ``warp.FaceMesh``).

Each action returns a (478, 2) array of (u, v) displacements; a clip scales it by a 0..1 envelope per
frame, so displacements add when actions overlap. Magnitudes follow what real faces do (FACS action
units, roughly: a brow raise lifts the brows by about a tenth of the eye distance) and are sized so a
landmark tracker sees them on a call-sized face.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

from callcoach_bench.warp import LOWER_INNER, UPPER_INNER, FaceMesh

UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
UPPER_LIP = (*UPPER_INNER[1:-1], *UPPER_OUTER[1:-1])
LOWER_LIP = (*LOWER_INNER[1:-1], *LOWER_OUTER[1:-1])
CORNERS = {"r": (61, 78), "l": (291, 308)}
BROWS = {"r": (70, 63, 105, 66, 107, 46, 53, 52, 65, 55), "l": (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)}
LIDS = {  # corner, upper margin, corner / corner, lower margin, corner
    "r": ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133)),
    "l": ((263, 466, 388, 387, 386, 385, 384, 398, 362), (263, 249, 390, 373, 374, 380, 381, 382, 362)),
}
IRIS = {"r": (468, 469, 470, 471, 472), "l": (473, 474, 475, 476, 477)}
CHEEKS = {"r": (50, 101, 205, 117, 118, 36), "l": (280, 330, 425, 346, 347, 266)}
ALAR = {"r": (129, 64, 98, 48, 219, 102), "l": (358, 294, 327, 278, 439, 331)}
CHIN = (152, 175, 199, 200, 18, 171, 396, 208, 428)
SIDE = {"r": -1.0, "l": 1.0}  # sign of u on each side of the face

#: (478, 2) landmark displacements (u, v) in face units.
Displacement = npt.NDArray[np.float64]
Action = Callable[[FaceMesh, float], Displacement]


def _idx(*groups: Iterable[int]) -> list[int]:
    return [i for g in groups for i in g]


def spread(
    mesh: FaceMesh, moves: dict[int, tuple[float, float]], sigma: float, hold: Iterable[int] = ()
) -> Displacement:
    """Move the given landmarks exactly and their neighbours smoothly (Gaussian-weighted average).

    Dividing by max(1, total weight) lets the influence fade to zero away from the handles instead of
    dragging the whole face along, which a plain normalised average would do. ``hold`` landmarks stay
    put and hold their neighbours back: closed lips touch, so moving one must not drag the other.
    """
    moves = {**{i: (0.0, 0.0) for i in hold}, **moves}
    uv = mesh.uv()
    idx = np.array(list(moves), dtype=int)
    vec = np.array(list(moves.values()), dtype=np.float64)
    d2 = ((uv[:, None, :] - uv[None, idx, :]) ** 2).sum(axis=2)
    k = np.exp(-d2 / (2 * sigma**2))
    out: Displacement = (k @ vec) / np.maximum(1.0, k.sum(axis=1, keepdims=True))
    out[idx] = vec
    return out


def pin(disp: Displacement, *groups: Iterable[int]) -> Displacement:
    disp[_idx(*groups)] = 0.0
    return disp


def eye_pins() -> list[int]:
    return _idx(*LIDS["r"], *LIDS["l"], IRIS["r"], IRIS["l"])


def lids(
    mesh: FaceMesh, side: str, upper: float, lower: float, sigma_up: float = 0.1, sigma_down: float = 0.16
) -> Displacement:
    """Move one eye's lids by fractions of the local lid gap: ``upper`` > 0 lowers the upper lid (1 closes
    the eye onto the lower lid), ``lower`` > 0 raises the lower lid. The skin above and below follows
    with a falloff, and points inside the opening (iris) are squeezed proportionally so nothing folds.
    """
    uv = mesh.uv()
    up_idx, lo_idx = LIDS[side]
    up, lo = uv[list(up_idx)], uv[list(lo_idx)]
    ou, ol = np.argsort(up[:, 0]), np.argsort(lo[:, 0])
    u = uv[:, 0]
    v_up = np.interp(u, up[ou, 0], up[ou, 1])
    v_lo = np.interp(u, lo[ol, 0], lo[ol, 1])
    within = (u > up[:, 0].min()) & (u < up[:, 0].max())
    gap = np.where(within, np.maximum(v_lo - v_up, 0.0), 0.0)
    v = uv[:, 1]
    frac = np.clip((v - v_up) / np.maximum(gap, 1e-9), 0.0, 1.0)
    dv = np.where(
        v < v_up,
        upper * gap * np.exp(-(((v_up - v) / sigma_up) ** 2)),
        np.where(
            v > v_lo, -lower * gap * np.exp(-(((v - v_lo) / sigma_down) ** 2)), gap * (upper - frac * (upper + lower))
        ),
    )
    # Only this eye: the other eye's lid lines extrapolate nonsense, so limit to a band around it.
    near = np.abs(u - up[:, 0].mean()) < 0.45
    out = np.zeros_like(uv)
    out[:, 1] = np.where(near, dv, 0.0)
    return out


def both_lids(mesh: FaceMesh, upper: float, lower: float, **kw: float) -> Displacement:
    return lids(mesh, "r", upper, lower, **kw) + lids(mesh, "l", upper, lower, **kw)


def corners(mesh: FaceMesh, side: str, up: float, out: float, sigma: float = 0.13) -> Displacement:
    s = SIDE[side]
    outer, inner = CORNERS[side]
    return spread(mesh, {outer: (s * out, -up), inner: (s * out * 0.85, -up * 0.9)}, sigma)


def lid_creases(mesh: FaceMesh, reach: float = 0.11) -> list[int]:
    """Landmarks on the upper-lid skin, up to ``reach`` face units above each lash line."""
    uv = mesh.uv()
    out: list[int] = []
    for side in ("r", "l"):
        up = uv[list(LIDS[side][0])]
        order = np.argsort(up[:, 0])
        v_up = np.interp(uv[:, 0], up[order, 0], up[order, 1])
        span = (uv[:, 0] > up[:, 0].min() - 0.03) & (uv[:, 0] < up[:, 0].max() + 0.03)
        out += np.nonzero(span & (uv[:, 1] < v_up - 0.005) & (uv[:, 1] > v_up - reach))[0].tolist()
    return out


def brows(mesh: FaceMesh, inner_up: float, outer_up: float, inward: float = 0.0, sigma: float = 0.14) -> Displacement:
    """Raise (positive) or lower each brow, the inner and outer halves separately; ``inward`` draws the
    inner ends towards the nose (corrugator). A raise leaves the lid skin below the crease in place (a
    lid stretched with the brow reads as wide eyes); a lowered brow pushes that skin down over the lid,
    as it does in a frown."""
    uv = mesh.uv()
    moves: dict[int, tuple[float, float]] = {}
    for side in ("r", "l"):
        idx = list(BROWS[side])
        ub = uv[idx, 0]
        t = (np.abs(ub) - np.abs(ub).min()) / np.ptp(np.abs(ub))  # 0 at the inner end, 1 at the outer end
        for i, ti in zip(idx, t, strict=True):
            moves[i] = (-SIDE[side] * inward * (1 - ti), -(inner_up * (1 - ti) + outer_up * ti))
    hold = lid_creases(mesh) if max(inner_up, outer_up) > 0 else []
    return pin(spread(mesh, moves, sigma, hold=hold), eye_pins())


def jaw(mesh: FaceMesh, drop: float, narrow: float = 0.0) -> Displacement:
    """Open the mouth: the lower lip, chin and jaw line move down, less towards the jaw angles."""
    uv = mesh.uv()
    up_in, lo_in = uv[list(UPPER_INNER)], uv[list(LOWER_INNER)]
    seam = (up_in[:, 1] + lo_in[:, 1]) / 2
    order = np.argsort(up_in[:, 0])
    v_seam = np.interp(uv[:, 0], up_in[order, 0], seam[order])
    below = np.clip((uv[:, 1] - v_seam) / 0.06, 0.0, 1.0)
    lateral = np.clip(np.abs(uv[:, 0]) / 0.95, 0.0, 1.0)
    w = below * (1.0 - 0.7 * lateral**2)
    upper = _idx(UPPER_INNER, UPPER_OUTER)
    w[upper] = 0.0
    # The lower lip hangs from the corners, so the opening is a lens rather than a box.
    corner_u = float(np.mean(np.abs(uv[[78, 308], 0])))
    for group, power in ((LOWER_INNER[1:-1], 0.6), (LOWER_OUTER[1:-1], 0.35)):
        g = list(group)
        w[g] = np.clip(1.0 - (uv[g, 0] / corner_u) ** 2, 0.0, 1.0) ** power
    out = np.zeros_like(uv)
    out[:, 1] = drop * w
    for side in ("r", "l"):
        for i in CORNERS[side]:
            out[i] = (-SIDE[side] * narrow, drop * 0.35)
    return out


def lips_press(mesh: FaceMesh, amount: float, narrow: float = 0.03) -> Displacement:
    """Thin both lips towards the seam: outer contours move in, the seam stays (AU23/24)."""
    uv = mesh.uv()
    moves: dict[int, tuple[float, float]] = {}
    for outer, inner in ((UPPER_OUTER, UPPER_INNER), (LOWER_OUTER, LOWER_INNER)):
        iu = uv[list(inner)]
        order = np.argsort(iu[:, 0])
        for i in outer[1:-1]:
            target = np.interp(uv[i, 0], iu[order, 0], iu[order, 1])
            moves[i] = (0.0, (target - uv[i, 1]) * amount)
        for i in inner[1:-1]:
            moves[i] = (0.0, 0.0)
    for side in ("r", "l"):
        for i in CORNERS[side]:
            moves[i] = (-SIDE[side] * narrow, 0.0)
    return spread(mesh, moves, 0.07)


# --- The cues -------------------------------------------------------------------------------------


def polite_smile(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    """AU12 alone: the corners go up and out; the eyes are held exactly as they were."""
    d = corners(mesh, "r", 0.085 * k, 0.07 * k) + corners(mesh, "l", 0.085 * k, 0.07 * k)
    return pin(d, eye_pins())


def duchenne_smile(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    """AU6+12: the smile plus raised cheeks pushing the lower lids up (the eyes narrow by about a
    third), a slightly lowered upper lid and crow's feet; this eye part is what tells it from a polite
    smile."""
    d = polite_smile(mesh, 1.1 * k)
    d += spread(mesh, {i: (0.0, -0.03 * k) for i in (0, 37, 267, 13, 82, 312, 39, 269)}, 0.08, hold=LOWER_LIP)
    for side in ("r", "l"):
        d += spread(mesh, {i: (0.0, -0.06 * k) for i in CHEEKS[side]}, 0.16)
        # Crow's feet: the skin at the outer eye corner bunches towards the eye.
        d += spread(mesh, {LIDS[side][0][0]: (-SIDE[side] * 0.025 * k, 0.0)}, 0.1)
    d = pin(d, eye_pins())
    return d + both_lids(mesh, 0.08 * k, 0.3 * k, sigma_down=0.2)


def eyebrow_flash(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    return brows(mesh, 0.11 * k, 0.11 * k)


def micro_surprise(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    """AU1+2+5+26: brows up, upper lids up, jaw dropped with the mouth a little narrower."""
    return brows(mesh, 0.12 * k, 0.12 * k) + both_lids(mesh, -0.35 * k, 0.0) + jaw(mesh, 0.22 * k, 0.05 * k)


def lip_compression(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    """AU23/24: the red of the lips thins by about two thirds while the seam stays put."""
    return lips_press(mesh, min(0.9, 0.7 * k), 0.035 * k)


def unilateral_lip_pull(mesh: FaceMesh, k: float = 1.0, side: str = "l") -> Displacement:
    """AU12+14 on one side (contempt): that corner goes up and, more, sideways; the other one is held."""
    s = SIDE[side]
    outer, inner = CORNERS[side]
    other = CORNERS["l" if side == "r" else "r"]
    moves = {outer: (s * 0.1 * k, -0.07 * k), inner: (s * 0.085 * k, -0.063 * k)}
    return pin(spread(mesh, moves, 0.1, hold=other), eye_pins())


def nose_wrinkle(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    """AU9/10: the upper lip rises towards the nose (parting the lips in the middle), the nostril
    wings and cheeks rise, the inner brows come down."""
    uv = mesh.uv()
    corner_u = float(np.mean(np.abs(uv[[61, 291], 0])))
    lip = {
        i: (0.0, -0.1 * k * min(1.0, 1.6 * (1 - abs(uv[i, 0]) / corner_u)))
        for i in _idx(UPPER_OUTER[1:-1], UPPER_INNER[1:-1])
    }
    d = spread(mesh, lip, 0.08, hold=LOWER_LIP)
    for side in ("r", "l"):
        d += spread(mesh, {i: (0.0, -0.06 * k) for i in ALAR[side]}, 0.1)
        d += spread(mesh, {i: (0.0, -0.04 * k) for i in CHEEKS[side]}, 0.14)
    d = pin(d, eye_pins())
    d += brows(mesh, -0.06 * k, -0.015 * k, inward=0.025 * k, sigma=0.1)
    return d + both_lids(mesh, 0.08 * k, 0.25 * k)


def blink(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    # Lids meet a little below the middle, as the upper lid does most of the travel.
    return both_lids(mesh, 0.93 * min(k, 1.0), 0.05 * min(k, 1.0))


def gaze_lids(mesh: FaceMesh, k: float = 1.0, down: float = 0.0) -> Displacement:
    """What the lids do during a gaze shift (the iris itself is moved by the renderer): looking down
    lowers the upper lid with the eye."""
    return both_lids(mesh, min(0.5, 1.5 * down * k), 0.0) if down > 0 else np.zeros((len(mesh.points), 2))


def micro_frown(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    """Sadness, AU1+4+15(+17): oblique brows (inner ends up and together), mouth corners down, chin up."""
    d = brows(mesh, 0.075 * k, -0.015 * k, inward=0.03 * k, sigma=0.11)
    mouth = corners(mesh, "r", -0.06 * k, -0.01 * k, 0.11) + corners(mesh, "l", -0.06 * k, -0.01 * k, 0.11)
    chin = spread(mesh, {i: (0.0, -0.025 * k) for i in (*CHIN, 17, 84, 314)}, 0.1, hold=UPPER_LIP)
    return d + pin(mouth + chin, eye_pins())


def micro_anger(mesh: FaceMesh, k: float = 1.0) -> Displacement:
    # The lowered, drawn-together brows are the salient part of anger; the lips press less than in a
    # deliberate lip compression.
    d = brows(mesh, -0.11 * k, -0.05 * k, inward=0.05 * k, sigma=0.12)
    return d + both_lids(mesh, 0.25 * k, 0.12 * k) + lips_press(mesh, min(0.85, 0.35 * k), 0.02 * k)


def neutralize(mesh: FaceMesh) -> Displacement:
    """Undo the portrait's open smile: lips closed along a flatter seam, corners down and in, cheeks down.

    The lip contours are given target shapes rather than nudged: a smile's U-shaped seam reads as a
    smile to a landmark model however far the corners are pulled down.
    """
    uv = mesh.uv()
    gap = uv[list(LOWER_INNER[1:-1]), 1] - uv[list(UPPER_INNER[1:-1]), 1]
    seam_v = float(np.median(uv[list(UPPER_INNER[1:-1]), 1] + 0.6 * gap))
    corner_u = float(np.mean(np.abs(uv[[61, 291], 0]))) * 0.84
    moves: dict[int, tuple[float, float]] = {}

    def target(i: int, thickness: float, sign: float) -> None:
        u = uv[i, 0] * 0.84
        shape = max(0.0, 1.0 - (u / corner_u) ** 2) ** 0.6
        moves[i] = (u - uv[i, 0], seam_v + sign * thickness * shape - uv[i, 1])

    for i in UPPER_INNER[1:-1]:
        target(i, 0.0, -1.0)
    for i in LOWER_INNER[1:-1]:
        target(i, 0.004, 1.0)
    for i in UPPER_OUTER[1:-1]:
        target(i, 0.075, -1.0)
    for i in LOWER_OUTER[1:-1]:
        target(i, 0.13, 1.0)
    for side in ("r", "l"):
        for i in CORNERS[side]:
            moves[i] = (SIDE[side] * corner_u - uv[i, 0], seam_v + 0.012 - uv[i, 1])
    d = spread(mesh, moves, 0.1)
    for side in ("r", "l"):
        d += spread(mesh, {i: (0.0, 0.04) for i in CHEEKS[side]}, 0.15)
    d = pin(d, eye_pins())
    return d + both_lids(mesh, 0.0, -0.2)


def talk_basis(mesh: FaceMesh) -> dict[str, Displacement]:
    """Speech shapes a clip mixes per frame: jaw opening, lip rounding (o/u) and spreading (e/i)."""
    round_ = spread(mesh, {61: (0.06, 0.0), 78: (0.05, 0.0), 291: (-0.06, 0.0), 308: (-0.05, 0.0)}, 0.1)
    spread_ = corners(mesh, "r", 0.01, 0.04) + corners(mesh, "l", 0.01, 0.04)
    upper = spread(mesh, {i: (0.0, -0.02) for i in UPPER_INNER[2:-2]}, 0.06)
    return {
        "jaw": jaw(mesh, 0.16, 0.02),
        "round": pin(round_, eye_pins()),
        "spread": pin(spread_, eye_pins()),
        "upper": pin(upper, eye_pins()),
    }


CUE_ACTIONS: dict[str, Action] = {
    "duchenne_smile": duchenne_smile,
    "polite_smile": polite_smile,
    "eyebrow_flash": eyebrow_flash,
    "lip_compression": lip_compression,
    "unilateral_lip_pull": unilateral_lip_pull,
    "nose_wrinkle": nose_wrinkle,
    "blink_cluster": blink,
    "gaze_aversion": gaze_lids,
    "micro_frown": micro_frown,
    "micro_anger": micro_anger,
    "micro_surprise": micro_surprise,
}
