"""The propensity product's vocabulary: sectors, market-cap categories and risk tolerances, with the
spellings clients send for them."""

from __future__ import annotations

SECTORS = ("technology", "healthcare", "financials", "consumer_discretionary", "consumer_staples",
           "industrials", "energy", "utilities", "materials", "real_estate", "communication_services")
CAP_CATEGORIES = ("small", "mid", "large")
RISK_TOLERANCES = ("low", "medium", "high")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Other names of the same sector (GICS names, common abbreviations), as clients and data vendors write them.
SECTOR_ALIASES = {
    "tech": "technology", "it": "technology", "information_technology": "technology", "software": "technology",
    "health": "healthcare", "health_care": "healthcare", "pharma": "healthcare", "pharmaceuticals": "healthcare",
    "finance": "financials", "financial": "financials", "financial_services": "financials", "banking": "financials",
    "banks": "financials", "consumer_cyclical": "consumer_discretionary", "retail": "consumer_discretionary",
    "consumer_defensive": "consumer_staples", "staples": "consumer_staples", "industrial": "industrials",
    "oil_and_gas": "energy", "oil_&_gas": "energy", "utility": "utilities", "basic_materials": "materials",
    "realty": "real_estate", "reit": "real_estate", "communication": "communication_services",
    "communications": "communication_services", "telecom": "communication_services",
    "telecommunications": "communication_services", "media": "communication_services",
}
RISK_ALIASES = {"conservative": "low", "moderate": "medium", "aggressive": "high", "med": "medium"}


def canonical(text: str) -> str:
    """Lower case, words joined by underscores: 'Health Care' and 'health-care' are 'health_care'."""
    return "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())


def sector_name(value: object) -> object:
    if not isinstance(value, str):
        return value
    name = canonical(value)
    return SECTOR_ALIASES.get(name, name)


def cap_name(value: object) -> object:
    """'Large Cap', 'large-cap', 'LARGE' -> 'large'."""
    if not isinstance(value, str):
        return value
    name = canonical(value)
    return name[:-4] if name.endswith("_cap") else name


def risk_name(value: object) -> object:
    if not isinstance(value, str):
        return value
    name = canonical(value)
    return RISK_ALIASES.get(name, name)


def weekday_number(value: object) -> object:
    """0 (Monday) to 6, from a number or a day's name or its first three letters."""
    if isinstance(value, str):
        name = canonical(value)
        for number, day in enumerate(WEEKDAYS):
            if name in (day, day[:3]):
                return number
    return value
