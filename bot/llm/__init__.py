"""The LLM side: OpenAI-compatible client, prompts, the PII guard."""
