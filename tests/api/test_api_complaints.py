"""Complaints through the REST API: filing, reading, listing with filters and cursors,
transitions through the workflow, photos, costs, problems in the caller's language."""

from __future__ import annotations

import io

from PIL import Image

from portal.models import Complaint, TimelineEvent
from portal.tenancy import activate

from .conftest import complaint_body


def test_file_read_and_list_a_complaint(setup):
    api = setup
    created = api.post("/complaints", json=complaint_body(api))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["status"] == "received"
    assert body["serial_numbers"] == ["PX-0001", "PX-0002"]
    assert body["customer"] == "Acme Motors" and body["product_model"] == "PUMP-100"
    assert created.headers["Location"].endswith(f"/api/v1/complaints/{body['number']}")
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "filed_by_staff"]
    assert "API: ERP" in body["timeline"][0]["actor"]

    read = api.get(f"/complaints/{body['number']}")
    assert read.status_code == 200 and read.get_json()["number"] == body["number"]
    listed = api.get("/complaints").get_json()
    assert [c["number"] for c in listed["items"]] == [body["number"]]
    assert listed["items"][0]["serial_numbers"] == ["PX-0001", "PX-0002"]
    assert listed["next_cursor"] is None
