"""The pricing pages' forms: a price typed in dollars ("25", "25.50", "$1,200") becomes integer
cents here; the services still check the range and the verification type."""

from __future__ import annotations

import re

from django import forms

from credex.errors import InvalidInput
from exchange.services.pricing import SETTINGS_RANGES

_DOLLARS = re.compile(r"^\$?\s*(\d{1,7}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?$")
PRICE_HELP = "Enter a price in dollars, like 25 or 25.50."


def dollars_to_cents(text: str) -> int:
    """'25' -> 2500, '$1,200.5' -> 120050; InvalidInput when it is not an amount."""
    match = _DOLLARS.match((text or "").strip())
    if not match:
        raise InvalidInput(PRICE_HELP, details={"price": PRICE_HELP})
    whole = int(match.group(1).replace(",", ""))
    cents = int((match.group(2) or "0").ljust(2, "0"))
    return whole * 100 + cents


class PriceForm(forms.Form):
    """A vote or a default price: the type and a price in dollars."""

    source = forms.CharField(max_length=30)
    price = forms.CharField(max_length=20, strip=True)

    def checked(self) -> dict:
        if not self.is_valid():
            name = next(iter(self.errors))
            raise InvalidInput(PRICE_HELP, details={name: "invalid"})
        return {
            "source": self.cleaned_data["source"],
            "price_cents": dollars_to_cents(self.cleaned_data["price"]),
        }


class SettingsForm(forms.Form):
    """The operator's exchange settings, each a whole number in its range."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        for name, (low, high) in SETTINGS_RANGES.items():
            self.fields[name] = forms.IntegerField(min_value=low, max_value=high)

    def checked(self) -> dict:
        if not self.is_valid():
            details = {name: str(errors[0]) for name, errors in self.errors.items()}
            raise InvalidInput("Nothing was saved: a setting is not valid.", details=details)
        return dict(self.cleaned_data)
