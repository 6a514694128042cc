import io

from django.core.management import call_command

from requests_app.fulfilment.models import DataSystem


def test_it_seeds_ten_systems_and_three_processors_once(analyst):
    for _ in range(2):
        call_command("seed_datamap", "--owner", analyst.username, stdout=io.StringIO())
    assert DataSystem.objects.filter(kind="ours", owner=analyst).count() == 10
    assert DataSystem.objects.filter(kind="processor", work_mode="vendor").count() == 3
    for system in DataSystem.objects.all():
        system.full_clean()  # every seeded system passes the data map's own checks


def test_it_records_each_system_it_creates_in_the_configuration_trail_once(analyst):
    from requests_app.models import ConfigChange

    for _ in range(2):
        call_command("seed_datamap", "--owner", analyst.username, stdout=io.StringIO())
    entries = ConfigChange.objects.filter(object_type="fulfilment.datasystem")
    assert sorted(entries.values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in DataSystem.objects.values_list("pk", flat=True))
    assert {(e.action, e.actor_label) for e in entries} == {("created", "seed_datamap")}
    assert "categories" in entries[0].fields
