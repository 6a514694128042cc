import datetime as dt
import time_machine
from requests_app import services

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)

@time_machine.travel(T0, tick=False)
def test_smoke(submit, run, manager, client):
    c1 = submit("US-CA", "access")
    c2 = submit("DE", "access", requester_email="b@example.com")
    c3 = submit("MX", "access")
    run(services.confirm_email, c1)
    client.force_login(manager)
    r = client.get("/staff/")
    assert r.status_code == 200, r.content
    open("/tmp/scratch/queue.html","wb").write(r.content)
    r = client.get(f"/staff/cases/{c1.pk}/")
    assert r.status_code == 200
    open("/tmp/scratch/case.html","wb").write(r.content)
    r = client.get("/staff/?q=b@example.com&overdue=on&regime=gdpr&state=appeal:received")
    assert r.status_code == 200
    r = client.get("/staff/deadlines/?jurisdiction=US-CA&request_type=access&received=2026-03-02")
    assert r.status_code == 200
    open("/tmp/scratch/calc.html","wb").write(r.content)
    r = client.get("/staff/metrics/?year=2026")
    assert r.status_code == 200
