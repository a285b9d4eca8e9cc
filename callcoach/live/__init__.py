"""Live coaching: capture threads, the inference thread and the state they publish (no Textual here)."""
