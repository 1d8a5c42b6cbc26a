"""The three ways of writing dates and times a user can choose (accounts.models.DateStyle).
Month names and am/pm come from the active language's translations."""

_ISO_DATE_INPUTS = ["%Y-%m-%d"]
_ISO_DATETIME_INPUTS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M"]

# Sweden: 2026-12-06 06:03, "6 december 2026 06:03".
SWEDEN = {
    "DATE_FORMAT": "j F Y",
    "TIME_FORMAT": "H:i",
    "DATETIME_FORMAT": "j F Y H:i",
    "YEAR_MONTH_FORMAT": "F Y",
    "MONTH_DAY_FORMAT": "j F",
    "SHORT_DATE_FORMAT": "Y-m-d",
    "SHORT_DATETIME_FORMAT": "Y-m-d H:i",
    "FIRST_DAY_OF_WEEK": 1,
    "DATE_INPUT_FORMATS": _ISO_DATE_INPUTS,
    "DATETIME_INPUT_FORMATS": _ISO_DATETIME_INPUTS,
}

# UK: 06/12/2026 06:03, "6 Dec 2026, 06:03" (day first, 24-hour clock).
UK = {
    "DATE_FORMAT": "j M Y",
    "TIME_FORMAT": "H:i",
    "DATETIME_FORMAT": "j M Y, H:i",
    "YEAR_MONTH_FORMAT": "F Y",
    "MONTH_DAY_FORMAT": "j F",
    "SHORT_DATE_FORMAT": "d/m/Y",
    "SHORT_DATETIME_FORMAT": "d/m/Y H:i",
    "FIRST_DAY_OF_WEEK": 1,
    "DATE_INPUT_FORMATS": [*_ISO_DATE_INPUTS, "%d/%m/%Y"],
    "DATETIME_INPUT_FORMATS": [*_ISO_DATETIME_INPUTS, "%d/%m/%Y %H:%M"],
}

# US: 12/06/2026 6:03 AM, "Dec 6, 2026, 6:03 AM" (month first, 12-hour clock).
US = {
    "DATE_FORMAT": "M j, Y",
    "TIME_FORMAT": "g:i A",
    "DATETIME_FORMAT": "M j, Y, g:i A",
    "YEAR_MONTH_FORMAT": "F Y",
    "MONTH_DAY_FORMAT": "F j",
    "SHORT_DATE_FORMAT": "m/d/Y",
    "SHORT_DATETIME_FORMAT": "m/d/Y g:i A",
    "FIRST_DAY_OF_WEEK": 0,
    "DATE_INPUT_FORMATS": [*_ISO_DATE_INPUTS, "%m/%d/%Y"],
    "DATETIME_INPUT_FORMATS": [*_ISO_DATETIME_INPUTS, "%m/%d/%Y %H:%M"],
}

# Swedish writes "f.m."/"e.m." (Django's Swedish "AM" reads "EM", afternoon): the US style
# in Swedish uses the lower-case marker, which Django translates right.
US_SWEDISH = {
    **US,
    "TIME_FORMAT": "g:i a",
    "DATETIME_FORMAT": "M j, Y, g:i a",
    "SHORT_DATETIME_FORMAT": "m/d/Y g:i a",
}
