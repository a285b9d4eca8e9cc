"""Sessions: what ``callcoach live`` spotted and suggested, kept on this computer, and the post-call summary.

- ``store``: the SQLite file (crash recovery, retention, reading and writing rows);
- ``schema``: its tables and the migrations between schema versions;
- ``recorder``: the ``LiveListener`` that writes a running session, and the wiring for ``callcoach live``;
- ``summary``: the summary as plain data (counts, moments, coaching measures, trend);
- ``self_summary``: its "Your own face" part, from the self-coaching notes (only when there are any);
- ``report``: terminal, Markdown and self-contained HTML renderings of it;
- ``settings``: where the file lives and how long sessions are kept.

Only cue events, suggestions, the user's marks and self-coaching notes are kept: never frames, pictures or
face landmarks.
Modules are not imported here, so ``import callcoach.session.settings`` stays cheap.
"""
