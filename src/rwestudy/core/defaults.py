"""The study-wide defaults that several layers need, each stated once.

- `DAYS_PER_MONTH`: months = days / 30.4375 (365.25 / 12), as R's and SAS's users mostly write it;
- `AE_WINDOW_DAYS`: an adverse event is treatment-emergent from the start of treatment to
  30 days after the last dose (the validation rule's allowance, the endpoints' and AE tables'
  window, and the plan's default ``[endpoints] ae_window_days``).
"""
__all__ = ["AE_WINDOW_DAYS", "DAYS_PER_MONTH"]

DAYS_PER_MONTH = 30.4375
AE_WINDOW_DAYS = 30
