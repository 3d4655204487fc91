"""Shared fixtures: small corpora the tests write themselves, each in its own temporary folder."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite's own small corpora are indexed with the words-only vectors, which are instant; the
# bundled model is exercised where it matters (tests/test_semantic.py), with its vectors cached.
os.environ.setdefault("ITAKU_EMBEDDER", "hashing")
os.environ.setdefault("ITAKU_AUDIT_KEY", "test-audit-key-not-for-production")

from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT, Settings
from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.glossary import Glossary
from bot.knowledge.indexer import run_index
from bot.knowledge.search import KnowledgeBase
from bot.knowledge.vectorstore import VectorStore, open_client

FRONT = """---
title: {title}
kind: {kind}
tags: [テスト]
sources:
  - title: テスト用の出典
    url: https://example.org/source
as_of: 2026-11-01
---
"""


def write_doc(folder: Path, name: str, title: str, body: str, kind: str = "guidance") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FRONT.format(title=title, kind=kind) + textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture()
def small_kb(tmp_path: Path) -> Path:
    """A three-document knowledge base about outsourcing, written for the tests."""
    kb = tmp_path / "kb"
    write_doc(
        kb,
        "subcontract.md",
        "再委託のルール",
        """
        # 再委託のルール
        ## 再委託の事前承認
        委託先が再委託するときは、委託元の事前の書面による承認を得る。
        再委託先には、委託先と同等の義務を課す。
        ## 再々委託
        再々委託も、委託元の事前承認がなければ認めない。
        """,
    )
    write_doc(
        kb,
        "breach.md",
        "漏えい時の報告",
        """
        # 漏えい時の報告
        ## 確報の期限
        確報は、漏えいを知った日から30日以内に個人情報保護委員会へ提出する。
        不正の目的による漏えいの確報は、60日以内に提出する。
        ## 速報
        速報は、漏えいを知ってから速やかに、目安として3〜5日以内に提出する。
        """,
        kind="law",
    )
    write_doc(
        kb,
        "media.md",
        "記録媒体の管理",
        """
        # 記録媒体の管理
        ## 施錠保管
        USBメモリなどの記録媒体は、施錠できる場所に保管し、管理者を決める。
        ## 廃棄
        書類はシュレッダーで裁断し、記録媒体は物理的に破壊して廃棄する。
        """,
    )
    (kb / "glossary.yaml").write_text(
        textwrap.dedent(
            """
            version: 1
            groups:
              - canonical: 再委託
                terms: [再委託, 下請け, 外注, subcontract, subcontracting]
              - canonical: 漏えい
                terms: [漏えい, 漏洩, leak, breach, data breach]
              - canonical: 確報
                terms: [確報, final report]
              - canonical: 期限
                terms: [期限, いつまで, deadline]
              - canonical: 記録媒体
                terms: [記録媒体, USBメモリ, USB, storage media]
              - canonical: 廃棄
                terms: [廃棄, 破壊, destroy, destruction]
            """
        ),
        encoding="utf-8",
    )
    return kb


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def index_into(paths: list[Path], data_dir: Path, embedder: HashingEmbedder | None = None):  # type: ignore[no-untyped-def]
    return run_index(
        paths, data_dir, embedder or HashingEmbedder(), VectorStore(open_client(data_dir, None))
    )


@pytest.fixture()
def small_assistant(small_kb: Path, data_dir: Path) -> Assistant:
    index_into([small_kb], data_dir)
    settings = Settings(ITAKU_DATA_DIR=data_dir, ITAKU_KNOWLEDGE_DIR=small_kb)  # type: ignore[call-arg]
    kb = KnowledgeBase.open(data_dir, open_client(data_dir, None))
    return Assistant(kb, Glossary.load(small_kb / "glossary.yaml"), HashingEmbedder(), settings)


@pytest.fixture(scope="session")
def bundled_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled knowledge base, indexed once per test session."""
    data = tmp_path_factory.mktemp("bundled") / "data"
    index_into([PROJECT_ROOT / "knowledge"], data)
    return data


@pytest.fixture(scope="session")
def bundled_assistant(bundled_data_dir: Path) -> Assistant:
    settings = Settings(ITAKU_DATA_DIR=bundled_data_dir)  # type: ignore[call-arg]
    return Assistant.from_settings(settings)


@pytest.fixture()
def slack(tmp_path: Path, bundled_assistant: Assistant):  # type: ignore[no-untyped-def]
    from tests.slack_harness import SlackHarness, sqlite_url

    harness = SlackHarness(bundled_assistant, sqlite_url(tmp_path))
    yield harness
    harness.close()


POSTGRES_URL = os.environ.get(
    "ITAKU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL test database, dropped afterwards. Skips where no server
    is reachable (a laptop), fails instead where ITAKU_REQUIRE_POSTGRES is set (CI)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from bot.store.db import scratch_schema

    schema = scratch_schema(POSTGRES_URL, "itaku_t")
    try:
        url = schema.__enter__()
    except OperationalError as e:
        where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        reason = f"PostgreSQL is not reachable at {where}: {type(e).__name__}"
        if os.environ.get("ITAKU_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield url
    finally:
        schema.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'itaku.db'}"
    return str(request.getfixturevalue("postgres_url"))
