"""Blocking work (the database, files, password hashing) runs in the threadpool, never on
the event loop: one slow console action must not stall every other visitor."""

import inspect
import threading
from functools import partial

import httpx
from fastapi.routing import APIRoute

from digest.subscribers.importing import CHUNK, import_csv
from digest.web.app import create_app
from digest.web.staff import ops
from tests.smtp_server import free_port
from tests.web.server import running
from tests.web.staff.conftest import sign_in
from tests.web.staff.test_routes import walk


def test_no_route_handler_runs_on_the_event_loop(web_settings):
    # Every handler here touches the database or a file; an `async def` one would run that
    # work on the loop and stop the whole server while it lasts.
    routes = list(walk(create_app(web_settings).routes))
    assert len(routes) > 30  # the walk went into the included routers
    on_loop = [path for path, route in routes
               if isinstance(route, APIRoute) and inspect.iscoroutinefunction(route.endpoint)]
    assert on_loop == []


def test_a_home_page_is_served_while_an_import_is_held_mid_way(web_settings, staff, monkeypatch):
    held, release = threading.Event(), threading.Event()
    calls = []

    def hold(rows_done: int) -> None:
        # Called after validation, after the suppression check, then after each chunk: the
        # third call has written the first chunk inside the import's transaction.
        calls.append(rows_done)
        if len(calls) == 3:
            held.set()
            release.wait(60)

    monkeypatch.setattr(ops, "import_csv", partial(import_csv, progress=hold))
    rows = "".join(f"reader{n}@example.net,Reader {n}\n" for n in range(2 * CHUNK + 1))
    answers = []
    with running(web_settings, free_port()) as base, httpx.Client(base_url=base, timeout=60) as ops_client:
        token = sign_in(ops_client, "ops")
        importing = threading.Thread(target=lambda: answers.append(ops_client.post(
            "/staff/subscribers/import", data={"csrf_token": token, "list": "morning-briefing"},
            files={"file": ("readers.csv", "email,name\n" + rows, "text/csv")})))
        importing.start()
        try:
            assert held.wait(60), "the import never reached its first chunk"
            # While the import waits, the server still answers: a blocked loop would not.
            home = httpx.get(f"{base}/", timeout=10)
            assert home.status_code == 200
            assert not answers, "the import was to be still running"
        finally:
            release.set()
            importing.join(60)
    assert answers[0].status_code == 200
    assert f"<strong>{2 * CHUNK + 1}</strong> added" in answers[0].text
