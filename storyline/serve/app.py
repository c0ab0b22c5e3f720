"""The web app and its JSON API (FastAPI + Jinja2, everything served offline from the package).

Read-only unless started with ``write=True`` and a token: the store is then opened read-write
and ``POST /api/upload`` ingests pasted text or files when the request carries the token.
Every page has a JSON twin under ``/api/``; lists are paginated (``limit``/``offset``) over
stable ids. Errors are JSON for ``/api/`` and a small HTML page elsewhere, never a traceback.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter
from sqlalchemy import Connection
from starlette.exceptions import HTTPException

from ..errors import InputError, NotFound, ReadOnlyStore, StoreError, StorylineError
from ..store import Store, open_store
from . import queries
from .render import article_spans, highlight, safe_url, sentence_html, snippet_html

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_FILES = 20
POOL_SIZE = 8  # pooled SQLite connections: no reconnect per request, warm page cache
UPLOAD_TYPES = (".txt", ".text", ".md", ".html", ".htm", ".json", ".jsonl", ".csv", ".gz")
DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]
DateParam = Annotated[
    str | None, Query(pattern=DATE, description="ISO date: YYYY, YYYY-MM or YYYY-MM-DD.")
]
Text = Annotated[str | None, Query(max_length=200)]


# HTTP status of each package error; the first class that matches wins (subclasses first).
ERROR_STATUS: tuple[tuple[type[StorylineError], int], ...] = (
    (NotFound, 404),
    (ReadOnlyStore, 403),
    (InputError, 400),
    (StoreError, 503),
)


def create_app(
    db: str | Path,
    *,
    write: bool = False,
    token: str | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
) -> FastAPI:
    """Build the app over one store; ``write`` needs a ``token`` that uploads must present."""
    if write and not token:
        raise StorylineError("--write needs a token (give one or let serve generate it)")
    store = open_store(db, read_only=not write, pool_size=POOL_SIZE)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Storyline",
        version="1",
        summary="A sourced chronicle of a developing story: stories, events, quotes, sources.",
        docs_url=None,
        redoc_url=None,
        debug=False,
    )
    app.state.store = store
    app.state.write = write
    app.state.token = token
    app.state.max_upload = max_upload_bytes
    app.state.write_lock = threading.Lock()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.filters["safe_url"] = safe_url
    templates.env.filters["sentence_html"] = sentence_html
    templates.env.filters["snippet_html"] = snippet_html
    templates.env.globals["writable"] = write
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_guards(app)
    _install_errors(app)
    app.include_router(_api_router(), prefix="/api")
    app.include_router(_page_router())
    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` (several worker processes): settings from env."""
    import os

    return create_app(
        os.environ["STORYLINE_SERVE_DB"],
        write=os.environ.get("STORYLINE_SERVE_WRITE") == "1",
        token=os.environ.get("STORYLINE_TOKEN") or None,
        max_upload_bytes=int(os.environ.get("STORYLINE_SERVE_MAX_UPLOAD", MAX_UPLOAD_BYTES)),
    )


# -- plumbing ---------------------------------------------------------------------------------


def get_conn(request: Request) -> Iterator[Connection]:
    """One read snapshot per request."""
    store: Store = request.app.state.store
    with store.read() as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]


def _install_guards(app: FastAPI) -> None:
    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS") and not app.state.write:
            return JSONResponse(
                {"error": "this server is read-only; start it with --write and a token"},
                status_code=403,
            )
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > app.state.max_upload + 64 * 1024:
            return JSONResponse(
                {"error": f"upload too large (limit {app.state.max_upload // 1024} KiB)"},
                status_code=413,
            )
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _error(request: Request, status: int, message: str, extra: Any = None) -> Response:
    if _wants_json(request):
        body: dict[str, Any] = {"error": message, "status": status}
        if extra is not None:
            body["detail"] = extra
        return JSONResponse(body, status_code=status)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        msg = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and msg == "Not Found":
            msg = f"no page at {request.url.path}"
        return _error(request, exc.status_code, msg)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errs = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errs[0] if errs else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:]) or "request"
        return _error(request, 422, f"invalid {where}: {first['msg']}", errs)

    @app.exception_handler(StorylineError)
    async def storyline_error(request: Request, exc: StorylineError) -> Response:
        status = next((code for cls, code in ERROR_STATUS if isinstance(exc, cls)), 400)
        return _error(request, status, str(exc))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.error("error serving %s: %s", request.url.path, exc, exc_info=True)
        return _error(request, 500, "internal error; see the server log")


_JSON = TypeAdapter(Any)


def _json(data: Any) -> Response:
    """JSON straight from pydantic's serializer (much faster than jsonable_encoder)."""
    return Response(_JSON.dump_json(data), media_type="application/json")


# -- JSON API ---------------------------------------------------------------------------------


def _api_router() -> Any:
    from fastapi import APIRouter

    r = APIRouter(tags=["api"])

    @r.get("/stats", summary="Counts of what the store holds")
    def api_stats(conn: Conn) -> Response:
        return _json(queries.stats(conn))

    @r.get("/stories", summary="Stories, in creation order")
    def api_stories(conn: Conn, limit: Limit = 50, offset: Offset = 0) -> Response:
        return _json(queries.list_stories(conn, limit, offset))

    @r.get("/stories/{story_id}", summary="One story (`all`: every event in the store)")
    def api_story(conn: Conn, story_id: str) -> Response:
        return _json(queries.get_story(conn, story_id) | {"facets": queries.facets(conn, story_id)})

    @r.get(
        "/stories/{story_id}/timeline",
        summary="A story's dated events for a timeline; per-month/year counts when too many",
    )
    def api_timeline(
        conn: Conn,
        story_id: str,
        actor: Text = None,
        type: Text = None,
        outlet: Text = None,
        status: Text = None,
        since: DateParam = None,
        until: DateParam = None,
        max_items: Annotated[int, Query(ge=1, le=2000)] = 400,
    ) -> Response:
        return _json(
            queries.timeline(
                conn,
                story_id,
                max_items=max_items,
                actor=actor,
                type=type,
                outlet=outlet,
                status=status,
                since=since,
                until=until,
            )
        )

    @r.get("/events", summary="Events by date, with filters")
    def api_events(
        conn: Conn,
        limit: Limit = 50,
        offset: Offset = 0,
        story: Text = None,
        actor: Text = None,
        type: Text = None,
        outlet: Text = None,
        status: Text = None,
        since: DateParam = None,
        until: DateParam = None,
        q: Text = None,
    ) -> Response:
        return _json(
            queries.list_events(
                conn,
                limit,
                offset,
                story=story,
                actor=actor,
                type=type,
                outlet=outlet,
                status=status,
                since=since,
                until=until,
                q=q,
            )
        )

    @r.get("/events/{event_id}", summary="One event with its sources side by side")
    def api_event(conn: Conn, event_id: str) -> Response:
        return _json(queries.get_event(conn, event_id))

    @r.get("/articles", summary="Articles in ingest order")
    def api_articles(
        conn: Conn,
        limit: Limit = 50,
        offset: Offset = 0,
        outlet: Text = None,
        since: DateParam = None,
        until: DateParam = None,
    ) -> Response:
        return _json(
            queries.list_articles(conn, limit, offset, outlet=outlet, since=since, until=until)
        )

    @r.get("/articles/{article_id}", summary="One article with its annotations and relations")
    def api_article(conn: Conn, article_id: str) -> Response:
        return _json(queries.get_article(conn, article_id))

    @r.get("/quotes", summary="Quotes grouped by utterance, every wording across outlets")
    def api_quotes(
        conn: Conn,
        limit: Limit = 50,
        offset: Offset = 0,
        speaker: Text = None,
        utterance: Text = None,
    ) -> Response:
        return _json(queries.list_quotes(conn, limit, offset, speaker=speaker, utterance=utterance))

    @r.get("/entities", summary="Entities, most mentioned first")
    def api_entities(
        conn: Conn, limit: Limit = 50, offset: Offset = 0, type: Text = None, q: Text = None
    ) -> Response:
        return _json(queries.list_entities(conn, limit, offset, type=type, q=q))

    @r.get("/entities/{entity_id}", summary="One entity: aliases, events, quotes, co-actors")
    def api_entity(conn: Conn, entity_id: str) -> Response:
        return _json(queries.get_entity(conn, entity_id))

    @r.get("/search", summary="Full-text search over articles, plus entities and events")
    def api_search(
        request: Request,
        conn: Conn,
        q: Annotated[str, Query(min_length=1, max_length=200)],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Response:
        return _json(queries.search(conn, request.app.state.store.dialect, q, limit))

    @r.post("/upload", summary="Ingest pasted text or files (only with --write and the token)")
    def api_upload(
        request: Request,
        files: Annotated[list[UploadFile] | None, File()] = None,
        text: Annotated[str, Form(max_length=MAX_UPLOAD_BYTES)] = "",
        title: Annotated[str, Form(max_length=500)] = "",
        token: Annotated[str, Form()] = "",
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        app = request.app
        given = token or (authorization or "").removeprefix("Bearer ").strip()
        if not given or not secrets.compare_digest(given.encode(), app.state.token.encode()):
            raise HTTPException(401, "missing or wrong token")
        docs = _upload_docs(files or [], text, title, app.state.max_upload)
        with app.state.write_lock:
            return _json(ingest_bytes(app.state.store, docs))

    return r


def _upload_docs(
    files: list[UploadFile], text: str, title: str, limit: int
) -> list[tuple[str, bytes, str]]:
    """Check uploads for type and size; returns (name, bytes, title) to ingest."""
    if len(files) > MAX_UPLOAD_FILES:
        raise HTTPException(413, f"too many files (limit {MAX_UPLOAD_FILES})")
    docs: list[tuple[str, bytes, str]] = []
    total = 0
    for f in files:
        name = Path(f.filename or "upload").name
        if not name.lower().endswith(UPLOAD_TYPES):
            raise HTTPException(
                415, f"{name}: unsupported file type; use {', '.join(UPLOAD_TYPES)}"
            )
        data = f.file.read(limit + 1)
        total += len(data)
        if len(data) > limit or total > limit:
            raise HTTPException(413, f"{name}: upload too large (limit {limit // 1024} KiB)")
        if not data.strip():
            raise HTTPException(422, f"{name}: empty file")
        docs.append((name, data, ""))
    if text.strip():
        data = text.encode("utf-8")
        if len(data) + total > limit:
            raise HTTPException(413, f"pasted text too large (limit {limit // 1024} KiB)")
        docs.append(("pasted.txt", data, title.strip()))
    if not docs:
        raise HTTPException(422, "nothing to ingest: paste text or choose files")
    return docs


def ingest_bytes(store: Store, docs: list[tuple[str, bytes, str]]) -> dict[str, Any]:
    """Read, extract, annotate, store and link uploaded documents (the pipeline, minus paths)."""
    from ..pipeline import process_docs
    from ..read import Failure, read_bytes

    raws, failures = [], []
    for name, data, title in docs:
        for item in read_bytes(f"upload:{name}", data):
            if isinstance(item, Failure):
                failures.append(str(item))
                continue
            if title and not item.meta.get("title"):
                item.meta["title"] = title
            raws.append(item)
    good = []
    for res in process_docs(raws, annotate=True) if raws else []:
        if isinstance(res, Failure):
            failures.append(str(res))
        else:
            good.append(res)
    added: list[str] = []
    if good:
        with store.transaction() as conn:
            added = store.add_articles(conn, good)
    linked = True
    if added:
        from ..link import link_new

        try:
            link_new(store, added)
        except Exception as exc:  # the articles are stored; linking can be run again later
            log.warning("linking uploaded articles failed: %s", exc, exc_info=True)
            linked = False
            failures.append(f"stored, but linking failed: {type(exc).__name__}: {exc}")
    return {
        "added": added,
        "skipped": len(good) - len(added),
        "failures": failures,
        "linked": linked,
    }


# -- pages ------------------------------------------------------------------------------------


def _page_router() -> Any:
    from fastapi import APIRouter

    r = APIRouter(include_in_schema=False)

    def page(request: Request, name: str, **ctx: Any) -> Response:
        return request.app.state.templates.TemplateResponse(request, name, ctx)

    @r.get("/", response_class=HTMLResponse)
    def home(request: Request, conn: Conn, offset: Offset = 0) -> Response:
        return page(
            request,
            "home.html",
            stats=queries.stats(conn),
            stories=queries.list_stories(conn, 50, offset),
        )

    @r.get("/stories/{story_id}", response_class=HTMLResponse)
    def story(
        request: Request,
        conn: Conn,
        story_id: str,
        actor: Text = None,
        type: Text = None,
        outlet: Text = None,
        since: DateParam = None,
        until: DateParam = None,
        offset: Offset = 0,
    ) -> Response:
        st = queries.get_story(conn, story_id)
        filters = {"actor": actor, "type": type, "outlet": outlet, "since": since, "until": until}
        evs = queries.list_events(conn, 100, offset, story=story_id, **filters)
        return page(
            request,
            "story.html",
            story=st,
            facets=queries.facets(conn, story_id),
            filters={k: v or "" for k, v in filters.items()},
            events=evs,
        )

    @r.get("/events/{event_id}", response_class=HTMLResponse)
    def event(request: Request, conn: Conn, event_id: str) -> Response:
        return page(request, "event.html", ev=queries.get_event(conn, event_id))

    @r.get("/articles", response_class=HTMLResponse)
    def articles(request: Request, conn: Conn, offset: Offset = 0, outlet: Text = None) -> Response:
        return page(
            request,
            "articles.html",
            articles=queries.list_articles(conn, 50, offset, outlet=outlet),
            outlet=outlet or "",
        )

    @r.get("/articles/{article_id}", response_class=HTMLResponse)
    def article(
        request: Request, conn: Conn, article_id: str, s: Annotated[int | None, Query()] = None
    ) -> Response:
        art = queries.get_article(conn, article_id)
        body = highlight(art["text"], article_spans(art, focus=s))
        return page(request, "article.html", art=art, body=body, focus=s)

    @r.get("/quotes", response_class=HTMLResponse)
    def quotes(
        request: Request,
        conn: Conn,
        offset: Offset = 0,
        speaker: Text = None,
        utterance: Text = None,
    ) -> Response:
        found = queries.list_quotes(conn, 50, offset, speaker=speaker, utterance=utterance)
        return page(request, "quotes.html", quotes=found)

    @r.get("/entities", response_class=HTMLResponse)
    def entities(
        request: Request, conn: Conn, offset: Offset = 0, q: Text = None, type: Text = None
    ) -> Response:
        return page(
            request,
            "entities.html",
            entities=queries.list_entities(conn, 100, offset, q=q, type=type),
            q=q or "",
        )

    @r.get("/entities/{entity_id}", response_class=HTMLResponse)
    def entity(request: Request, conn: Conn, entity_id: str) -> Response:
        return page(request, "entity.html", ent=queries.get_entity(conn, entity_id))

    @r.get("/search", response_class=HTMLResponse)
    def search(
        request: Request, conn: Conn, q: Annotated[str, Query(max_length=200)] = ""
    ) -> Response:
        res = queries.search(conn, request.app.state.store.dialect, q, 50) if q.strip() else None
        return page(request, "search.html", q=q, res=res)

    @r.get("/upload", response_class=HTMLResponse)
    def upload(request: Request) -> Response:
        return page(
            request,
            "upload.html",
            limit_kib=request.app.state.max_upload // 1024,
            types=", ".join(UPLOAD_TYPES),
        )

    @r.get("/docs", response_class=HTMLResponse)
    def docs(request: Request) -> Response:
        return page(request, "docs.html")

    return r
