import pytest

from supportbot.services import pii


@pytest.mark.parametrize(("text", "expected"), [
    ("Write to ana.garcia+soporte@empresa.es please",
     "Write to [email] please"),
    ("Mi tarjeta es 4111 1111 1111 1111 y caduca", "Mi tarjeta es [card] y caduca"),
    ("card 5500-0000-0000-0004 declined", "card [card] declined"),
    ("Llámame al +34 612 345 678 o al 91 123 45 67", "Llámame al [phone] o al [phone]"),
    ("call (555) 123-4567 after 5", "call [phone] after 5"),
    ("Mi DNI es 12345678Z", "Mi DNI es [id]"),
    ("NIE X1234567L en el formulario", "NIE [id] en el formulario"),
])
def test_personal_data_is_masked(text, expected):
    assert pii.mask(text) == expected


@pytest.mark.parametrize("text", [
    "Order 4111 1111 1111 1112 did not arrive",  # fails Luhn: an order number
    "DNI 12345678A",  # wrong control letter
    "Error 0x80070005 at 10:45 on 2026-11-25",
    "Ticket SB-7K3QD2, version 2.13.0, port 5432",
    "My laptop has 16 GB and 512 GB SSD",
])
def test_things_that_only_look_personal_are_kept(text):
    assert pii.mask(text) == text


def test_kinds_can_be_switched_off():
    text = "ana@example.com, 12345678Z"
    assert pii.mask(text, kinds=("dni",)) == "ana@example.com, [id]"
    assert pii.mask(text, kinds=()) == text


def test_check_digits():
    assert pii.luhn_valid("4111111111111111") and not pii.luhn_valid("4111111111111112")
    assert pii.dni_valid("", "12345678", "Z") and pii.dni_valid("X", "1234567", "L")
    assert not pii.dni_valid("", "1234567", "Z")
