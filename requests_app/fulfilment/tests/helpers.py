import io
import json
import re
import zipfile

from requests_app.fulfilment.models import Task


def vendor_url(mailoutbox, address="dpo@fastship.example") -> str:
    body = [m for m in mailoutbox if m.to == [address]][-1].body
    return re.search(r"http://testserver(/fulfilment/vendor/[^\s]+/)", body).group(1)


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def task(case, name) -> Task:
    return Task.objects.select_related("system").get(case=case, system__name=name)


EXPORT = json.dumps({"shipments": [{"id": "S-1", "address": "1 Main St"}]}).encode()
