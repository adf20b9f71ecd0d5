"""Licence plates: one spelling for what people type, and what counts as a plate."""

from __future__ import annotations

import unicodedata

from .errors import ValidationFailed

# The tables' CHECKs say the same (reservations_licence_plate_length, vehicles_*).
MAX_LICENCE_PLATE = 16
# The database matches plates without these (normalised_plate() in SQL).
SEPARATORS = " -."


def _is_plate_letter(char: str) -> bool:
    # Latin letters only, accents included ("Ö" is on German plates): a Cyrillic
    # "А" or a Greek "Α" looks like "A" but would never match it.
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN CAPITAL LETTER")


def spelled_plate(raw: str, *, label: str = "licence_plate") -> str:
    """The plate as stored: NFKC (fullwidth "ＡＢ" is "AB"), upper-cased, trimmed.

    Refuses, with a 422 that says why, anything but Latin letters, digits 0-9,
    spaces, hyphens and dots, a plate of separators only, and a long one.
    """
    plate = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).upper()).strip()
    plate = " ".join(plate.split())  # one space between groups, as on the plate
    for char in plate:
        if not (char in SEPARATORS or "0" <= char <= "9" or _is_plate_letter(char)):
            name = unicodedata.name(char, f"U+{ord(char):04X}").lower()
            raise ValidationFailed(
                f"'{label}' may hold Latin letters, digits 0-9, spaces, hyphens and dots; "
                f"{char!r} ({name}) is none of these. Type the plate with a Latin keyboard."
            )
    if not plate.strip(SEPARATORS):
        raise ValidationFailed(f"'{label}' must contain at least one letter or digit.")
    if len(plate) > MAX_LICENCE_PLATE:
        raise ValidationFailed(f"'{label}' must be at most {MAX_LICENCE_PLATE} characters.")
    return plate
