"""callcoach: a local-only conversation coach that spots brief facial cues against a person's own baseline."""

__version__ = "0.1.0"
