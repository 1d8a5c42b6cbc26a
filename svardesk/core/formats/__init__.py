"""Date and time formats by language and region (settings.FORMAT_MODULE_PATH).

Django picks formats by the active language code, so a user's language and the region
whose way of writing dates they prefer are activated together ("en-gb", "sv-us", see
accounts.regional), and each pair has a module here naming its region's style. Numbers
(decimal separator, grouping) still follow the language: those come from Django's modules.
Plain "en" (pages before sign-in, mail to a user without the preference) writes the UK way.
"""
