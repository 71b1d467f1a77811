"""Create the demo user of `restart --keycloak` through Keycloak's admin REST API.

The compose keycloak service imports realm "weaviate" (client "demo") when it starts. Once it
is ready, we log in to the master realm as admin and create user johndoe/johndoe in that
realm. A user that already exists counts as success, so `restart` can run again.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from weaviate_dev.core.errors import DevError


@dataclass(frozen=True)
class DemoUser:
    """The demo user that `restart --keycloak` creates."""

    username: str = "johndoe"
    password: str = "johndoe"
    email: str = "john@doe.com"


def admin_token(session: requests.Session, base_url: str, *, username: str = "admin",
                password: str = "admin", timeout: float = 10) -> str:
    """Log in as the master realm's admin (password grant, client admin-cli) and return the
    access token."""
    url = f"{base_url}/auth/realms/master/protocol/openid-connect/token"
    try:
        response = session.post(url, data={"grant_type": "password", "client_id": "admin-cli",
                                            "username": username, "password": password},
                                timeout=timeout)
    except requests.RequestException as exc:
        raise DevError(f"keycloak admin login at {url} failed: {exc}") from exc
    if response.status_code != 200:
        raise DevError(f"keycloak admin login at {url} answered HTTP {response.status_code}: "
                       f"{response.text[:300]}")
    try:
        return response.json()["access_token"]
    except (ValueError, KeyError) as exc:
        raise DevError(f"keycloak admin login at {url} returned no access_token") from exc


def create_user(base_url: str, *, realm: str = "weaviate", user: DemoUser = DemoUser(),
                session: requests.Session | None = None, timeout: float = 10) -> str:
    """Create `user` in `realm`; return "created" or "exists". Raises DevError on any other
    answer."""
    session = session or requests.Session()
    token = admin_token(session, base_url, timeout=timeout)
    url = f"{base_url}/auth/admin/realms/{realm}/users"
    body = {
        "username": user.username,
        "enabled": True,
        "email": user.email,
        "emailVerified": True,
        "credentials": [{"type": "password", "value": user.password, "temporary": False}],
    }
    try:
        response = session.post(url, json=body, timeout=timeout,
                                headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as exc:
        raise DevError(f"creating keycloak user {user.username} at {url} failed: {exc}") from exc
    if response.status_code == 201:
        return "created"
    if response.status_code == 409:
        return "exists"
    raise DevError(f"creating keycloak user {user.username} at {url} answered HTTP "
                   f"{response.status_code}: {response.text[:300]}")
