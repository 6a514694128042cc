"""The EU's outermost regions and Åland have ISO codes of their own and are GDPR jurisdictions
(TFEU Arts. 349, 355), with their own zones, holidays and supervisory authority (spec section 1)."""
import datetime as dt

import pytest

from requests_app import regimes as R
from requests_app.deadlines import calculate

REGIONS = {
    "RE": ("Indian/Reunion", "CNIL"), "GP": ("America/Guadeloupe", "CNIL"), "MQ": ("America/Martinique", "CNIL"),
    "GF": ("America/Cayenne", "CNIL"), "YT": ("Indian/Mayotte", "CNIL"), "MF": ("America/Marigot", "CNIL"),
    "AX": ("Europe/Mariehamn", "Data Protection Ombudsman"),
}


@pytest.mark.parametrize("code", sorted(REGIONS))
def test_it_treats_each_outermost_region_and_aland_as_gdpr_with_its_own_zone_and_authority(code):
    jur = R.jurisdiction(code)
    zone, authority = REGIONS[code]
    assert jur.regime.code == "gdpr"
    assert jur.timezone == zone
    assert authority in jur.complaint_authority
    assert jur.calendar.country == code  # the region's own holiday calendar


def test_it_rolls_a_reunion_deadline_over_the_regions_own_holiday():
    # 20 December is the abolition of slavery in Réunion (not a holiday in mainland France).
    result = calculate("RE", "access", "2026-11-20")
    assert result["clocks"]["respond"].due == dt.date(2026, 12, 21)  # 20 Dec 2026 is a Sunday anyway
    result = calculate("RE", "access", "2027-11-20")
    assert result["clocks"]["respond"].due == dt.date(2027, 12, 21)  # Monday 20 Dec 2027: the region's holiday
    assert calculate("FR", "access", "2027-11-20")["clocks"]["respond"].due == dt.date(2027, 12, 20)
