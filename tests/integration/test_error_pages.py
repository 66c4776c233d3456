"""403, 404 and 500 pages: inside the layout where possible, saying what happened and nothing else."""

from django.test import RequestFactory

from bsc.views import errors


def test_a_forbidden_action_shows_the_403_page_and_changes_nothing(world, client):
    client.force_login(world.viewer_a)
    response = client.post("/o/acme/admin/units/", {"name": "Sneaky", "parent": world.company_a.pk})
    assert response.status_code == 403
    assert "You may not do that" in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    client.force_login(world.admin_a)
    assert "Sneaky" not in client.get("/o/acme/admin/units/").content.decode()


def test_an_unknown_page_shows_the_404_page(world, client):
    client.force_login(world.admin_a)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_500_page_renders_without_touching_the_database(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_a_request_the_database_failed_answers_503_saying_the_change_may_not_be_saved(db, django_assert_num_queries):
    """Django calls the 500 handler inside its `except`; a lost database connection (a restart, a failover) is
    told apart from a bug, also when it surfaced as another error (the session middleware's, after it). The
    real thing, with PostgreSQL restarted under saving department heads: tests/soak/test_postgres_restart.py."""
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.db import OperationalError

    request = RequestFactory().post("/o/acme/data-entry/")
    with django_assert_num_queries(0):
        try:  # the session middleware, after the view's query failed
            raise AttributeError("'SessionStore' object has no attribute '_session_cache'")
        except AttributeError as error:
            error.__context__ = OperationalError("server closed the connection unexpectedly")
            response = errors.server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    text = response.content.decode()
    assert "The database is unavailable" in text
    assert "what you just sent may not have been saved. Please try again in a moment" in " ".join(text.split())

    interrupted = SessionInterrupted("The request's session was deleted before the request completed.")
    interrupted.__context__ = OperationalError("the database system is starting up")
    assert errors.bad_request(request, interrupted).status_code == 503
    assert errors.bad_request(request, SessionInterrupted("logged out elsewhere")).status_code == 400


def test_a_database_host_that_never_answers_fails_the_connection_at_its_timeout(db):
    """A host that accepts the connection and then says nothing (a hung server, a half-open failover) must not
    hold a web worker for the operating system's TCP timeout: libpq gives up at DATABASE_CONNECT_TIMEOUT (5 s
    by default; 1 s here) and the page answers 503."""
    import socket

    import pytest
    from django.conf import settings
    from django.db import OperationalError, connections

    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts, never answers
        params = connections["default"].settings_dict | {
            "HOST": "127.0.0.1", "PORT": silent.getsockname()[1], "OPTIONS": {"connect_timeout": 1},
        }  # fmt: skip
        wrapper = connections["default"].__class__(params, alias="silent")
        with pytest.raises(OperationalError, match="timeout expired"):
            wrapper.ensure_connection()
