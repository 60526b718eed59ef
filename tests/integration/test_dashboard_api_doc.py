"""The dashboard's rendered API (public/api.html): linked from the dashboard's header, it fetches
/v1/openapi.json (no sign-in needed) and lists the operations by group with their method, path,
role, parameters and examples; the filter narrows the list. Headless Chromium on the real gateway."""
import json


def test_the_api_page_renders_the_operations(gateway, browser):
    browser.open(gateway, "/")
    link = browser.wait_for("api-docs-link")
    assert link.get_attribute("href").endswith("/api.html")
    browser.click("api-docs-link")
    browser.wait_js("return document.body.dataset.loaded === 'true'", "api.html to render the document")
    assert "Bedrock gateway API" in browser.text("api-title")
    assert "ApiKey" in browser.text("api-auth")

    # Every path of the served document is an operation on the page, with its role.
    document = json.loads(gateway.http("GET", "/v1/openapi.json")[2])
    operations = {f"op-{verb.upper()} {path}": op for path, item in document["paths"].items() for verb, op in item.items()}
    shown = {el.get_attribute("data-testid") for el in browser.driver.find_elements("css selector", ".op")}
    assert shown == set(operations), set(operations) ^ shown
    publish = browser.wait_for("op-POST /v1/publish")
    assert publish.find_element("css selector", '[data-testid="op-role"]').text == "ADMIN"
    assert browser.wait_for("op-GET /v1/account").find_element("css selector", '[data-testid="op-role"]').text == "VIEWER"
    assert browser.wait_for("op-GET /health").find_element("css selector", '[data-testid="op-role"]').text == "no auth"

    # Opening one shows its parameters and the examples of the document.
    browser.click_element(publish.find_element("css selector", "summary"))
    request = browser.wait_for("op-request-example", within=publish)
    assert json.loads(request.text) == operations["op-POST /v1/publish"]["requestBody"]["content"]["application/json"]["example"]
    answer = json.loads(browser.wait_for("op-response-example", within=publish).text)
    assert set(answer) == {"id", "topic", "duplicate"}
    assert "idempotency_key" in publish.text and "FORBIDDEN" in publish.text
    history = browser.wait_for("op-GET /v1/history")
    browser.click_element(history.find_element("css selector", "summary"))
    browser.wait_until(lambda d: "reverse" in history.text, "the history parameters")
    browser.screenshot("api-doc")

    # The filter keeps the matching operations only.
    browser.wait_for("api-filter").send_keys("admin disconnect")
    browser.wait_until(lambda d: len(browser.visible("op-POST /v1/admin/disconnect")) == 1
                       and not browser.visible("op-GET /v1/account"), "the filter to narrow the list")
    browser.assert_no_console_errors()
