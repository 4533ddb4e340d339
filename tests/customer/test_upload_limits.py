"""The plain complaint form (no JavaScript) counts its photos against the same server-side
limits as the uploader: re-posting a form full of photos cannot fill the store."""

from __future__ import annotations

import re

from .conftest import jpeg


def test_plain_form_photos_count_against_the_address_limit(filer, app, monkeypatch):
    monkeypatch.setitem(app.config, "STAGE_LIMIT_PER_ADDRESS", "2 per hour")
    photos = [(f"IMG_{n}.jpg", jpeg()) for n in range(3)]
    response = filer.post(photos=photos, description="")  # refused for the description
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Too many photos were sent from here" in text
    assert len(re.findall(r'name="staged_photo"', text)) == 2  # two stored, the third not
    again = filer.post(photos=photos[:1], description="")
    assert "Too many photos were sent from here" in again.get_data(as_text=True)
    assert len(re.findall(r'name="staged_photo"', again.get_data(as_text=True))) == 0
