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
