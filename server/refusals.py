"""Why a booking or a check-in was refused, in the words the driver or the attendant reads.

The repository and the slot rules find out what happened; the sentences are
all written here, so they read alike and can be changed in one place.
"""

from __future__ import annotations

from datetime import date

from .errors import (
    AlreadyBookedInSlot,
    AlreadyWaiting,
    BookingLimitReached,
    CheckInClosed,
    LotFull,
    SlotAvailable,
    SlotTaken,
    SpotClosed,
    ValidationFailed,
    VehicleNotFound,
)

# `when` is the slot as drivers read it: Slot.describe(), e.g. "08:00–12:00 on Sat 21 Nov".


def slot_ended(when: str) -> ValidationFailed:
    return ValidationFailed(f"The slot {when} has already ended.")


def beyond_horizon(horizon_days: int, last_day: date) -> ValidationFailed:
    return ValidationFailed(
        f"Bookings open {horizon_days} days ahead; "
        f"the last bookable day is {last_day.isoformat()}."
    )


def booking_limit_reached(limit: int) -> BookingLimitReached:
    held = f"{limit} upcoming booking{'' if limit == 1 else 's'}"
    return BookingLimitReached(
        f"You already hold {held}, the most the lot allows per driver. "
        "Release one, or wait until one has ended, to book another."
    )


def spot_closed(spot_number: int, when: str) -> SpotClosed:
    return SpotClosed(
        f"Spot #{spot_number} is closed for {when}. Please pick another spot or time."
    )


def already_yours(spot_number: int, when: str, driver_name: str | None) -> SlotTaken:
    """The driver (or, for the attendant, driver_name) already holds this very spot and slot."""
    who = "You have" if driver_name is None else f"{driver_name} has"
    return SlotTaken(f"{who} already booked Spot #{spot_number} for {when}.")


def one_spot_per_slot(
    own_spot_number: int, when: str, driver_name: str | None
) -> AlreadyBookedInSlot:
    """The driver already holds another spot in this slot."""
    if driver_name is None:
        return AlreadyBookedInSlot(
            f"You already have Spot #{own_spot_number} booked for "
            f"{when}. Release it first to book another spot."
        )
    return AlreadyBookedInSlot(
        f"{driver_name} already has Spot #{own_spot_number} booked for "
        f"{when}; a driver holds one spot per slot."
    )


def slot_taken(spot_number: int, when: str) -> SlotTaken:
    return SlotTaken(
        f"Spot #{spot_number} is already booked for {when}. "
        "Please pick another spot or time."
    )


# Spot types as drivers read them.
TYPE_NAMES = {"regular": "regular", "handicap": "accessible"}


def not_their_vehicle(vehicle_id: int | None, driver_name: str | None) -> VehicleNotFound:
    """The booking named a vehicle that is not the driver's (driver_name: for the attendant)."""
    whose = "your" if driver_name is None else f"{driver_name}'s"
    return VehicleNotFound(f"'vehicle_id': {vehicle_id} is not one of {whose} vehicles.")


def lot_full(spot_type: str, when: str) -> LotFull:
    """No spot of the type is free in the slot (a booking without a spot_id)."""
    return LotFull(
        f"Every {TYPE_NAMES[spot_type]} spot is taken or closed for {when}. "
        "Please pick another time."
    )


def check_in_after_release(released_by: str) -> CheckInClosed:
    return CheckInClosed(
        "This booking has been released "
        f"({released_by.replace('_', '-')}); there is nothing to check in to."
    )


def check_in_outside_window(window: str) -> CheckInClosed:
    return CheckInClosed(f"Check-in for this booking is open {window}.")


def already_booked_so_no_wait(own_spot_number: int, when: str) -> AlreadyBookedInSlot:
    """A driver asked to wait for a slot in which they hold a spot."""
    return AlreadyBookedInSlot(f"You already have Spot #{own_spot_number} booked for {when}.")


def slot_available(spot_type: str, named_spot: bool, when: str) -> SlotAvailable:
    which = "That spot" if named_spot else f"A {spot_type} spot"
    return SlotAvailable(f"{which} is free for {when}: book it instead.")


def already_waiting(when: str) -> AlreadyWaiting:
    return AlreadyWaiting(f"You are already in line for {when}.")
