"""The wording guard's vocabulary: each rule is a kind of claim, a pattern over normalised text (see
``callcoach.playbook.wording.normalise``) and how its clause may excuse it. The stems and phrases here are what
the guard refuses; tests/data/wording_corpus.yaml has the lines they were tuned and scored on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["lie", "diagnosis", "manipulation", "face"]


@dataclass(frozen=True)
class Rule:
    kind: Kind
    pattern: re.Pattern[str]
    #: How the clause before the match can excuse it: "negation" (claims), "condition" (face remarks), "none".
    excuse: Literal["negation", "condition", "none"] = "negation"
    #: The line of the match must also match this (e.g. "vulnerable" only counts next to "push").
    needs: re.Pattern[str] | None = None
    #: The clause before the match must not match this ("where the problem lies").
    unless_before: re.Pattern[str] | None = None


def rx(*parts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


# --- the vocabulary -------------------------------------------------------------------------------------

_PERSON = (
    r"(?:them|him|her|the other person|the other side|people|someone|somebody|the client|the customer"
    r"|the buyer|the prospect|the candidate|your (?:date|partner|boss|client|customer|colleague|team))"
)
_SUBJ = r"(?:they|he|she|someone|somebody|people|the other person|a person|anyone|your \w+)"
_ADV = (
    r"(?:(?:so|a bit|a little|a little bit|kind of|sort of|quite|really|very|pretty|clearly|obviously|visibly"
    r"|totally|fully|entirely|completely|rather|somewhat|slightly|super|getting|becoming|still|now|not|do|did"
    r"|just|always|often|sometimes|seriously|honestly|definitely|certainly|probably|suddenly)\s+)*"
)
_FEELING = (
    r"(?:angry|upset|annoyed|irritated|irritable|mad|furious|cross|disgusted|sad|unhappy|down|depressed|scared"
    r"|afraid|frightened|fearful|terrified|nervous|anxious|uncomfortable|uneasy|confused|lost|frustrated"
    r"|offended|hurt|bored|surprised|shocked|stunned|defensive|tense|tensed up|stressed|stressed out|worried"
    r"|doubtful|skeptical|sceptical|unconvinced|convinced|hesitant|unsure|uncertain|embarrassed|ashamed"
    r"|guilty|jealous|envious|disappointed|disapproving|displeased|impatient|agitated|distracted|tired"
    r"|exhausted|overwhelmed|put off|thrown|rattled|shaken|flustered|excited|happy|pleased|delighted|amused"
    r"|interested|relieved|insecure|vulnerable|grumpy|emotional|moved|touched|contemptuous|cold|distant"
    r"|closed off|withdrawn|troubled|bothered|concerned|on edge|under pressure|pressured|rushed|awkward"
    r"|reluctant|puzzled|baffled|lonely|tearful|teary|close to tears|in pain|hostile|suspicious|wary|guarded"
    r"|not happy|not ok|not okay|not yourself|not sure|not convinced|not comfortable|not interested)"
)
_FACE_PART = (
    r"(?:face|faces|expression|expressions|micro ?expressions?|microexpressions?|eyes|eyebrows?|brows?|lips"
    r"|mouth|jaw|smile|frown|forehead|nose|cheeks?|body language|posture|features|facial \w+)"
)
_FACE_EVENT = (
    r"(?:look|face|expression|micro ?expression|microexpression|reaction|flinch|frown|smirk|wince|grimace"
    r"|eye roll|scowl|sneer|raised eyebrows?|furrowed brows?|tight lips|clenched jaw|pursed lips|smile|sigh"
    r"|blush|twitch|glance|eye movement|nose wrinkle|lip press|tension in your|hesitation|doubt|discomfort"
    r"|unease|frustration|anger|irritation|disgust|contempt|fear|sadness|surprise|annoyance|emotion|emotions"
    r"|feeling|feelings|nervousness|anxiety|skepticism|scepticism|disappointment|hurt|worry|worries|concern"
    r"|excitement|relief|boredom|confusion|shock|embarrassment|nerves|stress|impatience|distrust|suspicion"
    r"|reluctance|disapproval|displeasure|pain|sorrow|unhappiness|dislike)"
)
_FACE_ACTION = (
    r"(?:reacted|flinched|frowned|winced|grimaced|smirked|rolled (?:your|their|his|her) eyes|tensed(?: up)?"
    r"|stiffened|blushed|flushed|went pale|went red|went quiet|looked away|looked down|looked uneasy|made a face"
    r"|pulled a face|raised (?:an|your|their|his|her) eyebrows?|raised (?:an|your|their|his|her) brow"
    r"|furrowed|pursed|clenched|sneered|scowled|smiled|grinned|sighed|blinked|squinted|bristled|recoiled"
    r"|hesitated|paused|froze)"
)
_PERCEIVE = (
    r"(?:i|we)\s+(?:can\s+|could\s+|just\s+|definitely\s+|clearly\s+)?"
    r"(?:see|saw|notice|noticed|spot|spotted|caught|catch|sense|sensed|detect|detected|picked up on|pick up on"
    r"|read|tell|get the sense|get the feeling|have the feeling|have a feeling|got the sense|got the feeling)"
)
_LEVER = (
    r"(?:fear|fears|weakness|weaknesses|vulnerab\w*|insecurit\w*|doubts?|guilt|emotions?|emotional state"
    r"|anxiet\w*|nerves|nervousness|confusion|loneliness|desperation|hesitation|discomfort|pain|grief"
    r"|moment of weakness|low mood|sadness|embarrassment|shame|trust|feelings|mood|stress|exhaustion|tiredness)"
)
_CONDITIONS = (
    r"depress(?:ion|ions|ive|ed)|autis\w*|asperger\w*|adhd|add/adhd|attention deficit|hyperactiv\w*|ocd"
    r"|obsessive compulsive|ptsd|post traumatic|trauma|traumas|traumati[sz]ed|traumatic|bipolar|manic|mania"
    r"|schizo\w*|psychopath\w*|sociopath\w*|narcissis\w*|psychotic|psychosis|paranoi\w*|dementia|alzheimer\w*"
    r"|parkinson\w*|tourette\w*|dyslexi\w*|neurodiver\w*|neurotic|borderline personality|insomnia|anorexi\w*"
    r"|bulimi\w*|antidepressants?|psychiatr\w*|suicid\w*|self harm|addict\w*|alcoholi\w*|concussion"
)

_RULES: tuple[Rule, ...] = (
    # --- lying and deception ---
    Rule(
        "lie",
        rx(
            r"(?:lie|lies|lying)(?!\s+(?:down|back|ahead|in\s+wait|in\s+(?:the|their|how|what|a|an|our|your|its|which)|elsewhere|somewhere|between|on\s+the\s+table|at\s+the\s+(?:heart|root|core)|low|flat|still|awake|beneath|within|over|across|under|beside|along"
            r"|with\s+(?:the|us|you|me|them|their|our)))|lied|liar|liars"
        ),
        unless_before=re.compile(
            r"\b(?:where|here|therein|problem|issue|difficulty|answer|strength|interest|"
            r"interests|priorities|focus|value|risk|challenge|solution|future)\b\s*$"
        ),
    ),
    Rule(
        "lie",
        rx(
            r"fib|fibs|fibbed|fibbing|fibber|fibbers|decei\w*|decept\w*|dishonest\w*|untruth\w*",
            r"untrue|disingenuous\w*|insincer\w*|duplicit\w*|two faced|mislead\w*|misled|bluff\w*",
            r"fabricat\w*|conceal\w*|bullshit\w*|evasive\w*|evading|shifty|sneaky|hoodwink\w*",
            r"pinocchio|lie detect\w*|truth detect\w*|poker tell|guilty conscience",
        ),
    ),
    Rule(
        "lie",
        rx(
            r"cover(?:s|ed|ing)?\s+(?:it\s+|this\s+|that\s+|something\s+|things\s+|stuff\s+)?up",
            r"cover ups?|hid(?:e|es|ing|den)\s+(?:something|anything|things|stuff|the truth|the facts"
            r"|secrets?|a secret|what|(?:their|his|her|the)\s+(?:real|true)|information|details|it from"
            r"|behind|how (?:they|he|she))",
            r"hidden (?:agenda|motives?|feelings|intentions?|truth)",
            r"(?:real|true|secret) (?:feelings|intentions?|motives?|agenda|thoughts|emotions|opinions?|self)",
            r"not\s+(?:be\s+|being\s+|been\s+)?(?:totally\s+|fully\s+|entirely\s+|completely\s+|quite\s+"
            r"|really\s+|being\s+)?(?:honest|truthful|straight|sincere|forthcoming|upfront|up front|candid"
            r"|genuine|trustworthy|on the level|level with \w+)",
            r"not\s+(?:be\s+|being\s+)?(?:telling|saying|speaking|giving)\s+(?:you\s+|us\s+|me\s+)?"
            r"(?:the\s+)?(?:whole\s+|full\s+|real\s+)?truth",
            r"(?:hid\w*|bend\w*|stretch\w*|twist\w*|dodg\w*|avoiding|withh[oe]ld\w*|shad\w*|economical with"
            r"|hold\w* back|held back|keep\w* back|kept back|sit\w* on|spin\w*|massag\w*)"
            r"\s+the\s+(?:whole\s+|real\s+)?truth",
            r"(?:something|anything|a lot|plenty|much|things)\s+to\s+hide",
            r"withh[oe]ld\w*\s+(?:information|the facts|facts|details|something|anything|the real)",
            r"guilty\s+(?:look|face|expression|smile|eyes)",
            r"(?:keep|keeps|keeping|kept)\s+(?:\w+\s+){0,3}(?:hidden|secret|under wraps)",
            r"(?:making|make|made|makes)\s+(?:things|stuff|it|that|this|something|the|those|these)\s+(?:\w+\s+)?up\b"
            r"(?!\s+(?:to|for))",
            r"pretend\w*\s+(?:to|that)|faking\s+\w+|fake\s+(?:interest|agreement|enthusiasm|concern"
            r"|smile|emotions?|feelings|it)",
            r"(?:a|their|his|her|the)\s+tell(?!\s+(?:me|us|them|you|him|her|the|a|what|how|why|when|that"
            r"|about|if|whether|whoever|which))\b",
            r"(?:detect|spot|catch|read|sense|tell|know|see|reveal|show)s?\s+(?:if|whether|when|who)\s+"
            + _SUBJ
            + r"\s+(?:is|are|was|were)\s+(?:honest|truthful|telling the truth|sincere)",
            r"(?:do not|never|can not|not)\s+(?:to\s+)?(?:trust|believe)\s+(?:them|him|her|what they"
            r"|what he|what she|a word)",
        ),
    ),
    Rule(
        "lie",
        rx(
            r"feign\w*|phony|phoney|fraud\w*|con\s+(?:artist|man|job)|scam\w*|swindl\w*|faked|misrepresent\w*|shady",
            r"(?:is|are|was|were|be|looks?|looked|seems?|seemed|sounds?|sounded|feels?|felt)\s+" + _ADV + r"fake",
            r"fake\s+(?:smile|smiles|smiling|laugh|laughter|tears|warmth|emotions?|feelings|excitement|surprise)",
            r"string\w*\s+(?:you|them|us|me)\s+along|pull\w*\s+the\s+wool|cover\s+stor(?:y|ies)",
            r"stop\s+(?:lying|fibbing|bluffing|deceiving|hiding|pretending|faking)",
            r"(?:something|anything|things|the\s+truth|the\s+real\s+\w+|information|facts|it)\s+(?:is|are|was|were"
            r"|might\s+be|may\s+be|could\s+be)\s+(?:being\s+)?(?:hidden|concealed|kept\s+from\s+(?:you|us|me))",
            r"signs?\s+of\s+guilt|gives?\s+(?:them|him|her)\s+away|tells?\s+of\s+(?:a\s+)?(?:lie|lying)",
            r"truthfulness|(?:honesty|credibility|sincerity)\s*(?:score|level|rating|meter|index|:)",
            r"(?:their|his|her|the)\s+(?:story|account|answer|excuse)\s+(?:does\s+not|do\s+not|did\s+not)\s+add\s+up",
        ),
    ),
    # --- medical and diagnostic claims ---
    Rule(
        "diagnosis",
        rx(
            r"diagnos(?:e|es|ed|ing|is|tic)|misdiagnos\w*|disorders?|disordered|symptoms?"
            r"|symptomatic|syndromes?|patholog\w*|clinically|illness\w*|diseases?|diseased",
            _CONDITIONS,
            r"(?:social|clinical|generali[sz]ed|severe|chronic)\s+anxiety",
            r"anxiety\s+(?:attacks?|conditions?|problems?|issues|sufferer)|panic\s+attacks?",
            r"(?:has|have|having|with|suffer\w*\s+from|struggl\w*\s+with|living\s+with|signs?\s+of)"
            r"\s+(?:an?\s+|some\s+)?(?:kind\s+of\s+)?(?:anxiety|condition|illness|disease)",
            r"(?:medical|mental|health|underlying|neurological|psychiatric|psychological|chronic"
            r"|clinical|cognitive|developmental|learning)\s+(?:conditions?|issues?|problems?"
            r"|disabilit\w*|impairments?|claims?|diagnos\w*|illness\w*)",
            r"mental(?:ly)?\s+(?:ill|illness\w*|unstable|unwell|disturbed|breakdown|health"
            r"\s+(?:conditions?|issues?|problems?|crisis|struggles?))",
            r"nervous\s+breakdown|emotionally\s+unstable|on\s+the\s+(?:autism\s+|autistic\s+)?spectrum",
            r"(?:needs?|should\s+(?:get|see|try)|could\s+use|ought\s+to\s+see)\s+(?:some\s+)?"
            r"(?:therapy|a therapist|a doctor|a psychiatrist|a psychologist|professional help"
            r"|medication|meds|treatment|counsel+ing)",
            r"on\s+(?:medication|meds|antidepressants|pills)",
        ),
    ),
    Rule(
        "diagnosis",
        rx(
            r"phobi\w*|nervous\s+tics?|tics|high\s+functioning|low\s+functioning|cognitive\s+decline",
            r"(?:has|have|having|with)\s+add(?!\s+(?:a|an|the|more|some|it|this|that|to|on|up|in|value))",
            r"intoxicated|drunk|on\s+drugs|under\s+the\s+influence|hungover|substance\s+abuse",
            r"(?:has|have|with)\s+(?:a\s+)?(?:personality|mood|eating|sleep|attachment)\s+(?:type|problem|issue)",
        ),
    ),
    # --- manipulation ---
    Rule(
        "manipulation",
        rx(
            r"manipulat\w*|exploit\w*|gaslight\w*|coerc\w*|intimidat\w*|bully\w*|bullied|browbeat\w*|blackmail\w*",
            r"guilt\s+trip\w*|guilt\s+(?:them|him|her)|shame\s+(?:them|him|her)|shaming\s+(?:them|him|her)",
            r"weaponi[sz]\w*|mind\s+games?|head\s+games?|psych\s+(?:them|him|her)\s+out|dark\s+patterns?",
            r"pressur(?:e|es|ed|ing)\s+(?:" + _PERSON + r"|into|your)",
            r"(?:put|puts|putting|apply|applying|add|adding|pile|piling|keep|keeping|keep up|keeping up|maintain\w*"
            r"|increase|increasing|turn up"
            r"|ramp up|crank up|ratchet up|heap|step up|use)\s+(?:on\s+)?(?:the\s+|more\s+|some\s+|extra\s+|real\s+"
            r"|maximum\s+|a lot of\s+|heavy\s+|all the\s+)?pressure",
            r"high\s+pressure|pressure\s+tactics?|pressure\s+(?:them|him|her)",
            r"push(?:es|ed|ing)?\s+(?:them|him|her|harder|hard|now|while|until|past|into|the sale|the close|the deal"
            r"|for\s+(?:the\s+|a\s+)?(?:yes|close|sale|deal|decision|signature|commitment)|through\s+(?:their|the|his|her))",
            r"keep\s+pushing|push\s+it\s+home|go(?:ing)?\s+(?:in\s+)?for\s+the\s+kill|moves?\s+in\s+for\s+the\s+kill|"
            r"(?:keep|keeping|throw|knock|catch|caught)\s+(?:them|him|her)\s+off\s+(?:balance|guard)|"
            r"(?:rush|rushing|rushed|hurry|hurrying|bounce|bouncing|stampede)\s+(?:them|him|her)\s+(?:into|to\s+(?:sign|decide|commit|agree))|move\s+in\s+for|close\s+in\s+(?:on|now)",
            r"strike\s+(?:while|now|when)|pounce\w*",
            r"corner(?:s|ed|ing)?\s+(?:them|him|her)|into\s+a\s+corner|box(?:es|ed|ing)?\s+(?:them|him|her)\s+in",
            r"trap(?:s|ped|ping)?\s+(?:them|him|her)|catch\s+(?:them|him|her)\s+out|pin\s+(?:them|him|her)\s+down",
            r"force(?:s|d)?\s+(?:them|him|her|a\s+(?:decision|yes|commitment))|forcing\s+(?:them|him|her|a)",
            r"wear(?:s|ing)?\s+(?:them|him|her)\s+down|break\s+(?:them|him|her)|break\s+down\s+(?:their|his|her)",
            r"(?:make|makes|making|get|getting)\s+(?:them|him|her)\s+(?:to\s+)?(?:say\s+yes|agree|sign|commit|cave"
            r"|give\s+in|back\s+down|buy|crack|squirm|sweat|feel\s+(?:guilty|small|stupid|inferior|ashamed|bad"
            r"|insecure|afraid|scared|worthless|indebted|obliged))",
            r"trick(?:s|ed|ing)?\s+(?:them|him|her|people|someone|the other|into)|fool\s+(?:them|him|her)"
            r"|con\s+(?:them|him|her)|dupe\w*|duped",
            r"(?:false|fake|artificial|manufactured|invented)\s+(?:urgency|deadlines?|scarcity)"
            r"|manufactur\w*\s+urgency|invent\s+a\s+deadline",
            r"let\s+(?:them|him|her)\s+sweat|squeeze\s+(?:them|him|her)|lean\s+on\s+(?:them|him|her)"
            r"|twist\s+(?:their|his|her)\s+arm|hook\s+(?:them|him|her)|bait\s+(?:them|him|her)",
            r"threaten(?:s|ing)?\s+(?:them|him|her|to)",
            r"take\s+advantage\s+of\s+(?:them|him|her)|taking\s+advantage\s+of\s+(?:them|him|her)",
            r"(?:use|uses|using|leverag\w+|play\s+on|plays\s+on|playing\s+on|prey\w*\s+on|capitali[sz]\w*\s+on"
            r"|take\s+advantage\s+of|taking\s+advantage\s+of|seiz\w+\s+on|seiz\w+|feed\s+on|target\w*|work\s+on"
            r"|press\s+on|dig\s+into|milk)\s+(?:(?:their|his|her|the|that|this|any|every|its)\s+)?(?:\w+\s+)?" + _LEVER,
            r"while\s+(?:they|he|she)\s+(?:are|is|feel|feels|seem|seems)\s+"
            + _ADV
            + r"(?:weak|vulnerable|down|upset|emotional|off\s+guard|off\s+balance|distracted|confused|rattled|tired"
            r"|unsure|distressed|scared|nervous|flustered|desperate|insecure)",
        ),
    ),
    Rule(
        "manipulation",
        rx(
            r"vulnerab\w*|weak\s+(?:moment|spot|point)|weakened|off\s+guard|off\s+balance"
            r"|rattled|flustered|desperate|insecure|at\s+(?:their|his|her)\s+weakest"
            r"|(?:they|he|she)\s+(?:look|looks|seem|seems|are|is|feel|feels)\s+" + _ADV + r"weak"
        ),
        needs=re.compile(
            r"\b(?:push\w*|press|strike|pounce|close\s+(?:the|now|it)|go\s+for|move\s+in|attack|take\s+advantage"
            r"|exploit\w*|capitali[sz]e|seize"
            r"|hit|seize|use\s+(?:it|that|this)|now\s+is\s+the\s+time|time\s+to\s+(?:close|ask|push)"
            r"|go\s+in|ask\s+for\s+the\s+(?:sale|close|deal|signature)|make\s+(?:the|your)\s+ask)\b"
        ),
    ),
    Rule(
        "manipulation",
        rx(
            r"\w+\s+(?:them|him|her)\s+into\s+(?:buying|signing|agreeing|saying\s+yes|committing|paying|accepting"
            r"|a\s+(?:decision|deal|yes|commitment|purchase))",
            r"(?:keep|keeping|make|making|leave|leaving)\s+(?:them|him|her)\s+"
            + _ADV
            + r"(?:uncomfortable|off\s+balance"
            r"|nervous|anxious|guessing|on\s+edge|scared|afraid|insecure|desperate|squirming|sweating)",
            r"until\s+(?:they|he|she)\s+(?:crack|cracks|cave|caves|break|breaks|give\s+in|gives\s+in|buckle|buckles"
            r"|fold|folds|give\s+up|gives\s+up|submit|submits)",
            r"(?:pile\s+on|add|adding|create|creating|manufactur\w*|crank\s+up|ramp\s+up|increase|build|building)\s+"
            r"(?:the\s+|some\s+|more\s+|a\s+sense\s+of\s+)?urgency",
            r"as\s+a\s+weapon|hardball|bait\s+and\s+switch|love\s+bomb\w*|negging|neg\s+(?:them|him|her)",
            r"fear\s+of\s+missing\s+out|fomo|lower\s+(?:their|his|her)\s+guard|isolat\w+\s+(?:them|him|her)",
            r"(?:make|makes|making|get|getting|have)\s+(?:them|him|her)\s+(?:doubt|second\s+guess|question)\s+"
            r"(?:themselves|himself|herself)",
            r"before\s+(?:they|he|she)\s+(?:can|could|have\s+time\s+to|get\s+a\s+chance\s+to)\s+"
            r"(?:think|object|react|reconsider|check|ask|compare|talk\s+to|consult)",
            r"(?:catch|get|hit|strike|push|press|close)\s+(?:them|him|her)\s+(?:when|while)\s+(?:they|he|she)\s+"
            r"(?:are|is)\s+" + _ADV + r"(?:tired|weak|vulnerable|emotional|upset|distracted|confused|rattled|down"
            r"|off\s+guard|unsure|stressed|desperate)",
            r"(?:make|makes|making)\s+(?:them|him|her)\s+(?:feel|think|believe)\s+(?:that\s+)?(?:they|he|she)\s+"
            r"(?:will|would|might|could|are\s+going\s+to)\s+(?:lose|miss|regret|be\s+left)",
        ),
    ),
    # --- remarks on the other person's face or feelings (lines said aloud) ---
    Rule("face", rx(r"your\s+" + _FACE_PART), excuse="condition"),
    Rule(
        "face",
        rx(r"micro ?expressions?|microexpressions?"),
        excuse="none",
    ),
    Rule(
        "face",
        rx(
            r"you\s+" + _ADV + r"(?:are|were|look|looked|looking|seem|seemed|seeming|appear|appeared"
            r"|sound|sounded|feel|felt|got|get|getting|became|become|have\s+been|went|go|turned)\s+" + _ADV + _FEELING
        ),
        excuse="condition",
    ),
    Rule(
        "face",
        rx(
            r"you\s+(?:look|looked|seem|seemed|appear|appeared)\s+(?:like|as\s+if|as\s+though|to\s+be)",
            r"you\s+(?:just\s+)?" + _FACE_ACTION,
            r"you\s+are\s+(?:smiling|frowning|grinning|scowling|blushing|fidgeting|tensing|squinting"
            r"|grimacing|wincing|crying|shaking|sweating|trembling)",
            r"(?:why|how\s+come)\s+(?:are|were)\s+you\s+" + _ADV + _FEELING,
            r"(?:why|what)\s+are\s+you\s+(?:smiling|frowning|grinning|scowling|blushing|fidgeting|grimacing"
            r"|wincing|laughing|sighing|squinting|shaking)",
        ),
        excuse="condition",
    ),
    Rule(
        "face",
        rx(
            _PERCEIVE + r"\s+(?:that\s+)?(?:you\s+(?:are|were|feel|felt|look|seem|did not|do not|have"
            r"\s+been|got|" + _FACE_ACTION + r")\b|your\s+(?:\w+\s+){0,2}" + _FACE_EVENT + r"|how\s+you"
            r"|what\s+you\s+(?:feel|think)|something\s+(?:is|was)\s+(?:off|wrong|bothering|up))",
            _PERCEIVE + r"\s+(?:that\s+|a\s+|an\s+|some\s+|the\s+|this\s+|a\s+bit\s+of\s+|a\s+little\s+)?"
            r"(?:\w+\s+){0,3}" + _FACE_EVENT,
            _PERCEIVE + r"\s+(?:that\s+)?(?:this|it|that)\s+(?:\w+\s+)?(?:makes?|made|bothers?|worries|upsets?"
            r"|annoys?|frustrates?|troubles?|irritates?|hurts?)\s+you",
            r"(?:makes?|made|making)\s+you\s+(?:feel\s+)?" + _ADV + _FEELING,
        ),
        excuse="condition",
    ),
    Rule(
        "face",
        rx(
            r"(?:what\s+(?:was|is)\s+)?that\s+(?:a\s+|an\s+)?(?:look|face|frown|flinch|wince|grimace|smirk|eye\s+roll"
            r"|scowl|sneer|expression)",
            r"(?:they|he|she)\s+(?:just\s+)?" + _FACE_ACTION + r"(?!\s+(?:at\s+the\s+)?(?:idea|plan|offer"
            r"|proposal|price|option|list|document|report|numbers|draft))",
            r"(?:tell|telling|let)\s+(?:them|him|her)\s+(?:know\s+)?(?:that\s+)?(?:they|he|she)\s+"
            r"(?:are|look|seem|appear|feel|sound)\b",
            r"(?:point\s+out|mention|remark\s+on|comment\s+on|call\s+out|refer\s+to|name|describe|read)"
            r"\s+(?:their|the|that|his|her)\s+(?:\w+\s+)?(?:face|expression|frown|flinch|wince|grimace"
            r"|smirk|eye\s+roll|scowl|sneer|micro ?expression|reaction|look|emotion|emotions|feelings"
            r"|discomfort|nervousness|anger|disgust|contempt|fear|irritation|annoyance|body\s+language)",
            r"(?:mention|say|tell\s+them|point\s+out)\s+(?:that\s+)?(?:you|i)\s+(?:saw|noticed|spotted"
            r"|caught|picked\s+up)",
        ),
        excuse="negation",
    ),
)

# Face remarks in other shapes: a colour, a reaction put to them, a feeling they are told not to have.
_MORE_FACE_RULES: tuple[Rule, ...] = (
    Rule(
        "face",
        rx(
            r"you\s+(?:just\s+)?went\s+" + _ADV + r"(?:red|pale|white|quiet|silent|stiff|cold)",
            r"you\s+are\s+(?:making|pulling)\s+a\s+face",
            r"(?:seemed|seems|appeared|appears)\s+to\s+(?:upset|bother|annoy|worry|frustrate|irritate|hurt|offend"
            r"|surprise|shock|confuse|scare|disappoint)\s+you",
            r"you\s+" + _ADV + r"(?:did\s+not|do\s+not)\s+(?:like|love|enjoy|care\s+for)\s+(?:that|this|it)",
            r"your\s+reaction\s+(?:tells|told|says|said|shows|showed|suggests|gave)",
        ),
        excuse="condition",
    ),
    Rule(
        "face",
        rx(
            r"(?:do\s+not|never)\s+(?:look|be|get|seem)\s+(?:so\s+|too\s+)?" + _FEELING,
            r"cheer\s+up",
            r"(?:i|we)\s+(?:can\s+|could\s+)?read\s+you(?:r\s+(?:mind|thoughts|face))?\b(?!\s+(?:the|a|my|our|this|that|it|in))",
        ),
        excuse="condition",
    ),
)

#: Every rule, in the order they are tried (the first refusal found is the one a playbook error names).
RULES: tuple[Rule, ...] = (*_RULES, *_MORE_FACE_RULES)
