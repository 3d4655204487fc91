"""The OpenAI-compatible client: OpenAI, Azure OpenAI, or a server in the company's network
(vLLM, Ollama, LM Studio) through OPENAI_BASE_URL. Timeouts and retries are deliberate: the
client's own default timeout (600 s) is far too long for a chat reply."""

from __future__ import annotations

from typing import Any

from bot.config import Settings


def chat_client(settings: Settings) -> Any:
    from openai import OpenAI

    return OpenAI(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key or "not-needed",  # local servers often take any key
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )
