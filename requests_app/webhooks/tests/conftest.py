import pytest

from requests_app.webhooks import services as hooks_services


@pytest.fixture
def subscribe(db, settings):
    settings.DEBUG = True  # http:// receivers on localhost

    def _subscribe(port, events=("request.created",)):
        return hooks_services.create_subscription(name="crm", url=f"http://127.0.0.1:{port}/hook", events=list(events))
    return _subscribe
