"""Polite HTTP fetching for feeds and their linked pages.

robots.txt is obeyed, each host is asked at most once per ``delay`` seconds, every request has
a timeout and a few retries with back-off, and responses are cached on disk (with ETag /
Last-Modified revalidation) so a feed watched every 15 minutes costs little.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..errors import InputError

if TYPE_CHECKING:
    from ..read import FieldMap, Item

log = logging.getLogger(__name__)

USER_AGENT = "Storyline/0.1 (+https://github.com/storyline-news/storyline; news timeline builder)"
MAX_BYTES = 20 * 1024 * 1024


def default_cache_dir() -> Path:
    from ..cache import cache_dir

    return cache_dir("http")


class Fetcher:
    """A small, polite HTTP client (httpx underneath)."""

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        delay: float = 1.0,
        timeout: float = 20.0,
        retries: int = 2,
        user_agent: str = USER_AGENT,
        obey_robots: bool = True,
    ) -> None:
        import httpx

        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.delay = delay
        self.retries = retries
        self.obey_robots = obey_robots
        self.user_agent = user_agent
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent}
        )
        self._last: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    # -- politeness -------------------------------------------------------------------------

    def _wait_turn(self, host: str) -> None:
        with self._lock:
            last = self._last.get(host)
            now = time.monotonic()
            if last is not None and now - last < self.delay:
                time.sleep(self.delay - (now - last))
            self._last[host] = time.monotonic()

    def allowed(self, url: str) -> bool:
        if not self.obey_robots:
            return True
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            parser: RobotFileParser | None = RobotFileParser()
            try:
                self._wait_turn(parts.netloc)
                resp = self.client.get(root + "/robots.txt")
                if resp.status_code >= 400:
                    parser = None  # no robots.txt: everything allowed
                else:
                    assert parser is not None
                    parser.parse(resp.text.splitlines())
            except Exception as exc:  # unreachable robots.txt: be careful, but go on
                log.debug("robots.txt of %s: %s", root, exc)
                parser = None
            self._robots[root] = parser
        parser = self._robots[root]
        return True if parser is None else parser.can_fetch(self.user_agent, url)

    # -- fetching ---------------------------------------------------------------------------

    def _cache_paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.cache_dir / f"{key}.body", self.cache_dir / f"{key}.json"

    def get(self, url: str) -> bytes:
        """The body of ``url``; raises InputError with a one-line reason on failure."""
        import httpx

        if not self.allowed(url):
            raise InputError(f"{url}: disallowed by robots.txt")
        body_path, meta_path = self._cache_paths(url)
        headers = {}
        cached = None
        if body_path.exists() and meta_path.exists():
            cached = body_path.read_bytes()
            meta = json.loads(meta_path.read_text())
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
        host = urlsplit(url).netloc
        error = "no response"
        for attempt in range(self.retries + 1):
            self._wait_turn(host)
            try:
                resp = self.client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 304 and cached is not None:
                    return cached
                if resp.status_code < 400:
                    data = resp.content[: MAX_BYTES + 1]
                    if len(data) > MAX_BYTES:
                        raise InputError(f"{url}: response larger than {MAX_BYTES // 2**20} MB")
                    self._store(body_path, meta_path, data, resp.headers)
                    return data
                error = f"HTTP {resp.status_code}"
                if resp.status_code < 500 and resp.status_code != 429:
                    break
            time.sleep(min(2**attempt * 0.5, 8))
        if cached is not None:
            log.warning("%s: %s; using the cached copy", url, error)
            return cached
        raise InputError(f"{url}: {error}")

    def _store(self, body_path: Path, meta_path: Path, data: bytes, headers: object) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            body_path.write_bytes(data)
            meta_path.write_text(
                json.dumps(
                    {
                        "etag": headers.get("etag"),  # type: ignore[attr-defined]
                        "last_modified": headers.get("last-modified"),  # type: ignore[attr-defined]
                    }
                )
            )
        except OSError as exc:  # a cache we cannot write is not an error
            log.debug("cache write failed: %s", exc)


_FETCHER: Fetcher | None = None


def fetcher() -> Fetcher:
    """The process-wide fetcher (one politeness state for all requests)."""
    global _FETCHER
    if _FETCHER is None:
        _FETCHER = Fetcher(delay=float(os.environ.get("STORYLINE_FETCH_DELAY", "1.0")))
    return _FETCHER


def read_url(url: str, fields: FieldMap) -> Iterator[Item]:
    from ..read import Failure, read_bytes

    try:
        data = fetcher().get(url)
    except InputError as exc:
        yield Failure(url, str(exc).removeprefix(f"{url}: "))
        return
    yield from read_bytes(url, data, fields)
