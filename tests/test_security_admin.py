"""Django admin: superusers only, read-only, and every opened record with personal data audited."""
import pytest
from django.contrib.auth.models import Permission, User

from requests_app import services
from requests_app.models import DataSubjectRequest, Event, Note

NAME, EMAIL = "Zelda Quartermain", "zelda.q@example.com"


@pytest.fixture
def case(submit):
    return submit("DE", "access", requester_name=NAME, requester_email=EMAIL)


@pytest.fixture
def every_model_permission(db):
    """A staff user holding every permission there is, but not a superuser."""
    user = User.objects.create_user("perm-hoarder", "ph@example.com", "pw-123456789", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return User.objects.get(pk=user.pk)


def admin_pages(case, author):
    note = Note.objects.create(case=case, author=author, text=f"Called {NAME}")
    return ["/admin/", "/admin/requests_app/datasubjectrequest/",
            f"/admin/requests_app/datasubjectrequest/{case.pk}/change/",
            f"/admin/requests_app/datasubjectrequest/?q={EMAIL}",
            f"/admin/requests_app/event/{case.events.first().pk}/change/",
            "/admin/requests_app/notification/",
            f"/admin/requests_app/notification/{case.notifications.first().pk}/change/",
            f"/admin/requests_app/note/{note.pk}/change/"]


def test_it_keeps_every_non_superuser_out_of_admin(client, case, manager, analyst, auditor, every_model_permission):
    pages = admin_pages(case, manager)
    for user in (manager, analyst, auditor, every_model_permission):
        client.force_login(user)
        for page in pages:
            r = client.get(page, follow=True)
            body = r.content.decode()
            assert NAME not in body and case.reference not in body, (user.username, page)
            assert r.redirect_chain and "/admin/login/" in r.redirect_chain[-1][0], (user.username, page)
    assert not Event.objects.filter(kind="admin_viewed").exists()


def test_it_records_every_admin_view_of_a_case_and_never_searches_by_name_or_email(client, case):
    root = User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(root)
    r = client.get(f"/admin/requests_app/datasubjectrequest/{case.pk}/change/")
    assert r.status_code == 200 and NAME in r.content.decode()
    viewed = Event.objects.get(kind="admin_viewed")
    assert (viewed.case_id, viewed.actor, viewed.data["model"]) == (case.pk, root, "datasubjectrequest")
    assert case.reference not in client.get(f"/admin/requests_app/datasubjectrequest/?q={EMAIL}").content.decode()
    assert case.reference not in client.get(f"/admin/requests_app/datasubjectrequest/?q={NAME}").content.decode()
    assert case.reference in client.get(f"/admin/requests_app/datasubjectrequest/?q={case.reference}").content.decode()


def test_it_lets_no_superuser_edit_a_case_note_or_appeal_in_admin(client, case):
    root = User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(root)
    before = DataSubjectRequest.objects.values().get(pk=case.pk)
    r = client.post(f"/admin/requests_app/datasubjectrequest/{case.pk}/change/",
                    {"requester_email": "evil@example.com", "requester_name": "Evil", "decision": "x"})
    assert r.status_code == 403
    assert DataSubjectRequest.objects.values().get(pk=case.pk) == before
    for model in ("datasubjectrequest", "note", "appeal", "event", "notification", "letter", "attachment"):
        assert client.get(f"/admin/requests_app/{model}/add/").status_code == 403, model
    assert client.post(f"/admin/requests_app/datasubjectrequest/{case.pk}/delete/", {"post": "yes"}).status_code == 403


def test_it_answers_400_not_500_to_a_nul_in_a_query_parameter(client, manager):
    root = User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(root)
    assert client.get("/admin/requests_app/datasubjectrequest/?state__exact=%00").status_code == 400
    client.force_login(manager)
    assert client.get("/staff/?q=%00").status_code == 400
