"""Sessions: what ``callcoach live`` spotted and suggested, kept on this computer, and the post-call summary.

- ``store``: the SQLite file (crash recovery, retention, reading and writing rows); its row records are in
  ``_rows`` (re-exported) and the check whether a session's writer is still alive in ``_liveness``;
- ``schema``: its tables and the migrations between schema versions;
- ``storefaults``: a damaged store file (moved aside) or a read-only one (read without writing);
- ``recorder``: the ``LiveListener`` that writes a running session (``SessionRecorder``, in ``_recorder``,
  re-exported), and the wiring for ``callcoach live``;
- ``summary``: the summary as plain data (counts, moments, coaching measures, trend);
- ``self_summary``: its "Your own face" part, from the self-coaching notes (only when there are any);
- ``report``: terminal, Markdown and self-contained HTML renderings of it (the shared tables in ``_sections``,
  the HTML in ``_html``, both re-exported);
- ``settings``: where the file lives and how long sessions are kept.

Only cue events, suggestions, the user's marks and self-coaching notes are kept: never frames, pictures or
face landmarks.
Modules are not imported here, so ``import callcoach.session.settings`` stays cheap.
"""
