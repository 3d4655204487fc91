"""End to end through the `itaku` command, as a user runs it (subprocesses, real stores)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT


def itaku(
    *args: str, data_dir: Path, stdin: str | None = None, knowledge: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_"))}
    env["ITAKU_DATA_DIR"] = str(data_dir)
    if knowledge is not None:
        env["ITAKU_KNOWLEDGE_DIR"] = str(knowledge)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ask_json_contract_on_the_bundled_knowledge_base(bundled_data_dir: Path) -> None:
    r = itaku(
        "ask", "委託先が再委託するとき、委託元は何をすべき？", "--json", data_dir=bundled_data_dir
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["abstained"] is False
    assert "再委託" in data["answer"]
    assert data["citations"] and all(
        c["source"].startswith("knowledge/") and c["title"] for c in data["citations"]
    )


def test_ask_plain_text_lists_sources(bundled_data_dir: Path) -> None:
    r = itaku("ask", "確報の提出期限は？", data_dir=bundled_data_dir)
    assert r.returncode == 0
    assert "出典:" in r.stdout and "[1]" in r.stdout


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "\x07\x1b[31m",
        ("再委託とは? " * 7200)[:50_000],
        "재위탁 조건은?",
        "😀😀😀",
        "明日の天気は？",
    ],
)
def test_bad_questions_get_an_answer_never_a_traceback(
    bundled_data_dir: Path, question: str
) -> None:
    r = itaku("ask", question, "--json", data_dir=bundled_data_dir)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    data = json.loads(r.stdout)
    assert data["answer"]


def test_question_from_stdin(bundled_data_dir: Path) -> None:
    r = itaku("ask", "-", "--json", data_dir=bundled_data_dir, stdin="委託先の選び方は？\n")
    assert r.returncode == 0 and json.loads(r.stdout)["abstained"] is False


def test_misuse_exits_non_zero_with_a_message(tmp_path: Path) -> None:
    r = itaku(data_dir=tmp_path)
    assert r.returncode == 2 and "usage" in r.stderr
    r = itaku("frobnicate", data_dir=tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = itaku("ask", data_dir=tmp_path)
    assert r.returncode == 2
    r = itaku("ask", "再委託とは？", data_dir=tmp_path / "empty")
    assert r.returncode == 3 and "itaku index" in r.stderr
    r = itaku("index", str(tmp_path / "nothing-here"), data_dir=tmp_path)
    assert r.returncode == 1 and "no such file" in r.stderr


def test_index_reports_counts_and_is_incremental(tmp_path: Path, small_kb: Path) -> None:
    data = tmp_path / "d"
    first = itaku("index", data_dir=data, knowledge=small_kb)
    assert first.returncode == 0, first.stderr
    assert "3 added" in first.stdout
    second = itaku("index", data_dir=data, knowledge=small_kb)
    assert "up to date" in second.stdout and "3 unchanged" in second.stdout


def test_index_path_adds_to_the_configured_folder_and_prune_removes(
    tmp_path: Path, small_kb: Path
) -> None:
    data = tmp_path / "d"
    assert itaku("index", data_dir=data, knowledge=small_kb).returncode == 0
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "memo.md").write_text(
        "# メモ\n\n社内の委託先一覧の保管場所の説明。\n", encoding="utf-8"
    )
    added = itaku("index", str(extra), data_dir=data, knowledge=small_kb)
    assert added.returncode == 0, added.stderr
    assert "1 added" in added.stdout and "0 removed" in added.stdout
    again = itaku("index", data_dir=data, knowledge=small_kb)  # the configured folder alone
    assert "0 removed" in again.stdout and "1 kept from other paths" in again.stdout
    pruned = itaku("index", "--prune", data_dir=data, knowledge=small_kb)
    assert "1 removed" in pruned.stdout and "4 files" not in pruned.stdout
    missing = itaku("index", str(tmp_path / "nope"), data_dir=data, knowledge=small_kb)
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_chat_session_reads_until_eof(bundled_data_dir: Path) -> None:
    r = itaku("chat", data_dir=bundled_data_dir, stdin="NDAとは？\n\n/reset\n罰則は？\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("itaku>") >= 4
    assert "秘密保持" in r.stdout
    assert "履歴をクリア" in r.stdout


def test_a_wrong_setting_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("ITAKU_EMBEDDER", "bert")
    assert main(["--data-dir", str(tmp_path), "ask", "再委託の条件は？"]) == 2
    err = capsys.readouterr().err
    assert "ITAKU_EMBEDDER" in err and "'e5' or 'hashing'" in err and "Traceback" not in err


def test_a_question_on_stdin_that_is_not_utf8_gets_a_message(bundled_data_dir: Path) -> None:
    env = {**os.environ, "ITAKU_DATA_DIR": str(bundled_data_dir)}
    r = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "-"],
        cwd=PROJECT_ROOT,
        env=env,
        input=b"\xff\xfe\x81",
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 2 and b"not UTF-8" in r.stderr and b"Traceback" not in r.stderr
