from portal.tenancy import activate


def test_queue_and_complaint_page_render(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, product_model_id=shop.product.id)
    quality = as_role("quality")
    response = quality.get("/")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert complaint.number in response.get_data(as_text=True)
    response = quality.get(f"/complaints/{complaint.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    with activate(shop.tenant):
        pass
