"""办件编号: agency code, date of application, daily sequence — unique, readable and sortable."""
from datetime import date


def format_case_number(agency_code: str, day: date, sequence: int) -> str:
    return f"{agency_code}-{day:%Y%m%d}-{sequence:05d}"
