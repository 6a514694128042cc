"""The OpenAPI schema and its browsable documentation are served, without a CDN."""


def test_it_serves_the_schema_and_a_docs_page_from_our_own_static_files(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["openapi"].startswith("3.") and "/api/v1/requests/" in body["paths"]
    assert body["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    create = body["paths"]["/api/v1/requests/"]["post"]["responses"]
    assert create["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content and b"cdn" not in docs.content.lower()


def test_it_answers_unknown_api_paths_with_the_json_error(client):
    response = client.post("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_it_offers_the_browsable_api_to_signed_in_staff(client, manager):
    from requests_app.api.tests.helpers import confirmed

    case = confirmed("DE")
    client.force_login(manager)
    for path in ("/api/v1/requests/", f"/api/v1/requests/{case.pk}/", f"/api/v1/requests/{case.pk}/verify/",
                 "/api/v1/events/", "/api/v1/metrics/ccpa/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), path
        assert response["Content-Type"].startswith("text/html"), path
