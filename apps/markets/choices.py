"""Choices for programs, events, bids, awards and activations."""

from django.db import models


class Product(models.TextChoices):
    """What a program buys. Peak shaving and up-regulation/reserve want less consumption ("down" flexibility);
    valley filling and down-regulation want more ("up")."""

    PEAK_SHAVING = "peak_shaving", "Peak shaving (demand response)"
    VALLEY_FILLING = "valley_filling", "Valley filling"
    REGULATION_UP = "regulation_up", "Regulation up"
    REGULATION_DOWN = "regulation_down", "Regulation down"
    SPINNING_RESERVE = "spinning_reserve", "Spinning / synchronized reserve"


#: Products that ask for *less* consumption than baseline (the grid needs more supply).
DOWN_PRODUCTS = frozenset({Product.PEAK_SHAVING, Product.REGULATION_UP, Product.SPINNING_RESERVE})
REGULATION_PRODUCTS = frozenset({Product.REGULATION_UP, Product.REGULATION_DOWN})


class PricingMode(models.TextChoices):
    FIXED = "fixed", "Fixed capacity and energy prices"
    PAY_AS_CLEAR = "pay_as_clear", "Auction, pay as clear"
    PAY_AS_BID = "pay_as_bid", "Auction, pay as bid"


class BaselineMethod(models.TextChoices):
    """How delivered flexibility is measured (``forecasting.customer_baselines``: settled by apps/settlement,
    estimated before gate closure by bidding)."""

    TEN_OF_TEN = "10_of_10", "Average of 10 prior eligible days, day-of adjusted (±20 %)"
    HIGH_X_OF_Y = "high_x_of_y", "High X of Y days"
    FORECAST = "forecast", "Forecast known at gate closure"


class EventStatus(models.TextChoices):
    """announced → gate_closed → awarded → active → completed | cancelled."""

    ANNOUNCED = "announced", "Announced"
    GATE_CLOSED = "gate_closed", "Gate closed"
    AWARDED = "awarded", "Awarded"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class BidStatus(models.TextChoices):
    """draft (staff may review or override) → submitted → accepted | partially_accepted | rejected; withdrawn."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    PARTIALLY_ACCEPTED = "partially_accepted", "Partially accepted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ActivationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
