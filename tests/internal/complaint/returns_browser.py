"""Browser steps of a returned part on the staff complaint page (#returns), shared by the
whole-loop test and the return's own test: each fills its step's form and signs it."""

from __future__ import annotations


def receive(page, desk, tag: str = "QT-0042") -> None:
    form = page.locator("#returns form[action$='/receive']")
    form.locator("input[name=quantity_received]").fill("1")
    form.locator("input[name=received_on]").fill("2026-03-02")
    form.locator("select[name=condition]").select_option("intact")
    form.locator("input[name=warehouse_location]").fill("财务部仓库 隔离区 Q-3")
    form.locator("input[name=quarantine_tag]").fill(tag)
    form.locator("button[type=submit]").click()
    desk.ok()


def analyse(page, desk) -> None:
    form = page.locator("#returns form[action$='/analyse']")
    form.locator("select[name=grade]").select_option("suspected_defect")
    form.locator("textarea[name=analysis]").fill("主轴手转有阻滞，疑似轴承失效。")
    form.locator("button[type=submit]").click()
    desk.ok()


def appraise(page, desk, supplier: str | None = None, photo: bytes | None = None) -> None:
    form = page.locator("#returns form[action$='/appraise']")
    form.locator("select[name=verdict]").select_option("quality_problem")
    form.locator("input[name=defective_quantity]").fill("1")
    form.locator("select[name=origin]").select_option("purchased" if supplier else "self_made")
    if supplier:
        form.locator("select[name=supplier_id]").select_option(label=supplier)
        form.locator("input[name=part_number]").fill("SPN-6K-01")
    form.locator("textarea[name=appraisal]").fill("前轴承缺润滑脂，滚道烧蚀，属产品质量问题。")
    if photo:
        form.locator("input[name=photos]").set_input_files(
            [{"name": "bearing.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    form.locator("button[type=submit]").click()
    desk.ok()


def issue(page, desk) -> None:
    form = page.locator("#returns form[action$='/issue']")
    form.locator("input[name=issued_quantity]").fill("1")
    form.locator("button[type=submit]").click()
    desk.ok()
