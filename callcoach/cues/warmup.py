"""A smile seen before the person's resting face is known.

Every other cue is a change from the resting face, so none can be given while the baseline is still
being learned: 2 s at least, and up to 10 s for a face that never calms down. A person who is smiling
when they appear, or who smiles and laughs through a short clip, would then get no smile at all: the
warm-up waits for calm frames that never come (on a real talking clip, ten-second windows of a man
laughing while he speaks gave no cue before this rule; docs/detector.md, "Real talking faces").

A smile is the one expression that can be told without the person's own reference, because two
independent readers agree on it by any face's standard: the appearance model at least ``SURE_P`` sure
of happiness (the level at which a reading already names a smile felt) and MediaPipe's ``mouthSmile``
at ``SMILE_BS`` or more. On the dev half of the real photos (``callcoach bench real``'s split) both
together held on 52 of 60 happy photos, on none of 48 neutral ones and on 2 of 276 other expressions;
``SMILE_BS`` 0.2 to 0.5 gave the same counts there, and 0.3 sits in the middle (neutral photos: 95th
percentile 0.08). Other emotions are not read this way: the appearance model reads many resting faces
as sad or angry, which is why the rest of the engine weighs only its change from the resting face.

A smile seen since the face's first frames might be the face at rest (a face that looks happy at rest):
it counts once the face, without it, has rested (a few calm frames), or once it has grown (``RISE``
over its own lowest, for ``MIN_S``) while calibrating: a man laughing through a ten-second clip, whose
laugh swells and ebbs. A smile held still from the first frame to the last is taken for the face at
rest and is not given.

The watcher runs while the baseline is not ready, and goes on with a smile still under way when it
becomes ready. The smile is given once it ends, held at least ``MIN_S``, unless the baseline's own
smile channels picked it up after the baseline became ready (their cue is measured against the
resting face, and wins).
"""

from __future__ import annotations

from dataclasses import dataclass

from callcoach.cues.baseline import MIN_CALM
from callcoach.cues.channels import SURE_P, SWITCH_P

SMILE_BS = 0.3
#: A smile seen since the first frames that grows by this much ``mouthSmile`` over its own lowest, for
#: ``MIN_S``, is seen to begin: a face at rest holds still. Between one and two of the engine's floors for
#: ``mouthSmile`` (0.15, a noticeable change), chosen on the real talking clips' laughs (docs/detector.md).
#: Talking can grow it too: 3 false warm-up smiles in the synthetic set's talking clips (a still smile,
#: its smiling face at 0.90 included, does not).
RISE = 0.2
MIN_S = 0.35  # as long as a held expression must last (longer than a blink)
#: The cues that are a smile: one given from the warm-up and one from the channels are the same smile.
SMILES = frozenset({"duchenne_smile", "polite_smile"})
GAP_S = 0.2  # a break this short (a blink, a skipped frame) does not end a smile: the engine's merge gap


@dataclass(frozen=True)
class WarmupSmile:
    """One smile seen before the resting face was known: when, and how broad (peak ``mouthSmile``)."""

    onset_s: float
    apex_s: float
    #: None while it was still under way at the end of the input.
    offset_s: float | None
    peak: float


class WarmupWatcher:
    """Finds the smiles of a face whose baseline is not ready yet (see the module docstring)."""

    def __init__(self) -> None:
        self._happy: float | None = None  # unknown until the appearance model has read the face
        self._onset: float | None = None
        self._apex_t = 0.0
        self._peak = 0.0
        self._last_t = 0.0  # the last frame of the smile under way
        #: A readable frame clearly without a smile was seen: a smile after it is seen to begin.
        self._clear_seen = False
        self._clear_since: float | None = None
        self._begun_seen = False
        self._calm_after = 0  # calm frames without the smile since it last showed
        self._low = 1.0  # the lowest mouthSmile of the smile under way
        self._rise_since: float | None = None  # the first frame of the grown stretch under way
        #: The smile under way is not given: the resting face's own channels gave it, or it is the
        #: resting face itself.
        self.taken = False

    @property
    def open(self) -> bool:
        """Whether a smile is under way."""
        return self._onset is not None

    def update(
        self,
        t: float,
        happiness: float | None,
        smile_bs: float,
        readable: bool,
        calm: bool = False,
        calibrating: bool = True,
    ) -> WarmupSmile | None:
        """Read one frame; the smile that ended on it, if any.

        ``happiness`` is None on frames the appearance model skipped (it runs every second frame): the
        last value holds. ``readable`` is False when the mouth is covered or the head turns fast: such a
        frame neither extends nor ends a smile. A smile starts with both readers sure and ends only once
        the face clearly shows none (appearance under ``SWITCH_P``, or ``mouthSmile`` under half of
        ``SMILE_BS``) for longer than ``GAP_S``: a smile wavering around the levels is one smile.

        A smile seen since the face's first frames has to show that it is not the face at rest: it ends
        only once the face, without it, has been ``calm`` (the baseline's own resting-face test) on
        ``MIN_CALM`` frames; if it comes back first it is the same smile (a face that looks happy at rest,
        interrupted by a frown or a word, is not smiling). Unless it grows while ``calibrating`` (``RISE``)."""
        if happiness is not None:
            self._happy = happiness
        if not readable:
            # Covered or turning away for longer than a blink-long break: what comes after is not known to
            # be the same smile (the channels cut a movement under a hand, too).
            return self.interrupt() if self._onset is not None and t - self._last_t > GAP_S else None
        happy = self._happy
        smiling = happy is not None and happy >= SURE_P and smile_bs >= SMILE_BS
        clearly_not = (happy is not None and happy < SWITCH_P) or smile_bs < SMILE_BS / 2
        ended = None
        if smiling:
            if self._onset is None:
                self._onset, self._peak, self._low, self._rise_since = t, 0.0, smile_bs, None
                self._begun_seen, self.taken = self._clear_seen, False
            if smile_bs > self._peak:
                self._peak, self._apex_t = smile_bs, t
        if calibrating:
            self._grow(t, smile_bs if smiling else None)
        if self._onset is not None and not clearly_not:
            self._last_t, self._calm_after = t, 0
        elif self._onset is not None and t - self._last_t > GAP_S:
            self._calm_after += int(calm)
            if self._begun_seen or self._calm_after >= MIN_CALM:
                ended = self._close(self._last_t)
        # A face clearly without a smile for longer than a blink-long break (one frame may be the tracker
        # settling on a new face): a smile after it is seen to begin.
        if not clearly_not:
            self._clear_since = None
        elif self._clear_since is None:
            self._clear_since = t
        self._clear_seen = self._clear_seen or (self._clear_since is not None and t - self._clear_since > GAP_S)
        return ended

    def _grow(self, t: float, smile_bs: float | None) -> None:
        """Follow how far the smile under way has grown over its own lowest (``smile_bs`` None: a frame
        without it, a frown or a word, is no smaller smile); grown by ``RISE`` for ``MIN_S`` (not for a
        vowel's instant: speech pushes mouthSmile up on its own), it is seen to begin."""
        if smile_bs is None:
            self._rise_since = None
            return
        self._low = min(self._low, smile_bs)
        if smile_bs < self._low + RISE:
            self._rise_since = None
            return
        self._rise_since = t if self._rise_since is None else self._rise_since
        self._begun_seen = self._begun_seen or t - self._rise_since >= MIN_S

    def interrupt(self) -> WarmupSmile | None:
        """The face is lost or unreadable: a smile seen to begin ends where it was last seen; one seen since
        the first frames is dropped (it never showed it was not the face at rest)."""
        if self._onset is None:
            return None
        if not self._begun_seen:
            self._onset = None
            return None
        return self._close(self._last_t)

    def finish(self, t: float) -> WarmupSmile | None:
        """End of input at ``t``: a smile still showing (or within ``GAP_S`` of its last frame) is still under
        way and has no offset; one that had ended for longer ends at its last frame.

        A smile seen since the face's first frames that has not shown it was no resting face is not given:
        with nothing to compare it to, it is indistinguishable from a face that looks happy at rest."""
        if self._onset is None:
            return None
        if not self._begun_seen:
            self._onset = None
            return None
        return self._close(None if t - self._last_t <= GAP_S else self._last_t)

    def _close(self, offset: float | None) -> WarmupSmile | None:
        """The smile under way ends at ``offset`` (its last frame; None: still under way)."""
        assert self._onset is not None
        onset, self._onset = self._onset, None
        end = offset if offset is not None else self._last_t
        if self.taken or end - onset < MIN_S:
            return None
        return WarmupSmile(onset, self._apex_t, offset, self._peak)
