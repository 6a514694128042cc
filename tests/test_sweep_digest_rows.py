"""A digest's rows are formatted in Python (bench/sweep.py): escaped like the template would."""
import datetime as dt

from requests_app import sweep

NOW = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.timezone.utc)


def test_it_escapes_every_value_of_a_digests_html_row_and_none_of_its_text_row():
    claim = sweep.Claim(1, 10, None, "confirm_email", False, NOW - dt.timedelta(hours=2), "Europe/Berlin", 3)
    case = sweep.CaseInfo('<b>"R&1"</b>', "ccpa", "US-CA", "")
    text, html = sweep._item(claim, case, NOW, "https://example.com/staff/cases/{pk}/?a=1&b=2",
                             error="ValueError: <script>alert('x')</script>")
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;&quot;R&amp;1&quot;&lt;/b&gt;" in html and 'href="https://example.com/staff/cases/10/?a=1&amp;b=2"' in html
    assert "ends 2026-11-30 02:00 Europe/Berlin" in html
    # The plain-text body is not HTML: nothing escaped there.
    assert text.startswith('[NEEDS A PERSON] <b>"R&1"</b> - ')
    assert text.endswith("\n    Error: ValueError: <script>alert('x')</script>")


def test_it_escapes_a_regime_and_a_clock_it_has_no_label_for():
    # Unknown codes are shown as they are stored: from data, so escaped too.
    claim = sweep.Claim(1, 10, 7, "<k>", True, NOW + dt.timedelta(days=1), "UTC", 2)
    text, html = sweep._item(claim, sweep.CaseInfo("R-1", "<i>r</i>", "XX", ""), NOW, "/c/{pk}/")
    assert "<i>" not in html and "<k>" not in html
    assert "<td>&lt;i&gt;r&lt;/i&gt;</td><td>&lt;k&gt; (appeal)</td>" in html
    assert text.startswith("[URGENT] R-1 - <i>r</i> - <k> (appeal)\n    Due: 2026-12-01 (ends 2026-12-01 03:00 UTC) - 24 h left")
