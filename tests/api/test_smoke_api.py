def test_a_clerk_opens_a_case_and_reads_it(client, auth):
    headers = auth("shouli")
    response = client.post("/api/cases", headers=headers, json={
        "item_code": "002036006001", "applicant": {"name": "张伟", "id_number": "210402198001011234"},
        "data": {"expense_total": "100.00", "bank_account": "6222"}})
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    assert client.get(f"/api/cases/{number}", headers=headers).get_json()["stage"] == "受理"
