"""The assistant: one entry point, `Assistant.ask`, used by the CLI, the terminal chat and
(later) the Slack and Teams adapters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from bot.assistant import messages
from bot.assistant.compose import ComposePolicy, abstention, citation_for, compose_answer
from bot.assistant.grounded import GroundedWriter
from bot.assistant.models import Answer
from bot.assistant.report_dates import deadline_line
from bot.config import Settings
from bot.knowledge.embeddings import (
    CachedEmbedder,
    E5Embedder,
    Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
    OpenAIEmbedder,
)
from bot.knowledge.glossary import Glossary
from bot.knowledge.index_store import SHIPPED_VECTORS
from bot.knowledge.query import prepare_query
from bot.knowledge.search import FusionWeights, Hit, HybridSearcher, KnowledgeBase
from bot.knowledge.text import detect_language, normalize, strip_control
from bot.knowledge.vectorstore import open_client
from bot.llm.pii import Masker, PiiRefused, Policy, find_pii

log = logging.getLogger(__name__)


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder, its document vectors cached by model and text. A bundled model
    that cannot load is said once, clearly; the words-only vectors stand in, and the search
    still serves (the index records which embedder made its vectors)."""
    inner: Embedder
    if settings.uses_remote_embeddings:
        inner = OpenAIEmbedder(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.embedding_model,
            settings.embedding_timeout_s,
        )
    elif settings.offline_embedder == "e5":
        try:
            inner = E5Embedder()
        except EmbedderUnavailable as exc:
            log.warning("semantic search is off: %s", exc)
            return HashingEmbedder()
    else:
        return HashingEmbedder()  # instant: nothing worth caching
    return CachedEmbedder(
        inner, settings.resolved_embedding_cache, [settings.knowledge_dir / SHIPPED_VECTORS]
    )


def without_pii(text: str) -> str:
    """The text with its personal data cut out (for searching)."""
    out, last = [], 0
    for f in find_pii(text):
        out.append(text[last : f.start])
        last = f.end
    out.append(text[last:])
    return " ".join("".join(out).split())


def make_writer(settings: Settings) -> GroundedWriter | None:
    """The LLM answer writer when an endpoint is configured; None means offline answers."""
    if not settings.uses_llm:
        return None
    from bot.llm.client import chat_client

    return GroundedWriter(
        chat_client(settings), settings.chat_model, Policy(settings.pii_policy), settings.llm_stream
    )


def index_if_missing(settings: Settings) -> bool:
    """Index the knowledge folder when the data folder has no index yet (a container's first
    start on an empty volume). True if it indexed."""
    from bot.knowledge.index_store import IndexLayout
    from bot.knowledge.indexer import run_index
    from bot.knowledge.vectorstore import VectorStore

    if IndexLayout(settings.data_dir).current_generation() is not None:
        return False
    log.warning("no index in the data folder: indexing the knowledge folder first")
    run_index(
        [settings.knowledge_dir],
        settings.data_dir,
        make_embedder(settings),
        VectorStore(open_client(settings.data_dir, settings.chroma_url)),
    )
    return True


class Assistant:
    def __init__(
        self,
        kb: KnowledgeBase,
        glossary: Glossary,
        embedder: Embedder | None,
        settings: Settings,
        weights: FusionWeights | None = None,
        policy: ComposePolicy | None = None,
        writer: GroundedWriter | None = None,
    ) -> None:
        self.writer = writer
        self.kb = kb
        self.glossary = glossary
        self.settings = settings
        self.searcher = HybridSearcher(kb, embedder, weights)
        self.policy = policy or ComposePolicy()

    @classmethod
    def from_settings(cls, settings: Settings, glossary_path: Path | None = None) -> Assistant:
        own = KnowledgeBase.has_own_vectors(settings.data_dir)
        client = None if own else open_client(settings.data_dir, settings.chroma_url)
        kb = KnowledgeBase.open(settings.data_dir, client)
        glossary = Glossary.load(glossary_path or settings.knowledge_dir / "glossary.yaml")
        return cls(kb, glossary, make_embedder(settings), settings, writer=make_writer(settings))

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer a question from the knowledge base, with numbered citations, or abstain."""
        return self.respond(question, history)[0]

    def respond(
        self,
        question: str,
        history: list[str] | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> tuple[Answer, list[Hit]]:
        """The answer and the ranked chunks it was drawn from (for traces and benchmarks).
        With an LLM, `on_delta` receives the answer text as it grows (streaming)."""
        started = time.perf_counter()
        answer, hits = self._ask(question, history, on_delta)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        log.info(
            "answered chars=%d abstained=%s citations=%d ms=%.1f",
            len(question),
            answer.abstained,
            len(answer.citations),
            answer.latency_ms,
        )
        return answer, hits

    def _rewritten(
        self, cleaned: str, history: list[str] | None, masker: Masker
    ) -> tuple[str, list[str] | None, bool]:
        """The question as the model restates it for searching (personal data cut out)."""
        assert self.writer is not None
        rewritten = self.writer.rewrite(cleaned, history or [], masker)
        if rewritten == cleaned:
            return without_pii(cleaned), history, False
        return without_pii(rewritten), None, True

    def _written(
        self,
        question: str,
        cleaned: str,
        lang: str,
        hits: list[Hit],
        masker: Masker,
        notice: str,
        on_delta: Callable[[str], None] | None,
    ) -> Answer | None:
        """The LLM's answer over the same chunks, or None to keep the offline one."""
        assert self.writer is not None
        top = hits[: self.settings.top_k]
        try:
            draft = self.writer.write(cleaned, [h.chunk for h in top], lang, masker, on_delta)
        except PiiRefused:
            log.info("llm not used: personal data in the question (policy refuse)")
            return None
        if draft is None:
            return None
        if draft.not_covered:
            return abstention(question, lang, messages.text("not_found", lang), "not_covered_llm")
        citations = [
            citation_for(n, top[n - 1].chunk, self.kb.docs.get(top[n - 1].chunk.source))
            for n in draft.cited
        ]
        text = "\n".join(p for p in (notice, draft.text) if p)
        return Answer(
            question=question,
            answer=text,
            citations=citations,
            abstained=False,
            lang=lang,
            generated_by="llm",
        )

    def _ask(
        self,
        question: str,
        history: list[str] | None,
        on_delta: Callable[[str], None] | None = None,
    ) -> tuple[Answer, list[Hit]]:
        cleaned = " ".join(strip_control(question).split())
        if not cleaned:
            return abstention(question, "ja", messages.text("empty", "ja"), "empty"), []
        notice = ""
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            cleaned = cleaned[:limit]
            notice = messages.text("too_long", detect_language(cleaned), limit=limit)
        lang = detect_language(cleaned)
        if lang == "other":
            both = messages.text("other_script", "ja") + "\n" + messages.text("other_script", "en")
            return abstention(question, "ja", both, "unsupported_script"), []
        masker = Masker()
        search_text, search_history = cleaned, history
        if self.writer is not None or self.settings.uses_remote_embeddings:
            # personal data never goes to an endpoint, the embeddings one included, and names
            # or addresses only dilute the search anyway
            search_text = without_pii(cleaned)
            search_history = [without_pii(h) for h in history] if history else history
        rewritten = False
        if self.writer is not None and (history or lang == "en"):
            search_text, search_history, rewritten = self._rewritten(cleaned, history, masker)
        q = prepare_query(search_text, self.glossary, search_history)
        if not q.key_terms and self.writer is not None and not rewritten:
            search_text, search_history, rewritten = self._rewritten(cleaned, history, masker)
            q = prepare_query(search_text, self.glossary, search_history)
        # as many hits as composing may weigh; the callers get the top_k
        depth = max(self.settings.top_k, self.policy.role_window)
        result = self.searcher.run(q, k=depth)
        if not q.key_terms:
            # nothing to weigh coverage with (「雷が鳴ったら何が一番怖い？」: one-kanji nouns are no
            # key terms): no answer, but the ranking is still there for traces and benchmarks
            reason = "no_topic"
            message = messages.text(reason, lang)
            return abstention(question, lang, message, reason), result.hits[: self.settings.top_k]
        body, citations, cov = compose_answer(q, result, self.kb, self.policy)
        if not body and self.writer is not None and not rewritten:
            # colloquial wording the knowledge base does not use: search again in its terms
            search_text, search_history, rewritten = self._rewritten(cleaned, history, masker)
            retry = prepare_query(search_text, self.glossary, search_history)
            if rewritten and retry.key_terms:
                q, result = retry, self.searcher.run(retry, k=depth)
                body, citations, cov = compose_answer(q, result, self.kb, self.policy)
        hits = result.hits[: self.settings.top_k]
        confidence = cov.confidence
        if not body:
            log.info("not covered: refused by %s", cov.refused_by)
            return abstention(
                question, lang, messages.text("not_found", lang), "not_covered", confidence
            ), hits
        if self.writer is not None:
            written = self._written(question, cleaned, lang, hits, masker, notice, on_delta)
            if written is not None:
                written.confidence = round(confidence, 3)
                return written, hits
        dated = deadline_line(cleaned, lang)
        if dated is not None and "30日" in normalize(body):
            # the date asked for, from the rule the answer's first source states
            body = f"{dated} [1]\n{body}"
        parts = [p for p in (notice, messages.text("en_preface", lang), body) if p]
        answer = Answer(
            question=question,
            answer="\n".join(parts),
            citations=citations,
            abstained=False,
            lang=lang,
            confidence=round(confidence, 3),
        )
        return answer, hits
