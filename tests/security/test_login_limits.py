"""Findings 1 and 2: `/admin/login/` had no rate limit (30 wrong passwords, then the right one let in), and
the limits lived in each gunicorn worker's memory (2 workers: 10 guesses instead of 5). Now every limit
counts in one shared cache, and the admin signs in through the same limited page."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.urls import reverse

from tests.processes import database_url, wait_for
from tests.sandbox_org import _free_port

ROOT = Path(__file__).resolve().parents[2]
WRONG = "not-the-password-0"


@pytest.fixture
def staff(make_user):
    return make_user(email="operator@inflow.example", is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_thirty_wrong_admin_passwords_then_the_right_one_does_not_sign_in(client, staff):
    for _ in range(30):
        client.post("/admin/login/", {"username": staff.email, "password": WRONG})
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.email, "password": staff.raw_password}
    )
    # The admin's form checks no password: it sends the operator to the limited sign-in page.
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get("/admin/").status_code == 302  # still signed out


@pytest.mark.django_db
def test_the_operator_signs_in_through_the_limited_page_and_reaches_the_console(client, staff):
    login = client.get("/admin/login/?next=/admin/")
    assert login["Location"] == f"{reverse('account_login')}?next=/admin/"
    response = client.post(
        login["Location"], {"login": staff.email, "password": staff.raw_password}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "Operations | Inflow console" in response.content.decode()


@pytest.mark.django_db
def test_after_five_wrong_passwords_the_right_one_is_refused(client, staff):
    url = reverse("account_login")
    for _ in range(5):
        assert client.post(url, {"login": staff.email, "password": WRONG}).status_code == 200
    response = client.post(url, {"login": staff.email, "password": staff.raw_password})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_is_refused_not_asked_for_a_password(client, owner):
    client.force_login(owner)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 403


@contextmanager
def running_gunicorn(tmp_path, *args: str):
    """The app under gunicorn as the Procfile starts it (its config file, 2 workers) on the test database;
    yields its base URL and the path of its log."""
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    log = log_path.open("w")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ENV_FILE": "/nonexistent/.env",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_TEST_NAME", None)
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn.py",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def serving() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=20).status_code == 200
        except requests.RequestException:
            return False

    try:
        assert wait_for(serving, timeout=60), log_path.read_text()
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def gunicorn(tmp_path):
    """Each of the two workers is replaced after every request (--max-requests 1), so no attempt is ever
    counted by the process that served the one before: only a limit shared by every process can hold."""
    with running_gunicorn(
        tmp_path, "--max-requests", "1", "--access-logformat", "pid=%(p)s %(m)s %(U)s %(s)s"
    ) as server:
        yield server


def _attempt(base: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": email, "password": password},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_login_limit_holds_across_two_gunicorn_workers(gunicorn, make_user):
    base, log_path = gunicorn
    user = make_user(email=f"limit-{os.getpid()}-{time.time_ns()}@acme.example")
    for _ in range(5):
        assert _attempt(base, user.email, WRONG).status_code == 200  # the form again, with its error
    sixth = _attempt(base, user.email, user.raw_password)
    assert sixth.status_code == 200  # not the redirect of a signed-in user
    assert "Too many failed login attempts" in sixth.text

    def served_by() -> list[str]:
        return re.findall(r"pid=<(\d+)> POST /accounts/login/ 200", log_path.read_text())

    # A worker writes its access-log line after the response: wait for the sixth before counting processes.
    wait_for(lambda: len(served_by()) >= 6, timeout=10)
    # Every attempt was served by a process that had counted none before.
    assert len(set(served_by())) >= 6, log_path.read_text()


def test_with_redis_url_every_process_shares_the_redis_cache():
    """REDIS_URL switches the shared cache to Redis (the rate limits with it); two processes see one count."""
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping()
    except Exception:  # noqa: BLE001 - no Redis on this machine
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"inflow-security-test-{os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": prefix, "DEBUG": "1"}
    script = (
        "from django.core.cache import caches; cache = caches['default'];"
        "print(type(cache).__name__, cache.get_or_set('attempts', 0, 60), cache.incr('attempts'))"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        .stdout.splitlines()[-1]
        .split()
        for _ in range(2)
    ]
    assert outputs == [["RedisCache", "0", "1"], ["RedisCache", "1", "2"]]
    redis.Redis.from_url("redis://127.0.0.1:6379/0").delete(f"{prefix}:1:attempts")


@pytest.mark.django_db(transaction=True)
def test_the_password_reset_limit_holds_across_two_gunicorn_workers(gunicorn, make_user):
    """The same for password resets: 5 a minute per address (ACCOUNT_RATE_LIMITS["reset_password"])."""
    base, log_path = gunicorn
    user = make_user(email=f"reset-{os.getpid()}-{time.time_ns()}@acme.example")
    answers = []
    for _ in range(6):
        session = requests.Session()
        page = session.get(f"{base}/accounts/password/reset/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answers.append(
            session.post(
                f"{base}/accounts/password/reset/",
                data={"csrfmiddlewaretoken": token, "email": user.email},
                headers={"Referer": f"{base}/accounts/password/reset/"},
                timeout=30,
                allow_redirects=False,
            ).status_code
        )
    assert answers == [302] * 5 + [429]

    def served_by() -> list[str]:
        return re.findall(r"pid=<(\d+)> POST /accounts/password/reset/", log_path.read_text())

    # A worker writes its access-log line after the response: wait for the sixth before counting processes.
    wait_for(lambda: len(served_by()) >= 6, timeout=10)
    pids = set(served_by())
    assert len(pids) >= 6
