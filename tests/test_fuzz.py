"""Fuzzing: generated requests for every documented operation never get a 5xx or an undocumented answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
import yaml
from hypothesis import settings
from schemathesis import Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.auth import TokenService
from server.frontend import OPENAPI_DOCUMENT
from server.repository.users import User
from server.slots import slots_on
from tests.support import ADMIN, DRIVER1, tomorrow

CONFIG = schemathesis.Config.from_dict(
    {
        # Fixed inputs: a failure here reproduces on every run and machine.
        "seed": 20261121,
        "generation": {
            "mode": "all",
            "deterministic": True,
            "database": "none",
            # The test sends a real token itself; generated ones would only be refused.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
    }
)

SCHEMA = (
    schemathesis.openapi.from_path(OPENAPI_DOCUMENT, config=CONFIG)
    # A WebSocket upgrade is no request/response pair; tests/test_realtime.py covers it.
    .exclude(operation_id="openSocket")
)


@SCHEMA.hook("map_case")
def aim_some_cases_at_real_slots_and_reservations(context: HookContext, case: Case) -> Case:
    """Turn positive cases into bookings of real slots and requests for real ids.

    Random instants almost never form one of the day's three slots, and random
    ids almost never exist: left alone, the fuzz would only ever see 422 and 404.
    Derived from the generated values, so the run stays deterministic.
    """
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    body: Any = case.body
    booking_paths = ("/reservations", "/admin/reservations", "/admin/closures", "/waitlist")
    if case.operation.path in booking_paths and isinstance(body, dict) and isinstance(body.get("spot_id"), int):
        n = body["spot_id"]
        slot = slots_on(tomorrow() + timedelta(days=n % 3), ZoneInfo("UTC"))[n // 3 % 3]
        # Seed spots have ids 1-5; 6 does not exist.
        case.body = {**body, "spot_id": n % 6 + 1, "start_time": slot.start.isoformat(), "end_time": slot.end.isoformat()}
    elif isinstance(case.path_parameters, dict) and isinstance(case.path_parameters.get("id"), int):
        case.path_parameters = {**case.path_parameters, "id": case.path_parameters["id"] % 40 + 1}
    return case


CHECKS = [
    not_a_server_error,
    # The answer is one the document lists, with its content type, schema and headers.
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # Requests the document forbids are refused with a 4xx, not served.
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def base_url(start_module_server: Callable[..., str]) -> str:
    # One driver sends hundreds of bookings, releases and check-ins here within
    # a minute; past the write limit every case would be a 429. The limit has
    # its own tests (test_booking_write_limit.py).
    return start_module_server(BOOKING_WRITES_PER_MINUTE="1000000")


@pytest.fixture(scope="module")
def driver_headers(tokens: TokenService, user_ids: dict[str, int]) -> dict[str, str]:
    # Module-scoped: Hypothesis refuses function-scoped fixtures, which would not
    # be reset between the examples of one test anyway.
    user = User(user_ids[DRIVER1], DRIVER1, DRIVER1, "driver")
    return {"Authorization": f"Bearer {tokens.issue(user)}"}


@pytest.fixture(scope="module")
def admin_headers(tokens: TokenService, user_ids: dict[str, int]) -> dict[str, str]:
    user = User(user_ids[ADMIN], ADMIN, ADMIN, "admin")
    return {"Authorization": f"Bearer {tokens.issue(user)}"}


FUZZED: list[str] = []


def fuzz(operation_id: str, max_examples: int = 100, *, as_admin: bool = False) -> Callable[..., None]:
    """A test that fuzzes one operation, as a driver or (as_admin) as the attendant.

    One test function per operation, because under pytest 9 every item that one
    `@schema.parametrize()` collects gets the same node id, whatever its operation.
    """

    FUZZED.append(operation_id)

    @SCHEMA.include(operation_id=operation_id).parametrize()
    @settings(max_examples=max_examples, derandomize=True, deadline=None)
    def test(
        case: Case, base_url: str, driver_headers: dict[str, str], admin_headers: dict[str, str]
    ) -> None:
        headers = admin_headers if as_admin else driver_headers
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=10)

    return test


# Each login costs the server a bcrypt check (~0.25 s of CPU).
test_fuzz_login = fuzz("login", max_examples=30)
test_fuzz_get_spots = fuzz("getSpots")
test_fuzz_get_lot = fuzz("getLot", max_examples=5)
test_fuzz_create_reservation = fuzz("createReservation")
test_fuzz_list_reservations = fuzz("listReservations")
test_fuzz_get_reservation = fuzz("getReservation")
test_fuzz_complete_reservation = fuzz("completeReservation")
test_fuzz_export_reservations = fuzz("exportReservations")
test_fuzz_get_stats = fuzz("getStats")
test_fuzz_healthz = fuzz("healthz")
test_fuzz_readyz = fuzz("readyz")
# The fuzzed server has no METRICS_TOKEN: every answer is a 404.
test_fuzz_get_metrics = fuzz("getMetrics", max_examples=5)
test_fuzz_get_openapi_document = fuzz("getOpenApiDocument")
# A driver on an attendant's route is a 403, which the document lists; once is enough.
test_fuzz_board_as_a_driver = fuzz("getBoard", max_examples=10)
test_fuzz_get_board = fuzz("getBoard", as_admin=True)
test_fuzz_book_for_someone = fuzz("bookForSomeone", as_admin=True)
test_fuzz_get_any_reservation = fuzz("getAnyReservation", as_admin=True)
test_fuzz_release_with_reason = fuzz("releaseWithReason", as_admin=True)
test_fuzz_export_all_reservations = fuzz("exportAllReservations", as_admin=True)
test_fuzz_list_users = fuzz("listUsers", as_admin=True, max_examples=5)
test_fuzz_close_spot = fuzz("closeSpot", as_admin=True)
test_fuzz_list_closures = fuzz("listClosures", as_admin=True)
test_fuzz_reopen = fuzz("reopen", as_admin=True)
test_fuzz_add_spot = fuzz("addSpot", as_admin=True)
test_fuzz_change_spot = fuzz("changeSpot", as_admin=True)
test_fuzz_get_rules = fuzz("getRules", max_examples=5)
test_fuzz_check_in = fuzz("checkIn")
test_fuzz_check_in_anyone = fuzz("checkInAnyone", as_admin=True)
test_fuzz_change_rules = fuzz("changeRules", as_admin=True)
test_fuzz_create_api_token = fuzz("createApiToken", max_examples=30)
test_fuzz_list_api_tokens = fuzz("listApiTokens", max_examples=5)
test_fuzz_revoke_api_token = fuzz("revokeApiToken")
test_fuzz_rotate_calendar_feed = fuzz("rotateCalendarFeed", max_examples=5)
test_fuzz_get_calendar_feed = fuzz("getCalendarFeed")
test_fuzz_join_waitlist = fuzz("joinWaitlist")
test_fuzz_list_waitlist = fuzz("listWaitlist", max_examples=5)
test_fuzz_leave_waitlist = fuzz("leaveWaitlist")
test_fuzz_get_waitlist_lines = fuzz("getWaitlistLines", as_admin=True)
test_fuzz_list_vehicles = fuzz("listVehicles", max_examples=5)
test_fuzz_add_vehicle = fuzz("addVehicle", max_examples=50)
test_fuzz_remove_vehicle = fuzz("removeVehicle", max_examples=30)
test_fuzz_look_up_plate = fuzz("lookUpPlate", as_admin=True)
test_fuzz_rotate_lobby_key = fuzz("rotateLobbyKey", as_admin=True, max_examples=5)
test_fuzz_get_lobby_page = fuzz("getLobbyPage", max_examples=20)
test_fuzz_get_lobby_board = fuzz("getLobbyBoard", max_examples=20)
test_fuzz_list_audit_records = fuzz("listAuditRecords", as_admin=True)
test_fuzz_export_audit_records = fuzz("exportAuditRecords", as_admin=True, max_examples=30)
test_fuzz_create_series = fuzz("createSeries", max_examples=30)
test_fuzz_list_series = fuzz("listSeries", max_examples=5)
test_fuzz_get_series = fuzz("getSeries", max_examples=30)
test_fuzz_stop_series = fuzz("stopSeries", max_examples=30)
test_fuzz_get_service_worker = fuzz("getServiceWorker", max_examples=3)
test_fuzz_list_notifications = fuzz("listNotifications")
test_fuzz_mark_notifications_read = fuzz("markNotificationsRead", max_examples=30)
test_fuzz_get_notification_settings = fuzz("getNotificationSettings", max_examples=5)
test_fuzz_put_notification_settings = fuzz("putNotificationSettings", max_examples=30)
test_fuzz_create_webhook = fuzz("createWebhook", as_admin=True, max_examples=50)
test_fuzz_list_webhooks = fuzz("listWebhooks", as_admin=True, max_examples=5)
test_fuzz_delete_webhook = fuzz("deleteWebhook", as_admin=True, max_examples=30)
test_fuzz_list_webhook_deliveries = fuzz("listWebhookDeliveries", as_admin=True, max_examples=30)
test_fuzz_queue_monthly_summary = fuzz("queueMonthlySummary", as_admin=True, max_examples=30)


def test_every_documented_operation_but_the_websocket_is_fuzzed():
    document = yaml.safe_load(OPENAPI_DOCUMENT.read_text())
    documented = {
        operation["operationId"] for item in document["paths"].values() for operation in item.values()
    }
    assert set(FUZZED) == documented - {"openSocket"}
