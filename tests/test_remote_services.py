"""Real servers on 127.0.0.1: a Chroma server (the scale-out vector store) and an
OpenAI-compatible embeddings stand-in (real HTTP, no tokens, no network)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bot.assistant.service import Assistant, make_embedder
from bot.config import Settings
from bot.knowledge.embeddings import CachedEmbedder, HashingEmbedder, OpenAIEmbedder
from bot.knowledge.glossary import Glossary
from bot.knowledge.indexer import run_index
from bot.knowledge.search import KnowledgeBase
from bot.knowledge.vectorstore import VectorStore, open_client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        found = shutil.which("chroma")
        assert found, "the chroma CLI comes with the chromadb package"
        exe = Path(found)
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_index_and_answer_through_a_chroma_server(
    chroma_url: str, small_kb: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    client = open_client(data, chroma_url)
    report = run_index([small_kb], data, HashingEmbedder(), VectorStore(client))
    assert report.chunks > 0
    assert not (data / "chroma").exists()  # nothing embedded on disk: vectors are on the server
    settings = Settings(ITAKU_DATA_DIR=data, CHROMA_URL=chroma_url)  # type: ignore[call-arg]
    kb = KnowledgeBase.open(data, open_client(data, chroma_url))
    assert kb.collection is not None and kb.collection.count() == report.chunks
    assistant = Assistant(
        kb, Glossary.load(small_kb / "glossary.yaml"), HashingEmbedder(), settings
    )
    a = assistant.ask("記録媒体の保管方法は？")
    assert not a.abstained and "施錠" in a.answer


class _EmbeddingsStandIn(BaseHTTPRequestHandler):
    calls: ClassVar[list[dict[str, object]]] = []
    fail_next = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        if type(self).fail_next > 0:
            type(self).fail_next -= 1
            self.send_response(500)
            self.end_headers()
            return
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        emb = HashingEmbedder(32)
        data = [
            {"object": "embedding", "index": i, "embedding": emb.embed_query(t).tolist()}
            for i, t in enumerate(texts)
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def embeddings_server() -> Iterator[str]:
    _EmbeddingsStandIn.calls = []
    _EmbeddingsStandIn.fail_next = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_compatible_embeddings_feed_chroma(
    embeddings_server: str, small_kb: Path, tmp_path: Path
) -> None:
    settings = Settings(
        ITAKU_DATA_DIR=tmp_path / "d",
        OPENAI_BASE_URL=embeddings_server,  # type: ignore[call-arg]
        OPENAI_API_KEY="test-key",
        ITAKU_EMBEDDING_MODEL="stand-in-embed",
        # its own cache: one shared by the environment may hold these texts already
        ITAKU_EMBEDDING_CACHE=tmp_path / "cache.sqlite3",  # type: ignore[arg-type]
    )
    embedder = make_embedder(settings)
    # the endpoint's vectors are cached by model and text, like the bundled model's
    assert isinstance(embedder, CachedEmbedder) and isinstance(embedder.inner, OpenAIEmbedder)
    assert embedder.name == "openai:stand-in-embed"
    _EmbeddingsStandIn.fail_next = 1  # one 500: the client retries
    report = run_index(
        [small_kb], settings.data_dir, embedder, VectorStore(open_client(settings.data_dir, None))
    )
    assert report.embedded == report.chunks
    assert _EmbeddingsStandIn.calls[0]["path"] == "/v1/embeddings"
    assert _EmbeddingsStandIn.calls[0]["auth"] == "Bearer test-key"
    kb = KnowledgeBase.open(settings.data_dir, open_client(settings.data_dir, None))
    assert kb.embedder_name == "openai:stand-in-embed"
    assistant = Assistant(kb, Glossary.load(small_kb / "glossary.yaml"), embedder, settings)
    assert assistant.searcher.embedder is embedder  # vectors are used at query time
    a = assistant.ask("確報の期限は？")
    assert not a.abstained and "30日" in a.answer
