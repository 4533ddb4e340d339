"""A phone on a slow 3G connection (2 s latency, 50 kB/s, throttled by Chromium itself through
CDP) files a complaint with three photos through the real customer form, served by gunicorn
started exactly as the Procfile's web command starts it, on the real PostgreSQL, Redis and S3.

Each photo's upload lasts longer than the 30 s after which a sync worker is killed (WORKER
TIMEOUT, a 500): the test asserts that, so it keeps proving the point if the photos or the
network change. It also photographs the photo rows at 360 px in Chinese during the upload and
checks that their status stays on one line (it wrapped a character per line: "正在/上/传…").
"""

from __future__ import annotations

import io
import random
import re
import time

import pytest
from PIL import Image
from sqlalchemy import select

from portal.models import Complaint, Photo
from tests.browser_support import ARTIFACTS
from tests.customer.test_browser import _seed

pytestmark = [pytest.mark.deployment, pytest.mark.browser]

SYNC_TIMEOUT = 30  # gunicorn's default --timeout, which killed the sync workers
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50 * 1024,
           "uploadThroughput": 50 * 1024}


def phone_photo(seed: int, size=(1100, 825)) -> bytes:
    """A JPEG that does not compress away (noise over a gradient), about 0.7 MB: below the
    size above which the page shrinks photos in the browser, so this is what travels."""
    rng = random.Random(seed)
    image = Image.effect_noise(size, 90).convert("RGB")
    overlay = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(image, overlay, 0.3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_three_photos_over_slow_3g_through_the_procfile_web_process(stack, browser):
    world = _seed(stack, "zh_CN")
    with stack.seed(world["tenant_id"]) as db:
        from portal.models import Tenant

        db.session.get(Tenant, world["tenant_id"]).settings = {"filing_limit_per_hour": 50}
    web, url = stack.start_web("web-slow")
    base = f"{url}/t/{world['slug']}"
    photos = [phone_photo(n) for n in range(3)]
    assert all(400_000 < len(p) < 1_400_000 for p in photos), [len(p) for p in photos]

    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{base}/complaints/new")
        assert page.get_attribute("html", "lang") == "zh-CN"
        page.fill("#reporter_name", "王工")
        page.fill("#reporter_company", "示例制造有限公司")
        page.fill("#reporter_email", f"wang@{world['slug']}.example.com")
        page.fill("#reporter_phone", "+86 138 0000 0000")
        page.fill("#product", "PX-100")
        page.fill("#serials", "AB000101\nAB000102")
        page.locator("#serials").blur()
        page.wait_for_selector("#serial-report li.ok >> nth=1")
        page.fill("#defect_quantity", "2")
        page.fill("#description", "主轴运行 10 分钟后停机。")
        page.fill("#found_at_place", "2 号装配线")
        page.check("input[name=demands][value=replacement]")

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        timings: dict[str, list[float]] = {}
        statuses: list[int] = []
        page.on("request", lambda r: "/photos/stage" in r.url
                and timings.setdefault(r.url + str(id(r)), [time.monotonic()]))
        page.on("response", lambda r: "/photos/stage" in r.url and (
            statuses.append(r.status),
            timings[r.url + str(id(r.request))].append(time.monotonic())))
        page.locator("input[type=file][name=photos][multiple]").set_input_files([
            {"name": f"IMG_{n:04d}.jpg", "mimeType": "image/jpeg", "buffer": p}
            for n, p in enumerate(photos, 1)])

        # During the upload: one line of status per row, buttons not squeezed, no scrolling.
        page.wait_for_selector(".photo-item.busy >> nth=2")
        page.wait_for_function("() => [...document.querySelectorAll('.photo-item progress')]"
                               ".some(p => p.value > 5)", timeout=60_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#photos-field").screenshot(path=str(ARTIFACTS / "zh_CN-slow-upload-360.png"))
        boxes = page.evaluate("""() => [...document.querySelectorAll('.photo-item.busy')].map(
            li => { const s = li.querySelector('.photo-status'), r = s.getBoundingClientRect();
                    return {text: s.textContent, width: r.width, height: r.height,
                            line: parseFloat(getComputedStyle(s).lineHeight) ||
                                  1.5 * parseFloat(getComputedStyle(s).fontSize)}; })""")
        assert len(boxes) == 3 and all(b["text"] == "正在上传…" for b in boxes), boxes
        assert all(b["height"] < 1.6 * b["line"] and b["width"] > 120 for b in boxes), boxes
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.wait_for_selector(".photo-item.done >> nth=2", timeout=150_000)
        assert statuses == [200, 200, 200], statuses
        durations = sorted(t[1] - t[0] for t in timings.values() if len(t) == 2)
        print("stage request durations (s):", [round(d, 1) for d in durations])
        assert len(durations) == 3
        assert min(durations) > SYNC_TIMEOUT, ("the uploads no longer outlast a sync worker's "
                                               f"timeout, the test proves nothing: {durations}")
        page.locator("#photos-field").screenshot(path=str(ARTIFACTS / "zh_CN-slow-upload-done.png"))

        page.locator("button.submit").click()
        page.wait_for_url(re.compile(r"/complaints/.+/filed$"), timeout=60_000)
        number = page.locator(".number").inner_text().strip()
    finally:
        context.close()

    with stack.seed(world["tenant_id"]) as db:
        complaint = db.session.scalar(select(Complaint).where(Complaint.number == number))
        stored = db.session.scalars(select(Photo).where(Photo.complaint_id == complaint.id)).all()
        assert sorted(p.original_filename for p in stored) == [
            "IMG_0001.jpg", "IMG_0002.jpg", "IMG_0003.jpg"]
    log = stack.log(web)
    assert "WORKER TIMEOUT" not in log and web.poll() is None, log
