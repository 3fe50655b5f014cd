"""Update throughput benchmark (not a test): sote-bot against a bare echo bot (PRODUCT.md §4).

Run from the repository root:

    .venv/bin/python -m tests.bench_updates [--updates 2000] [--users 200] [--repeat 3]

The bar: sote-bot handles at least 50 % of the updates per second that a bare
python-telegram-bot echo bot handles against the same fake server, measured side by side in
one run. Each run gets its own fake Telegram Bot API (`tests/fakes/telegram.py`), by default in
a child process (this module with `--serve-fake`) so that the fake's CPU is not charged to the
bot; `--in-process-fake` runs it in the bot's event loop instead (the fake's cost then dominates
the echo bot's and flatters sote-bot's ratio: for diagnosis only).

One run: queue `--updates` text messages from `--users` private chats (interleaved, so
sote-bot's per-user ordering locks do not serialise the work), then start the bot. The clock
starts when the fake receives the first getUpdates and stops at the last successful
sendMessage; the run ends once every update could have been answered (at least one message
per update) and no message arrived for `--settle` seconds. updates/s = updates / that time.

Systems, run `--repeat` times each, alternating (the order flips every round):

- echo: `ApplicationBuilder().token().base_url().concurrent_updates(64).build()` with a
  MessageHandler that answers `update.message.reply_text(update.message.text)`;
- echo+cfg: the same echo handler on an Application built like sote-bot's (AIORateLimiter at
  TELEGRAM_RATE_LIMIT, 64 pooled connections), to tell PTB configuration from sote-bot's code;
- sote-bot: the real `BotRuntime` on a fresh temporary SQLite database, TELEGRAM_RATE_LIMIT
  set to `--rate-limit` (1000, the highest allowed, default) so that the limiter does not cap
  the result.

Both bots run with the production logging set-up (`bot.logs.configure_logging`, INFO) writing
to /dev/null. Besides updates/s, each system's messages, CPU time (whole process and main
thread), garbage-collector time per update and the fake's CPU per update are shown, to tell
whether a run was CPU-bound and where the difference comes from. If sote-bot's ratio is below
0.5 (or with `--profile always`) one more sote-bot run is made under cProfile, its main-thread
time is broken down by area, and `Router.dispatch` is timed alone on the same workload.

The machine is usually noisy: compare ratios and medians of a run, not absolute numbers across
runs, and use `--repeat 5` when a result is close to the bar.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib.util
import json
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER = 7_000_000
BAR = 0.5

# Realistic private-chat traffic: FAQ questions (mostly confident answers, one that gets
# "Tarkoititko…" suggestions), greetings and thanks, and the help command.
FAQ_QUESTIONS = (
    "mikä on STEA",
    "miten haetaan avustusta hyvinvointialueelta",
    "milloin aluevaalit on",
    "kuka päättää järjestöavustuksista",
    "mikä on yhteistyöalue",
    "mistä saan tietoa sote-uudistuksesta",
    "mitä on hyvinvointialue",
)
GREETINGS = ("Hei!", "moi", "Huomenta", "kiitos")
COMMANDS = ("/apua",)
# Out of 20 updates: 12 FAQ questions, 5 greetings, 3 /apua.
MIX = ((FAQ_QUESTIONS, 12), (GREETINGS, 5), (COMMANDS, 3))

SOTE_PER_UPDATE = (
    "PTB Update → neutral Incoming; Router.dispatch: metrics counter, per-user asyncio.Lock, "
    "one SQLAlchemy session on SQLite (aiosqlite thread): user fetch-or-create (seen_at "
    "written at most every 5 min), conversation-state check; text → FAQ matcher (normalise, "
    "lemmatise, fuzzy match), the question stored in faq_questions through the question "
    "log (one INSERT … RETURNING and COMMIT for the questions of concurrent updates; "
    "greetings are not stored), region hint for answers; COMMIT; then, still in the user's "
    "turn, each reply sent through AIORateLimiter + with_retries (an FAQ answer carries its "
    "👍/👎 buttons: one sendMessage)."
)


# -- the workload ---------------------------------------------------------------------------


def workload(updates: int, users: int, seed: int = 2025) -> list[tuple[int, str]]:
    """(user_id, text) pairs, users interleaved round-robin; deterministic for a seed."""
    rng = random.Random(seed)
    groups = [texts for texts, _ in MIX]
    weights = [weight for _, weight in MIX]
    result: list[tuple[int, str]] = []
    for index in range(updates):
        texts = rng.choices(groups, weights)[0]
        result.append((FIRST_USER + index % users, rng.choice(texts)))
    return result


def per_user(load: list[tuple[int, str]]) -> Counter[str]:
    """How many updates each chat sends."""
    return Counter(str(user) for user, _ in load)


# -- the fake Telegram ----------------------------------------------------------------------


class TimedFake(FakeTelegram):
    """The test fake, plus when polling started and a compact summary of what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.first_poll: float | None = None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        return await super()._get_updates(params)

    async def queue(self, updates: int, users: int) -> int:
        """Queue the workload for getUpdates."""
        load = workload(updates, users)
        for user, text in load:
            await self.send_text(user, text, first_name=f"Käyttäjä{user % 1000}")
        return len(load)

    def stats(self, detail: bool = False) -> dict[str, Any]:
        """Successful sendMessage calls (count, last time) since polling started."""
        sent = [c for c in self.calls if c.method == "sendMessage" and c.params.get("_ok")]
        result: dict[str, Any] = {
            "first_poll": self.first_poll,
            "sent": len(sent),
            "last_sent": max((c.at for c in sent), default=None),
            "cpu": time.process_time(),
        }
        if detail:
            result["per_chat"] = Counter(str(c.params.get("chat_id")) for c in sent)
            result["failed"] = sum(
                1 for c in self.calls if c.method == "sendMessage" and not c.params.get("_ok")
            )
            result["texts"] = Counter(str(c.params.get("text", ""))[:40] for c in sent)
        return result


class Fake(Protocol):
    """A fake Bot API the benchmark can fill and read, wherever it runs."""

    base_url: str

    async def queue(self, updates: int, users: int) -> int: ...

    async def stats(self, detail: bool = False) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class InProcessFake:
    """The fake in this process's event loop."""

    def __init__(self, fake: TimedFake) -> None:
        self.fake = fake
        self.base_url = fake.base_url

    @classmethod
    async def open(cls) -> InProcessFake:
        fake = TimedFake()
        await fake.start()
        return cls(fake)

    async def queue(self, updates: int, users: int) -> int:
        return await self.fake.queue(updates, users)

    async def stats(self, detail: bool = False) -> dict[str, Any]:
        return self.fake.stats(detail)

    async def close(self) -> None:
        await self.fake.stop()


class ChildFake:
    """The fake in a child process (`--serve-fake`), driven by lines on its stdin."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc = proc
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls) -> ChildFake:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench_updates",
            "--serve-fake",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line.startswith("PORT "):
            proc.kill()
            raise RuntimeError(f"the fake did not start: {line!r}")
        return cls(proc, int(line.split()[1]))

    async def _ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self._lock:
            self.proc.stdin.write(f"{command}\n".encode())
            await self.proc.stdin.drain()
            return (await self.proc.stdout.readline()).decode()

    async def queue(self, updates: int, users: int) -> int:
        answer = await self._ask(f"queue {updates} {users}")
        return int(answer.split()[1])

    async def stats(self, detail: bool = False) -> dict[str, Any]:
        return dict(json.loads(await self._ask("detail" if detail else "stats")))

    async def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def serve_fake() -> None:
    """Child process: run a fake, print its port, answer queue/stats lines on stdin."""
    fake = TimedFake()
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            words = line.split()
            if not words:
                continue
            if words[0] == "queue":
                queued = await fake.queue(int(words[1]), int(words[2]))
                print(f"QUEUED {queued}", flush=True)
            elif words[0] in {"stats", "detail"}:
                print(json.dumps(fake.stats(detail=words[0] == "detail")), flush=True)
    finally:
        await fake.stop()


# -- the systems under test -----------------------------------------------------------------


Stop = Callable[[], Awaitable[None]]


async def start_echo(base_url: str, args: argparse.Namespace, like_sote: bool) -> Stop:
    """The bare echo bot (or the echo handler on sote-bot's PTB configuration), polling."""
    from telegram import Update
    from telegram.ext import (
        AIORateLimiter,
        Application,
        ApplicationBuilder,
        ContextTypes,
        MessageHandler,
    )
    from telegram.ext import filters as tg_filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    builder: Any = ApplicationBuilder().token(TOKEN).base_url(base_url).concurrent_updates(64)
    if like_sote:
        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=args.rate_limit, max_retries=0)
        ).connection_pool_size(64)
    app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
    app.add_handler(MessageHandler(tg_filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling()

    async def stop() -> None:
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    return stop


async def start_sote(base_url: str, args: argparse.Namespace, workdir: Path) -> Stop:
    """The whole sote-bot runtime on a fresh SQLite file; Slack off."""
    from pydantic import SecretStr

    from bot.app import BotRuntime, freeze_loaded_data
    from bot.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        http_port=0,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=base_url,
        telegram_rate_limit=args.rate_limit,
    )
    runtime = BotRuntime.create(settings)
    await runtime.start()
    freeze_loaded_data()  # as `sote-bot run` (BotRuntime.serve_forever) does
    return runtime.stop


# -- one run --------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run measured."""

    system: str
    updates: int
    messages: int = 0
    seconds: float = float("nan")
    missing_chats: int = 0
    failed: int = 0
    error_replies: int = 0
    cpu_seconds: float = float("nan")
    main_cpu_seconds: float = float("nan")
    gc_seconds: float = 0.0
    gc_full: int = 0
    fake_cpu_seconds: float = float("nan")
    texts: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else float("nan")

    @property
    def complete(self) -> bool:
        return self.missing_chats == 0 and self.seconds == self.seconds


class GcTimer:
    """Time spent in the cyclic garbage collector while active (all generations)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full += info["generation"] == 2

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


async def wait_done(fake: Fake, updates: int, settle: float, timeout: float) -> dict[str, Any]:
    """Wait until ≥ `updates` messages were sent and none arrived for `settle` seconds."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    last_count, last_change = -1, started
    while True:
        stats = await fake.stats()
        now = loop.time()
        if stats["sent"] != last_count:
            last_count, last_change = stats["sent"], now
        quiet = now - last_change
        if stats["sent"] >= updates and quiet >= settle:
            return stats
        if stats["first_poll"] is not None and quiet >= max(settle, 10.0):
            return stats  # stuck: report what there is
        if now - started > timeout:
            return stats
        await asyncio.sleep(0.05)


async def run_once(
    system: str,
    args: argparse.Namespace,
    updates: int,
    profiler: cProfile.Profile | None = None,
) -> Run:
    """Queue the workload on a fresh fake, start `system`, wait until it has answered."""
    gc.collect()
    fake: Fake = await (InProcessFake.open() if args.in_process_fake else ChildFake.open())
    result = Run(system, updates)
    try:
        queued = await fake.queue(updates, args.users)
        assert queued == updates
        fake_cpu = (await fake.stats())["cpu"]
        with tempfile.TemporaryDirectory(prefix="bench-updates-") as workdir:
            if system == "sote-bot":
                stop = await start_sote(fake.base_url, args, Path(workdir))
            else:
                stop = await start_echo(fake.base_url, args, like_sote=system == "echo+cfg")
            if profiler is not None:
                profiler.enable()
            cpu, main_cpu = time.process_time(), time.thread_time()
            gc_timer = GcTimer()
            try:
                with gc_timer:
                    stats = await wait_done(fake, updates, args.settle, args.timeout)
            finally:
                result.cpu_seconds = time.process_time() - cpu
                result.main_cpu_seconds = time.thread_time() - main_cpu
                result.gc_seconds, result.gc_full = gc_timer.seconds, gc_timer.full
                if profiler is not None:
                    profiler.disable()
                await stop()
        detail = await fake.stats(detail=True)
    finally:
        await fake.close()
    result.messages = stats["sent"]
    if not args.in_process_fake:
        result.fake_cpu_seconds = stats["cpu"] - fake_cpu
    if stats["first_poll"] is not None and stats["last_sent"] is not None:
        result.seconds = stats["last_sent"] - stats["first_poll"]
    expected = per_user(workload(updates, args.users))
    got = detail["per_chat"]
    result.missing_chats = sum(1 for chat, n in expected.items() if got.get(chat, 0) < n)
    result.failed = detail["failed"]
    result.texts = Counter(detail["texts"])
    result.error_replies = sum(n for t, n in result.texts.items() if t == _error_prefix())
    return result


def _error_prefix() -> str:
    from handlers.messages import Lang
    from handlers.texts import text

    return text("error", Lang.FI)[:40]


# -- reporting ------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:8.1f}" if value == value else "     n/a"


def print_table(runs: dict[str, list[Run]], args: argparse.Namespace) -> float:
    """The side-by-side table; returns sote-bot's median ratio to the bare echo bot."""
    medians = {s: statistics.median(r.per_second for r in rs) for s, rs in runs.items()}
    echo = medians["echo"]
    heads = "".join(f"   run {i + 1}" for i in range(args.repeat))
    print()
    print(f"{'updates/s':<10}{heads}   median  ratio/echo  complete")
    for system, system_runs in runs.items():
        cells = "".join(f" {_fmt(r.per_second)}" for r in system_runs)
        ratio = medians[system] / echo if echo else float("nan")
        complete = all(r.complete for r in system_runs)
        print(
            f"{system:<10}{cells} {_fmt(medians[system])}  {ratio:10.2f}"
            f"  {'yes' if complete else 'NO'}"
        )
    print()
    print(
        f"{'per update':<10}  msgs  CPU ms  main-thread CPU ms  GC ms  full GCs/run"
        "  fake CPU ms  (medians)"
    )
    for system, system_runs in runs.items():

        def med(value: Callable[[Run], float], rs: list[Run] = system_runs) -> float:
            return statistics.median(value(r) for r in rs)

        print(
            f"{system:<10}{med(lambda r: r.messages / r.updates):6.2f}"
            f"{med(lambda r: 1000 * r.cpu_seconds / r.updates):8.2f}"
            f"{med(lambda r: 1000 * r.main_cpu_seconds / r.updates):20.2f}"
            f"{med(lambda r: 1000 * r.gc_seconds / r.updates):7.2f}"
            f"{med(lambda r: r.gc_full):14.0f}"
            f"{_fmt(med(lambda r: 1000 * r.fake_cpu_seconds / r.updates)):>13}"
        )
    ratio = medians["sote-bot"] / echo if echo else float("nan")
    verdict = "meets" if ratio >= BAR else "MISSES"
    print()
    print(
        f"sote-bot / echo (medians): {medians['sote-bot']:.1f} / {echo:.1f} updates/s = "
        f"{ratio:.2f} → {verdict} the ≥ {BAR:.0%} bar (PRODUCT.md §4)"
    )
    if "echo+cfg" in medians and echo:
        print(f"echo on sote-bot's PTB configuration / bare echo: {medians['echo+cfg'] / echo:.2f}")
    for system, system_runs in runs.items():
        for run in system_runs:
            problems = []
            if run.missing_chats:
                problems.append(f"{run.missing_chats} chats got fewer replies than updates")
            if run.failed:
                problems.append(f"{run.failed} sendMessage calls failed")
            if run.error_replies:
                problems.append(f"{run.error_replies} 'error' replies")
            if problems:
                print(f"WARNING {system}: " + "; ".join(problems))
    return ratio


def print_setup(args: argparse.Namespace) -> None:
    load = workload(args.updates, args.users)
    mix = Counter(text for _, text in load)
    where = "in this process" if args.in_process_fake else "in a child process"
    print(
        f"workload: {args.updates} updates from {args.users} private chats, queued before the "
        f"bot starts; fake Telegram {where}"
    )
    print("texts: " + ", ".join(f"{n}× {t!r}" for t, n in mix.most_common()))
    print(
        f"TELEGRAM_RATE_LIMIT={args.rate_limit:g} for sote-bot and echo+cfg (AIORateLimiter "
        f"overall rate; default is 25/s, raised so that the limiter does not cap the result)"
    )
    print(f"timing: first getUpdates → last successful sendMessage; {args.repeat} runs each")
    print(
        "CPU ms: this process's CPU time (all threads, incl. aiosqlite's) from the bot's start "
        "to the end of the run (fake excluded); GC: time in the cyclic garbage collector"
    )
    print(f"sote-bot per update: {SOTE_PER_UPDATE}")
    if importlib.util.find_spec("sniffio") is None:
        print(
            "NOTE: sniffio is not installed (anyio ≥ 4.12 no longer pulls it in), so httpcore "
            "re-runs a failing `import sniffio` for every pool lock/event (encode/httpcore#1103): "
            "about 1 ms more CPU per Bot API call here, which slows the bare echo bot relatively "
            "more than sote-bot and so flatters the ratio"
        )


CATEGORIES = (
    ("sote-bot handlers/", "/handlers/"),
    ("sote-bot storage/", "/storage/"),
    ("sote-bot bot/", "/bot/"),
    ("sote-bot schedules/", "/schedules/"),
    ("SQLAlchemy (+greenlet)", ("/sqlalchemy/", "greenlet")),
    ("aiosqlite (main-thread side)", "/aiosqlite/"),
    ("python-telegram-bot", "/telegram/"),
    ("httpx/httpcore/h11/anyio", ("/httpx/", "/httpcore/", "/h11/", "/anyio/")),
    ("aiolimiter", "/aiolimiter/"),
    ("FAQ libs (simplemma/rapidfuzz/Stemmer)", ("simplemma", "rapidfuzz", "Stemmer")),
    ("import machinery (failed `import sniffio`)", "<frozen importlib"),
    ("logging", "/logging/"),
    ("asyncio event loop", ("/asyncio/", "/selectors.py")),
)
IDLE = "event loop wait (idle; fake; aiosqlite thread)"


def _category(key: tuple[str, int, str]) -> str | None:
    """The area a function belongs to; None for builtins and other stdlib (caller decides)."""
    filename, _line, name = key
    if name == "<method 'poll' of 'select.epoll' objects>":
        return IDLE
    for label, needles in CATEGORIES:
        if any(n in filename for n in ((needles,) if isinstance(needles, str) else needles)):
            return label
    return None


def _area(key: Any, raw: dict[Any, Any], depth: int = 0) -> str:
    """A function's area, or for builtins/stdlib the area of its (main) caller."""
    label = _category(key)
    if label is not None:
        return label
    callers = raw[key][4]
    if depth < 4 and callers:
        caller = max(callers.items(), key=lambda item: item[1][2])[0]
        if caller in raw:
            return _area(caller, raw, depth + 1)
    return "builtins / stdlib (unattributed)"


def print_profile(profiler: cProfile.Profile, run: Run, top: int) -> None:
    """Where the profiled sote-bot run spent its main-thread time, per update."""
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_area: Counter[str] = Counter()
    for key, (_cc, _nc, _tottime, _ct, callers) in raw.items():
        # Split a function's own time over its callers' areas (C functions, stdlib helpers).
        if _category(key) is None and callers:
            for caller, (_c, _n, tt, _t) in callers.items():
                by_area[_area(caller, raw) if caller in raw else "other"] += tt
        else:
            by_area[_area(key, raw)] += raw[key][2]
    busy = sum(v for k, v in by_area.items() if k != IDLE)
    per = 1000.0 / run.updates
    print()
    print(
        f"cProfile of one more sote-bot run ({run.updates} updates, {run.per_second:.1f} "
        f"updates/s under the profiler, which roughly doubles Python's cost). Main thread only: "
        f"SQLite's own work runs in aiosqlite's thread. C functions and stdlib helpers are "
        f"charged to their caller's area."
    )
    print(f"{'own time by area':<46}{'s':>7}{'ms/update':>11}{'of busy':>9}")
    for label, seconds in by_area.most_common():
        share = f"{seconds / busy:9.1%}" if label != IDLE else "        -"
        print(f"{label:<46}{seconds:7.2f}{seconds * per:11.3f}{share}")
    print(f"{'busy total':<46}{busy:7.2f}{busy * per:11.3f}")
    print()
    print(f"top {top} functions by own time (cumulative times of coroutines are meaningless)")
    stats.sort_stats("tottime").print_stats(top)
    print("sote-bot's own functions by own time")
    stats.sort_stats("tottime").print_stats(re.escape(str(ROOT)) + "/(handlers|storage|bot)/", 15)


async def measure_core(args: argparse.Namespace) -> None:
    """sote-bot's work without Telegram: Router.dispatch on the same workload, 64 at a time."""
    from bot.app import build_router, build_services
    from bot.settings import Settings
    from handlers.messages import Incoming, Lang, Platform, Sender
    from handlers.router import parse_command

    load = workload(args.updates, args.users)
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as workdir:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=f"sqlite+aiosqlite:///{workdir}/core.db", http_port=0
        )
        services = build_services(settings)
        await services.db.upgrade()
        router = build_router(services)
        messages = []
        for index, (user, text) in enumerate(load):
            parsed = parse_command(text) if text.startswith("/") else None
            sender = Sender(Platform.TELEGRAM, str(user), f"Käyttäjä{user % 1000}", "fi")
            messages.append(
                Incoming(
                    sender,
                    str(user),
                    text=text,
                    command=parsed[0] if parsed else None,
                    args=parsed[1] if parsed else "",
                    message_id=str(index),
                    is_private=True,
                )
            )
        slots = asyncio.Semaphore(64)

        async def one(msg: Incoming) -> None:
            async with slots:
                await router.dispatch(msg)

        gc.collect()
        wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
        await asyncio.gather(*(one(m) for m in messages))
        wall, cpu, main = (
            time.perf_counter() - wall,
            time.process_time() - cpu,
            time.thread_time() - main,
        )
        assert services.faq is not None and services.regions is not None
        texts = [text for _, text in load if not text.startswith("/")]
        t0 = time.process_time()
        for text in texts:
            services.faq.matcher.match(text, default=Lang.FI)
        faq_ms = 1000 * (time.process_time() - t0) / len(load)
        t0 = time.process_time()
        for text in texts:
            services.regions.resolve(text)
        region_ms = 1000 * (time.process_time() - t0) / len(load)
        await services.db.dispose()
    n = len(load)
    print()
    print(
        f"sote-bot without Telegram (Router.dispatch on the same {n} updates, 64 at a time, "
        f"fresh SQLite): {n / wall:.1f} updates/s; CPU {1000 * cpu / n:.2f} ms/update "
        f"(main thread {1000 * main / n:.2f}); of that FAQ matching {faq_ms:.2f} ms and the "
        f"region hint {region_ms:.2f} ms per update (measured alone); the rest is the "
        f"database session (user touch, question INSERT, COMMIT) and routing."
    )


# -- main -----------------------------------------------------------------------------------


def _quiet_production_logging() -> None:
    """sote-bot's production log set-up (INFO, secret scrubbing), writing to /dev/null."""
    from bot.logs import configure_logging

    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives for the process
    configure_logging("INFO", "console", [TOKEN], stream=sink)


def _clean_environment() -> None:
    """No TELEGRAM_*/DATABASE_URL… of the developer's leaks into the settings."""
    from bot.settings import Settings

    for name in Settings.model_fields:
        os.environ.pop(name.upper(), None)


async def bench(args: argparse.Namespace) -> int:
    """Warm up, run the systems alternately, print the table (and a profile if needed)."""
    import bot.telegram  # noqa: F401 - sets PTB_TIMEDELTA before PTB is used, as in production

    _clean_environment()
    _quiet_production_logging()
    print_setup(args)
    systems = ["echo", "echo+cfg", "sote-bot"] if args.with_cfg else ["echo", "sote-bot"]
    warmup = min(args.updates, args.warmup)
    if warmup:
        for system in systems:
            await run_once(system, args, warmup)
    runs: dict[str, list[Run]] = {s: [] for s in systems}
    for round_ in range(args.repeat):
        order = systems if round_ % 2 == 0 else systems[::-1]
        for system in order:
            run = await run_once(system, args, args.updates)
            runs[system].append(run)
            print(
                f"  round {round_ + 1} {system:<9} {_fmt(run.per_second)} updates/s "
                f"({run.messages} messages in {run.seconds:.2f} s)",
                flush=True,
            )
    ratio = print_table(runs, args)
    if args.profile == "always" or (args.profile == "auto" and not ratio >= BAR):
        profiler = cProfile.Profile()
        run = await run_once("sote-bot", args, args.updates, profiler)
        print_profile(profiler, run, args.top)
        await measure_core(args)
    return 0 if ratio >= BAR else 1


def main() -> None:
    """Parse arguments; run the benchmark or, with --serve-fake, the child's fake."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates per run")
    parser.add_argument("--users", type=int, default=200, help="distinct private chats")
    parser.add_argument("--repeat", type=int, default=3, help="runs per system")
    parser.add_argument("--warmup", type=int, default=300, help="updates per warm-up run")
    parser.add_argument("--rate-limit", type=float, default=1000.0, help="TELEGRAM_RATE_LIMIT")
    parser.add_argument("--settle", type=float, default=1.0, help="quiet seconds = done")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--in-process-fake", action="store_true", help="fake in this process")
    parser.add_argument(
        "--no-cfg", dest="with_cfg", action="store_false", help="skip the echo+cfg system"
    )
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--top", type=int, default=25, help="functions shown by the profile")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake())
        return
    if args.updates < 1 or args.users < 1 or args.repeat < 1:
        parser.error("--updates, --users and --repeat must be positive")
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
