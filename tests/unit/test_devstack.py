"""`make run` links its mails to the address it serves (bsc/project/devstack.py) unless SITE_URL is set."""

import pytest

from bsc.project import devstack


@pytest.mark.parametrize(
    ("address", "site_url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:8002", "http://127.0.0.1:8002"),
        ("8002", "http://127.0.0.1:8002"),  # runserver takes a port alone
        ("0.0.0.0:8003", "http://127.0.0.1:8003"),  # listening everywhere: reached here as 127.0.0.1
        ("localhost:8004", "http://localhost:8004"),
        ("[::1]:8005", "http://[::1]:8005"),
        ("[::]:8006", "http://[::1]:8006"),
    ],
)
def test_the_site_url_follows_the_address_served(address, site_url):
    assert devstack.site_url_for(address) == site_url
