"""The `sote-bot` command as an operator runs it: real processes, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram import TOKEN, FakeTelegram

SOTE_BOT = [sys.executable, "-m", "bot"]


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(values)
    return env


async def _run(
    args: list[str], env: dict[str, str], stdin: bytes = b"", timeout: float = 60
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *SOTE_BOT,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_shell_answers_piped_input(tmp_path: Path) -> None:
    code, out, err = await _run(["shell"], _env(tmp_path), b"/start\n/kieli\n3\n/apua\n")
    assert code == 0, err
    assert "Hei! 👋" in out
    assert "[3] English" in out
    assert "OK, let's talk in English." in out
    assert "/language – change language" in out


async def test_run_without_tokens_points_to_the_shell(tmp_path: Path) -> None:
    code, _out, err = await _run(["run"], _env(tmp_path))
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err and "sote-bot shell" in err


async def test_invalid_configuration_names_the_variable(tmp_path: Path) -> None:
    code, _out, err = await _run(["run"], _env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN))
    assert code == 2
    assert "SLACK_SIGNING_SECRET is required" in err
    assert BOT_TOKEN not in err
    code, _out, err = await _run(["run"], _env(tmp_path, REMINDER_OFFSETS="7 days"))
    assert code == 2
    assert "REMINDER_OFFSETS: invalid reminder offset '7 days'" in err


async def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        code, out, err = await _run(["db", "upgrade"], _env(tmp_path))
        assert code == 0, err
        assert "up to date" in out


async def test_run_is_healthy_then_stops_cleanly_on_sigterm(
    tmp_path: Path, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    port = _free_port()
    env = _env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        HTTP_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *SOTE_BOT,
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        healthy_after = await _wait_healthy(port, started)
        print(f"sote-bot run → healthy /healthz in {healthy_after:.2f} s")
        await telegram.send_text(4242, "/start")
        await telegram.wait_for_texts(4242, 3, timeout=10)
        process.send_signal(signal.SIGTERM)
        stop_started = time.monotonic()
        _out, err = await asyncio.wait_for(process.communicate(), 5)
        stopped_after = time.monotonic() - stop_started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = err.decode()
    assert process.returncode == 0, log[-3000:]
    assert stopped_after < 5
    assert "sote-bot stopped" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_healthy(port: int, started: float, timeout: float = 30) -> float:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < timeout:
            try:
                response = await http.get(f"http://127.0.0.1:{port}/healthz")
                if response.status == 200:
                    return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("sote-bot run never became healthy")
