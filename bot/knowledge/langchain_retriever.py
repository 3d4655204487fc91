"""Itaku's hybrid search as a LangChain retriever, so it composes with LangChain chains and
tracing. Imported only by code that wants LangChain: the CLI's cold start does not pay for it."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.knowledge.glossary import Glossary
from bot.knowledge.query import prepare_query
from bot.knowledge.search import HybridSearcher


class ItakuRetriever(BaseRetriever):
    """Returns chunks as Documents with source, title, section, score and key-term coverage."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    glossary: Glossary
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.searcher.search(prepare_query(query, self.glossary), k=self.k)
        return [
            Document(
                page_content=h.chunk.text,
                id=h.chunk.id,
                metadata={
                    "source": h.chunk.source,
                    "title": h.chunk.title,
                    "section": h.chunk.section,
                    "score": h.score,
                    "coverage": h.coverage,
                },
            )
            for h in hits
        ]
