"""Guided dialogs as data (steps, fields, validation, guidance), run by one engine in Slack, in
the terminal and later in Teams. State lives in bot/store, not in a process."""
