"""The demand product's vocabulary: products, channels, the cities it knows and the festival calendar.

The calendar is shared by the generator, the features and the routes: demand for loans and cards
peaks in the weeks before Diwali (Navratri, Dussehra, Dhanteras), insurance in the last quarter of
India's financial year (January to March, tax-saving season), and a smaller bump comes with Akshaya
Tritiya in spring. Dates are the festivals' own for the years the platform meets; a year outside the
table falls back to the mean date.
"""

from __future__ import annotations

from datetime import date, timedelta

PRODUCTS = ("loan", "credit_card", "insurance")
CHANNELS = ("online", "offline")
# One demand series per (product, channel), in this order wherever series sit side by side.
SERIES = tuple((product, channel) for product in PRODUCTS for channel in CHANNELS)

# City, state, its pincodes' first three digits (the sorting district), its tier (1 metro .. 3),
# and the mean monthly income (INR) of its customers.
CITIES: tuple[tuple[str, str, str, int, int], ...] = (
    ("Mumbai", "Maharashtra", "400", 1, 82_000), ("Delhi", "Delhi", "110", 1, 78_000),
    ("Bengaluru", "Karnataka", "560", 1, 85_000), ("Chennai", "Tamil Nadu", "600", 1, 70_000),
    ("Kolkata", "West Bengal", "700", 1, 60_000), ("Hyderabad", "Telangana", "500", 1, 72_000),
    ("Pune", "Maharashtra", "411", 1, 74_000), ("Ahmedabad", "Gujarat", "380", 2, 58_000),
    ("Jaipur", "Rajasthan", "302", 2, 46_000), ("Lucknow", "Uttar Pradesh", "226", 2, 42_000),
    ("Kanpur", "Uttar Pradesh", "208", 3, 34_000), ("Nagpur", "Maharashtra", "440", 2, 44_000),
    ("Indore", "Madhya Pradesh", "452", 2, 45_000), ("Bhopal", "Madhya Pradesh", "462", 2, 40_000),
    ("Patna", "Bihar", "800", 3, 30_000), ("Surat", "Gujarat", "395", 2, 52_000),
    ("Vadodara", "Gujarat", "390", 2, 48_000), ("Coimbatore", "Tamil Nadu", "641", 2, 47_000),
    ("Kochi", "Kerala", "682", 2, 55_000), ("Chandigarh", "Chandigarh", "160", 2, 62_000),
    ("Guwahati", "Assam", "781", 3, 36_000), ("Bhubaneswar", "Odisha", "751", 3, 38_000),
    ("Visakhapatnam", "Andhra Pradesh", "530", 2, 41_000), ("Ludhiana", "Punjab", "141", 2, 50_000),
    ("Nashik", "Maharashtra", "422", 3, 37_000), ("Varanasi", "Uttar Pradesh", "221", 3, 31_000),
    ("Madurai", "Tamil Nadu", "625", 3, 35_000), ("Raipur", "Chhattisgarh", "492", 3, 33_000),
    ("Ranchi", "Jharkhand", "834", 3, 32_000), ("Thiruvananthapuram", "Kerala", "695", 3, 43_000),
)

DIWALI = {2022: date(2022, 10, 24), 2023: date(2023, 11, 12), 2024: date(2024, 11, 1), 2025: date(2025, 10, 21),
          2026: date(2026, 11, 8), 2027: date(2027, 10, 29), 2028: date(2028, 10, 17), 2029: date(2029, 11, 5),
          2030: date(2030, 10, 26)}
AKSHAYA_TRITIYA = {2022: date(2022, 5, 3), 2023: date(2023, 4, 22), 2024: date(2024, 5, 10),
                   2025: date(2025, 4, 30), 2026: date(2026, 4, 20), 2027: date(2027, 5, 9),
                   2028: date(2028, 4, 28), 2029: date(2029, 4, 16), 2030: date(2030, 5, 6)}
# The festival season: the four weeks before Diwali and the week after it.
FESTIVAL_WEEKS_BEFORE = 4


def product_name(value: object) -> object:
    """'Credit Card', 'credit-card', 'CC' -> 'credit_card'; other spellings of the three products."""
    if not isinstance(value, str):
        return value
    name = "_".join(value.strip().lower().replace("-", " ").split())
    return {"cc": "credit_card", "card": "credit_card", "creditcard": "credit_card", "credit_cards": "credit_card",
            "loans": "loan", "personal_loan": "loan"}.get(name, name)


def channel_name(value: object) -> object:
    if not isinstance(value, str):
        return value
    name = value.strip().lower()
    return {"digital": "online", "web": "online", "app": "online", "branch": "offline", "agent": "offline"}.get(name, name)


def week_start(day: date) -> date:
    """The Monday of DAY's week: a period is a Monday-to-Sunday week."""
    return day - timedelta(days=day.weekday())


def _near(day: date, table: dict[int, date], month: int, mean_day: int) -> date:
    return table.get(day.year) or date(day.year, month, mean_day)


def festival_intensity(week: date) -> float:
    """How strongly the week starting WEEK falls in the Diwali festival season, 0..1: 1 in the week of
    Diwali and the one before it, ramping up over the four weeks before, 0.5 in the week after."""
    best = 0.0
    for year in (week.year - 1, week.year, week.year + 1):
        diwali = week_start(_near(date(year, 6, 1), DIWALI, 11, 1))
        weeks = (diwali - week).days // 7
        if 0 <= weeks <= 1:
            best = max(best, 1.0)
        elif 1 < weeks <= FESTIVAL_WEEKS_BEFORE:
            best = max(best, 1.0 - (weeks - 1) / FESTIVAL_WEEKS_BEFORE)
        elif weeks == -1:
            best = max(best, 0.5)
    return best


def spring_festival(week: date) -> float:
    """1 in the week of Akshaya Tritiya (gold, vehicle and home purchases), 0 otherwise."""
    return 1.0 if week_start(_near(week, AKSHAYA_TRITIYA, 4, 28)) == week else 0.0


def tax_season(week: date) -> float:
    """1 in January to March, the last quarter of India's financial year (tax-saving insurance)."""
    return 1.0 if week.month <= 3 else 0.0
