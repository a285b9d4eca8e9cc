"""Playbook: editable response scripts per cue and context, the selector, and the guardrails."""
