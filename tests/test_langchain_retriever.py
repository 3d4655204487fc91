from bot.assistant.service import Assistant
from bot.knowledge.langchain_retriever import ItakuRetriever


def test_retriever_returns_documents_with_metadata(small_assistant: Assistant) -> None:
    retriever = ItakuRetriever(
        searcher=small_assistant.searcher, glossary=small_assistant.glossary, k=2
    )
    docs = retriever.invoke("USBメモリの保管")
    assert 1 <= len(docs) <= 2
    assert docs[0].metadata["source"] == "kb/media.md"
    assert "施錠" in docs[0].page_content
    assert {"title", "section", "score", "coverage"} <= set(docs[0].metadata)
