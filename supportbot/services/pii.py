"""Masking personal data before text reaches the generator, the logs or an export.

Masks e-mail addresses, phone numbers, payment card numbers (only digit runs that pass
the Luhn check, so order numbers and dates survive) and Spanish DNI / NIE numbers (only
when the control letter is right). Each kind can be switched off (`PII_MASK`).
"""

from __future__ import annotations

import re
from collections.abc import Collection

KINDS = ("email", "card", "dni", "phone")
PLACEHOLDER = {"email": "[email]", "card": "[card]", "dni": "[id]", "phone": "[phone]"}

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.UNICODE)
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_DNI = re.compile(r"\b(?:([XYZxyz])[- ]?)?(\d{7,8})[- ]?([A-Za-z])\b")
# International or national numbers: +34 612 345 678, (555) 123-4567, 612-34-56-78 ...
_PHONE = re.compile(r"(?<![\w+])(?<!\d[\s.-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?"
                    r"\d(?:[\s.-]?\d){6,13}(?!\w)(?![\s.-]\d)")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def dni_valid(prefix: str, number: str, letter: str) -> bool:
    """A DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter) with a right letter."""
    prefix = prefix.upper()
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter.upper()


def _mask_cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return PLACEHOLDER["card"] if luhn_valid(digits) else match.group()

    return _CARD.sub(replace, text)


def _mask_dni(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        prefix, number, letter = match.groups()
        return PLACEHOLDER["dni"] if dni_valid(prefix or "", number, letter) else match.group()

    return _DNI.sub(replace, text)


def _mask_phones(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return PLACEHOLDER["phone"] if 9 <= len(digits) <= 15 else match.group()

    return _PHONE.sub(replace, text)


def mask(text: str, kinds: Collection[str] = KINDS) -> str:
    """`text` with the personal data of the given kinds replaced by placeholders."""
    if "email" in kinds:
        text = _EMAIL.sub(PLACEHOLDER["email"], text)
    if "card" in kinds:
        text = _mask_cards(text)
    if "dni" in kinds:
        text = _mask_dni(text)
    if "phone" in kinds:
        text = _mask_phones(text)
    return text
