import subprocess
import sys

import pytest


def _calc(env_days):
    code = ("from requests_app.deadlines import calculate_json as c; "
            "print(c('JP', 'access', '2026-03-02')['clocks']['respond'])")
    env = {"PATH": "/usr/bin:/bin", "DSAR_VOLUNTARY_DAYS": env_days}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_a_deployment_may_shorten_the_voluntary_clock():
    out = _calc("20")
    assert out.returncode == 0, out.stderr
    assert "'due': '2026-03-22'" in out.stdout and "'extended_due': '2026-04-21'" in out.stdout


@pytest.mark.parametrize("value", ["31", "0", "thirty"])
def test_a_deployment_may_never_lengthen_it(value):
    out = _calc(value)
    assert out.returncode != 0 and "DSAR_VOLUNTARY_DAYS" in out.stderr
