"""The bottom layer: plain types every stage may share, with no imports from any other callcoach stage.

``state`` holds what the live runner publishes (``LiveState``, ``LiveStatus``); ``marks`` holds the
user's verdicts on a suggestion ("helped" / "misread") and the self-coaching note kinds and notes. A type
lives here when two stages that must not import each other both need it; see docs/architecture.md.
"""
