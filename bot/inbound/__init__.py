"""Inbound payloads, validated before any framework or listener sees them.

Platform-neutral pieces (text clean-up, the rejection an adapter turns into a 400, the field
types every platform's models share); each adapter declares its own payload models with them
(bot/slack/schema.py; Teams activities next)."""
