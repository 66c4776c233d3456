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
