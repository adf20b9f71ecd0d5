"""The interactive API reference at /docs: every documented operation, Try it out with a token, phones."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from server.frontend import OPENAPI_DOCUMENT

from .ui import DRIVER1, csp_violations, record_csp_violations

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def documented_operations() -> set[tuple[str, str]]:
    with OPENAPI_DOCUMENT.open() as file:
        document = yaml.safe_load(file)
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.fixture
def open_docs(browser: Browser, app_url: str) -> Iterator[Callable[[int], Page]]:
    """Factory: /docs in a fresh context this many pixels wide, once swagger-ui has rendered it."""
    contexts = []

    def open_(width: int) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 800})
        contexts.append(context)
        record_csp_violations(context)
        page = context.new_page()
        page.goto(app_url + "/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def test_docs_lists_every_operation_of_the_served_openapi_document(open_docs) -> None:
    page = open_docs(1280)
    expected = documented_operations()
    expect(page.locator(".opblock")).to_have_count(len(expected))
    listed = page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(block => [
             block.querySelector('.opblock-summary-method').textContent,
             block.querySelector('.opblock-summary-path').dataset.path,
           ])""",
    )
    assert {(method, path) for method, path in listed} == expected
    expect(page.locator(".info .title")).to_contain_text("Smart Parking API")
    assert csp_violations(page) == []


def test_try_it_out_sends_the_bearer_token_given_to_authorize(open_docs, auth) -> None:
    page = open_docs(375)
    token = auth(DRIVER1)["Authorization"].removeprefix("Bearer ")
    page.click("button.authorize")
    # The session's scheme, not GET /metrics' own token.
    scheme = page.locator(".modal-ux .auth-container").filter(has_text="bearerAuth")
    scheme.locator("input").fill(token)
    scheme.locator("button.authorize").click()
    page.click(".modal-ux button.btn-done")

    operation = page.locator(".opblock-get").filter(has=page.locator('[data-path="/spots"]'))
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    with page.expect_request(lambda request: "/spots?" in request.url) as sent:
        operation.locator("button.execute").click()
    assert sent.value.headers["authorization"] == f"Bearer {token}"
    status = operation.locator(".live-responses-table tbody .response-col_status")
    expect(status).to_have_text("200", timeout=10_000)
    expect(operation.locator(".live-responses-table .microlight").first).to_contain_text('"spots"')
    assert csp_violations(page) == []


def test_docs_fit_a_320_pixel_phone_with_operations_open(open_docs) -> None:
    page = open_docs(320)
    for summary in page.locator(".opblock-summary").all():
        summary.click()
    expect(page.locator(".opblock.is-open")).to_have_count(len(documented_operations()))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert csp_violations(page) == []
