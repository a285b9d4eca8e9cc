"""The playbook as typed models: what a user may write in playbook.yaml, and nothing else.

Every cue of the vocabulary and the ``general`` context are required, so a playbook can always answer;
the other contexts override ``general`` field by field. The field descriptions end up in the published JSON
Schema, which editors use for completion, so they are written for the person editing the file.

Text fields are checked by the wording guard (callcoach.playbook.wording), every field with the rules for lines
said aloud: no claim callcoach never makes, and no remark on the other person's face or feelings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from callcoach.cues.vocabulary import CUE_NAMES
from callcoach.playbook.types import CONTEXTS
from callcoach.playbook.wording import first_refusal

SCHEMA_VERSION = 1
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Words that make a description read as a guess rather than a finding.
_HEDGES = ("maybe", "perhaps", "might", "may", "could", "possibly", "often", "sometimes", "can")


def _text(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValueError("must not be empty")
    # Every field gets the rules for lines said aloud too: a guess shown to the user is one glance away from
    # being read out, and none of the default playbook's lines needs the leeway.
    refused = first_refusal(text, spoken=True)
    if refused is not None:
        raise ValueError(f"reword it: {refused.message}")
    return text


def _spoken(value: str) -> str:
    return _text(value)


def _guess(value: str) -> str:
    text = _text(value)
    words = {w.strip(".,;:!?()\"'").lower() for w in text.split()}
    if not words.intersection(_HEDGES):
        raise ValueError("describe the cue as a guess (use a word such as maybe, might, could or often)")
    return text


Text = Annotated[str, Field(min_length=1), AfterValidator(_text)]
Spoken = Annotated[str, Field(min_length=1), AfterValidator(_spoken)]
Guess = Annotated[str, Field(min_length=1), AfterValidator(_guess)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]

_D_PLAIN = (
    "The cue in plain words, phrased as a guess (it must contain a word such as maybe, might, could or "
    "often). Shown with every suggestion."
)
_D_HYPOTHESES = "One to three readings of the cue: what it might mean if it is good news, neutral, or bad news."
_D_MOVES = (
    "Gentle micro-responses: one small, low-pressure move each (mirror warmth, soften, clarify, offer an "
    "opt-out, invite). Phrase them as questions or offers, never as statements about the other person. "
    "The selector rotates through them without repeating the last one."
)
_D_STRONGER = (
    "An optional, more explicit move. Only offered when at least two different cues from the same face "
    "arrive within support_window_s; never on a single cue. null disables it for this context."
)
_D_REPAIRS = "Lines to repair a misread: own the mistake briefly and hand the conversation back."
_D_SAY_NOTHING = "When silence is the better response to this cue."
_D_MIN_CONFIDENCE = "Overrides the context's min_confidence for this cue (0..1)."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hypotheses(_Strict):
    """Possible readings of a cue. Listing more than one keeps it a hypothesis."""

    positive: Text | None = Field(None, description="The hopeful reading, e.g. interest or agreement.")
    neutral: Text | None = Field(None, description="A reading that has nothing to do with the conversation.")
    negative: Text | None = Field(None, description="The worrying reading, e.g. doubt or discomfort.")

    @model_validator(mode="after")
    def _at_least_one(self) -> Hypotheses:
        if self.positive is None and self.neutral is None and self.negative is None:
            raise ValueError("give at least one of positive, neutral, negative")
        return self


class SayNothing(_Strict):
    """When the best move is no move."""

    when: Literal["never", "alone", "always"] = Field(
        "never",
        description=(
            "never: always suggest a move. alone: say nothing unless another cue from the same face arrived "
            "within support_window_s. always: this cue never prompts a move in this context."
        ),
    )
    line: Text | None = Field(None, description="Why silence is better here; shown instead of a move.")

    @model_validator(mode="after")
    def _line_when_silent(self) -> SayNothing:
        if self.when != "never" and self.line is None:
            raise ValueError(f"when is {self.when!r}: add a line saying why silence is better")
        return self


def _unique(items: list[str] | None, what: str) -> None:
    if items is not None and len(set(items)) != len(items):
        raise ValueError(f"{what} repeat a line; each one must be different")


class CueScript(_Strict):
    """What to do about one cue in the general context: complete, every field filled."""

    plain: Guess = Field(description=_D_PLAIN)
    hypotheses: Hypotheses = Field(description=_D_HYPOTHESES)
    moves: list[Spoken] = Field(min_length=1, max_length=8, description=_D_MOVES)
    stronger: Spoken | None = Field(None, description=_D_STRONGER)
    repairs: list[Spoken] = Field(min_length=1, max_length=6, description=_D_REPAIRS)
    say_nothing: SayNothing = Field(SayNothing(when="never", line=None), description=_D_SAY_NOTHING)
    min_confidence: Confidence | None = Field(None, description=_D_MIN_CONFIDENCE)

    @model_validator(mode="after")
    def _distinct(self) -> CueScript:
        _unique(self.moves, "moves")
        _unique(self.repairs, "repairs")
        return self


class CueOverride(_Strict):
    """What changes for one cue in a specific context; any field left out is taken from general."""

    plain: Guess | None = Field(None, description=_D_PLAIN)
    hypotheses: Hypotheses | None = Field(None, description=_D_HYPOTHESES)
    moves: list[Spoken] | None = Field(None, min_length=1, max_length=8, description=_D_MOVES)
    stronger: Spoken | None = Field(None, description=_D_STRONGER)
    repairs: list[Spoken] | None = Field(None, min_length=1, max_length=6, description=_D_REPAIRS)
    say_nothing: SayNothing | None = Field(None, description=_D_SAY_NOTHING)
    min_confidence: Confidence | None = Field(None, description=_D_MIN_CONFIDENCE)

    @model_validator(mode="after")
    def _distinct(self) -> CueOverride:
        _unique(self.moves, "moves")
        _unique(self.repairs, "repairs")
        return self


_D_CONTEXT = "Leave a context out to use general's scripts; any field it does give replaces general's."


class CueEntry(_Strict):
    """One cue's scripts per context."""

    general: CueScript = Field(description="Required: the complete script, used wherever a context says nothing.")
    sales: CueOverride | None = Field(None, description=_D_CONTEXT)
    negotiation: CueOverride | None = Field(None, description=_D_CONTEXT)
    social: CueOverride | None = Field(None, description=_D_CONTEXT + " (dating and social calls)")
    leadership: CueOverride | None = Field(None, description=_D_CONTEXT)
    customer_service: CueOverride | None = Field(None, description=_D_CONTEXT)

    def resolve(self, context: str) -> CueScript:
        override = getattr(self, context, None) if context != "general" else None
        if override is None:
            return self.general
        # Only the fields written in the file count, so an explicit `stronger: null` switches it off.
        update = {name: getattr(override, name) for name in override.model_fields_set}
        return self.general.model_copy(update=update)


class Cues(_Strict):
    """Every cue of the vocabulary, by its public name."""

    duchenne_smile: CueEntry = Field(description="Smile with cheeks raised and the eyes crinkling.")
    polite_smile: CueEntry = Field(description="Smile of the mouth alone; the eyes do not take part.")
    eyebrow_flash: CueEntry = Field(description="Quick raise of both brows.")
    lip_compression: CueEntry = Field(description="Lips pressed together and thinned.")
    unilateral_lip_pull: CueEntry = Field(description="One lip corner pulled or tightened, the other not.")
    nose_wrinkle: CueEntry = Field(description="Nose wrinkled, upper lip raised.")
    blink_cluster: CueEntry = Field(description="A burst of three or more blinks in a short window.")
    gaze_aversion: CueEntry = Field(description="The eyes move away from where the person was looking.")
    micro_frown: CueEntry = Field(description="Inner brows up, lip corners down.")
    micro_anger: CueEntry = Field(description="Brows lowered and drawn together, lids or lips tightened.")
    micro_surprise: CueEntry = Field(description="Brows raised and eyes widened.")


class ContextSettings(_Strict):
    """Settings of one conversation context."""

    min_confidence: Confidence = Field(
        description="Cues below this confidence (0..1) are ignored in this context. Higher means fewer, surer "
        "suggestions. The detector's confidence is about 0.45 to 0.75 without support from the appearance "
        "model, up to 0.95 with it."
    )


class Contexts(_Strict):
    """Per-context settings; a context left out uses general's."""

    general: ContextSettings
    sales: ContextSettings | None = None
    negotiation: ContextSettings | None = None
    social: ContextSettings | None = None
    leadership: ContextSettings | None = None
    customer_service: ContextSettings | None = None


class Playbook(_Strict):
    """callcoach's playbook: for each facial cue and conversation context, one small thing to try."""

    model_config = ConfigDict(title="callcoach playbook")

    version: Literal[1] = Field(description="Format version of this file. Only 1 exists.")
    cooldown_s: float = Field(
        10.0, ge=0.0, le=600.0, description="Seconds between two suggestions, so one move has time to land."
    )
    support_window_s: float = Field(
        4.0,
        gt=0.0,
        le=60.0,
        description="Two different cues from the same face this close together (seconds) count as two "
        "supporting signals: only then may a stronger move be offered.",
    )
    contexts: Contexts = Field(description="Per-context settings; general is required.")
    cues: Cues = Field(description="Scripts for every cue of the vocabulary; all are required.")

    _resolved: dict[tuple[str, str], CueScript] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        # Resolve the context fallbacks once, so the selector does a dictionary lookup per cue.
        for cue in CUE_NAMES:
            entry: CueEntry = getattr(self.cues, cue)
            for ctx in CONTEXTS:
                self._resolved[(cue, ctx)] = entry.resolve(ctx)

    def script(self, cue: str, context: str = "general") -> CueScript:
        """The script for a cue in a context (general's fields wherever the context gives none)."""
        try:
            return self._resolved[(cue, context)]
        except KeyError:
            raise KeyError(f"no script for cue {cue!r} in context {context!r}") from None

    def threshold(self, cue: str, context: str = "general") -> float:
        """The minimum confidence for a cue in a context: the cue's own, else the context's, else general's."""
        own = self.script(cue, context).min_confidence
        if own is not None:
            return own
        settings: ContextSettings | None = getattr(self.contexts, context, None)
        return (settings or self.contexts.general).min_confidence


def playbook_json_schema() -> dict[str, Any]:
    """The published JSON Schema (docs/playbook.schema.json is this, written by ``callcoach playbook export``)."""
    schema = Playbook.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **schema}


# The explicit field lists above must follow the vocabulary and the context list exactly.
if tuple(Cues.model_fields) != CUE_NAMES:  # pragma: no cover - guards an edit of one without the other
    raise RuntimeError("callcoach.playbook.model.Cues is out of step with CUE_NAMES")
if tuple(Contexts.model_fields) != CONTEXTS or tuple(CueEntry.model_fields) != CONTEXTS:  # pragma: no cover
    raise RuntimeError("callcoach.playbook.model contexts are out of step with CONTEXTS")
