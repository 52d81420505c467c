"""Masking device secrets by value: every form a template can turn a secret into is masked."""

from __future__ import annotations

import base64

import pytest

from provisioning.secrets import SecretValues, placeholder

SECRET = "k0mun1tas-Rahasia"
FORMS = {
    "plain": SECRET,
    "reversed": SECRET[::-1],
    "dotted": ".".join(SECRET),
    "spaced and upper": " - ".join(SECRET.upper()),
    "reversed with newlines": "\n".join(SECRET[::-1]),
    "base64": base64.b64encode(SECRET.encode()).decode(),
    "base64 without padding": base64.b64encode(SECRET.encode()).decode().rstrip("="),
    "url-safe base64": base64.urlsafe_b64encode(SECRET.encode()).decode(),
    "base32": base64.b32encode(SECRET.encode()).decode(),
    "hex": SECRET.encode().hex(),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_form_of_a_secret_is_masked_with_its_placeholder(form: str) -> None:
    shown = SecretValues({"snmp_community": SECRET}).hide(f"/snmp community add name={form} addresses=10.0.0.0/8")
    assert form not in shown and placeholder("snmp_community") in shown


def test_a_secret_containing_another_is_masked_whole_and_short_values_are_left_alone() -> None:
    values = SecretValues({"radius_secret": "rahasia", "snmp_community": "rahasia-kota", "ssh_password": "abc"})
    assert values.hide("a rahasia-kota b rahasia c abc") == (
        "a <secret:snmp_community> b <secret:radius_secret> c abc")
