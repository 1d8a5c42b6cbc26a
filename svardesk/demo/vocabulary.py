"""Words the demo generator builds people, companies and tickets from.

Plain data, no logic: Swedish and English names (with the diacritics real data has), company
names, phone formats and support-ticket templates in both languages. Templates use
`str.format` fields; every field must have a generator in `generator._SLOT_VALUES`.
"""

from typing import NamedTuple

TEAM_NAMES: tuple[str, ...] = (
    "Support",
    "Billing",
    "Technical",
    "Onboarding",
    "Enterprise",
    "Partners",
    "Returns",
    "Nordics",
    "Logistics",
    "Escalations",
    "Integrations",
    "Retail",
)

SWEDISH_FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Åsa", "Jörgen", "Märta", "Björn", "Göran", "Sofia", "Lars", "Karin", "Erik",
    "Ingrid", "Mikael", "Linnéa", "Maja", "Oskar", "Elin", "Johan", "Sara", "Henrik", "Ebba",
    "Astrid", "Pär", "Gunnar", "Agneta", "Ulf", "Håkan", "Malin", "Åke", "Kerstin", "Örjan",
    "Birgitta", "Stig", "Frida", "Klara", "Viktor", "Alva", "Nils", "Ida", "Tove", "Sören",
    "Emil", "Wilma", "Hugo", "Saga", "Axel", "Elsa", "Ludvig", "Signe", "Gösta", "Britt-Marie",
)  # fmt: skip

ENGLISH_FIRST_NAMES: tuple[str, ...] = (
    "James", "Emma", "Oliver", "Charlotte", "Harry", "Amelia", "Thomas", "Sophie", "Daniel",
    "Grace", "Michael", "Hannah", "David", "Lucy", "Chris", "Rachel", "Sam", "Olivia", "Jack",
    "Megan", "Zoë", "Noah", "Chloé", "Liam", "Isla",
)  # fmt: skip

SWEDISH_LAST_NAMES: tuple[str, ...] = (
    "Lindqvist", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
    "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jönsson", "Lindström",
    "Bergström", "Åberg", "Sjöberg", "Ekström", "Lindgren", "Holmqvist", "Wallin", "Sandberg",
    "Forsberg", "Björk", "Nyström", "Hedlund", "Öberg", "Söderberg", "Ström", "Lundgren",
    "Dahlström", "Engström", "Blom", "Wikström", "Åström", "Håkansson", "Löfgren", "Sjögren",
)  # fmt: skip

ENGLISH_LAST_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Clarke", "Jackson", "O'Brien", "Murphy", "McAllister", "Fitzgerald",
)  # fmt: skip

SWEDISH_PLACES: tuple[str, ...] = (
    "Nordvik", "Fjällbacka", "Sundsvalls", "Göta", "Kvarnström", "Älvdalens", "Skärgårdens",
    "Bergslagens", "Hälsinge", "Mälardalens", "Lidingö", "Ekbackens", "Björkvik", "Sjöstads",
    "Österlens", "Vänerns", "Jämtlands", "Norrlands", "Söderhamns", "Västkustens", "Gävle",
    "Örebro", "Umeå", "Växjö", "Luleå", "Trollhättans", "Ystads", "Visby",
)  # fmt: skip

SWEDISH_TRADES: tuple[str, ...] = (
    "Logistik", "Bygg", "Design", "Tandvård", "Redovisning", "Fastigheter", "Elektriska",
    "Transport", "Trädgård", "Café", "Konsult", "Data", "Media", "Måleri", "VVS", "Bageri",
    "Bilverkstad", "Hudvård", "Möbler", "Städservice",
)  # fmt: skip

SWEDISH_LEGAL_FORMS: tuple[str, ...] = ("AB", "AB", "AB", "HB", "& Söner", "Ekonomisk förening")

ENGLISH_WORDS: tuple[str, ...] = (
    "Brightline", "Harbour", "Northwind", "Bluebird", "Copperleaf", "Granite Peak",
    "Silverbirch", "Oakridge", "Riverside", "Stonebridge", "Maplewood", "Kingfisher",
    "Lighthouse", "Redwood", "Blackthorn", "Evergreen", "Summit", "Foxglove", "Ironbark",
)  # fmt: skip

ENGLISH_TRADES: tuple[str, ...] = (
    "Analytics", "Consulting", "Studio", "Outdoor", "Logistics", "Software", "Foods", "Health",
    "Media", "Engineering", "Supplies", "Dental", "Ventures", "Labs", "Interiors",
)  # fmt: skip

ENGLISH_LEGAL_FORMS: tuple[str, ...] = ("Ltd", "Ltd", "Inc.", "LLC", "GmbH", "Oy", "AS", "")

PERSONAL_EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "hotmail.se", "outlook.com", "yahoo.se", "icloud.com", "telia.com",
    "live.se", "protonmail.com",
)  # fmt: skip

# Phone formats: "#" becomes a digit. Swedish mobiles and landlines as people really type
# them, with the odd UK and US number.
MOBILE_FORMATS: tuple[str, ...] = (
    "+46 70-### ## ##",
    "070-#######",
    "070 ### ## ##",
    "+4673#######",
    "072-### ## ##",
    "076 ### ## ##",
    "+46 (0)73 ### ## ##",
    "+44 7700 ######",
)
LANDLINE_FORMATS: tuple[str, ...] = (
    "08-### ### ##",
    "031-## ## ##",
    "040-### ## ##",
    "+46 8 ### ### ##",
    "018-## ## ##",
    "+44 20 #### ####",
    "(555) ###-####",
)

SPAM_SUBJECTS: tuple[str, ...] = (
    "Boost your SEO ranking today!!!",
    "You have won a $500 gift card",
    "Business proposal - urgent reply needed",
    "Cheap designer sunglasses 80% off",
    "Grattis! Du har vunnit en iPhone 15",
    "Increase your sales with our B2B email list",
    "Your account will be suspended - verify now",
    "Guest post opportunity on your blog",
)
SPAM_BODIES: tuple[str, ...] = (
    "Dear Sir/Madam, we can put your website on the first page of Google within 7 days. "
    "Reply YES for a free audit.",
    "Congratulations! Click the link below to claim your reward before it expires.",
    "Hej! Du är utvald att vinna. Klicka här och fyll i dina kortuppgifter för att få priset.",
    "We have 2.3 million verified decision-maker contacts. Special price this week only.",
)


class TicketTemplate(NamedTuple):
    """One kind of support request. `team` names the team that usually handles it."""

    category: str
    team: str
    language: str
    subject: str
    body: str


T = TicketTemplate

TICKET_TEMPLATES: tuple[TicketTemplate, ...] = (
    # --- English: product issues ---------------------------------------------------------
    T("PRODUCT_ISSUE", "Technical", "en", "Can't log in after password reset",
      "I reset my password this morning but the login page keeps saying my credentials are "
      "wrong. I've tried {browser} and cleared the cache. Could you check my account?"),
    T("PRODUCT_ISSUE", "Technical", "en", "Error {error} when exporting reports",
      "Every time I export the monthly report I get \"{error}\". It worked fine last week and "
      "nothing changed on our side as far as I know."),
    T("PRODUCT_ISSUE", "Technical", "en", "{integration} sync stopped working",
      "Since {weekday} nothing has synced from {integration}. The connection page says "
      "\"connected\" but no new records show up. We have about {n} records waiting."),
    T("PRODUCT_ISSUE", "Technical", "en", "App crashes on {device} when opening attachments",
      "The app closes immediately when I tap a PDF attachment on my {device}. I'm on the "
      "latest version. Other attachment types seem fine."),
    T("PRODUCT_ISSUE", "Support", "en", "Emails from our shared inbox are not arriving",
      "Customers tell us they emailed us but nothing shows up in the shared inbox. The last "
      "message we received was on {weekday}. Is there an outage?"),
    T("PRODUCT_ISSUE", "Technical", "en", "Page loads very slowly since yesterday",
      "The ticket list takes 20-30 seconds to load for everyone in our office. We're on "
      "{browser}. Our internet connection is otherwise fine."),
    T("PRODUCT_ISSUE", "Support", "en", "Two-factor code never arrives by SMS",
      "I'm trying to sign in but the verification code never arrives. My number is the same "
      "as before. Can you switch me to the authenticator app instead?"),
    T("PRODUCT_ISSUE", "Technical", "en", "CSV import fails at row {n}",
      "Importing our customer list stops at row {n} with an unhelpful error. I've attached "
      "the file. The column headers match the template."),
    T("PRODUCT_ISSUE", "Integrations", "en", "Webhook to {integration} returns {error}",
      "Our webhook endpoint for {integration} started failing with {error}. We didn't change "
      "anything. Can you see what you're sending?"),
    T("PRODUCT_ISSUE", "Technical", "en", "Dashboard shows wrong totals for {month}",
      "The dashboard says we closed {n} tickets in {month} but our own export says a lot "
      "more. Which number is right?"),
    # --- English: billing ------------------------------------------------------------------
    T("BILLING_ISSUE", "Billing", "en", "Invoice #{invoice} charged twice",
      "Our card was charged twice for invoice #{invoice} ({amount}). Please refund the "
      "duplicate payment."),
    T("BILLING_ISSUE", "Billing", "en", "Refund for order {order}",
      "I returned order {order} two weeks ago and still haven't seen the refund of {amount}. "
      "When can I expect it?"),
    T("BILLING_ISSUE", "Billing", "en", "Please update our VAT number",
      "Our company has a new VAT number. Could you update it on our account and reissue "
      "invoice #{invoice}?"),
    T("BILLING_ISSUE", "Billing", "en", "Why did my subscription price go up?",
      "This month's invoice is {amount}, higher than usual. We haven't added any users. "
      "Could you explain the change?"),
    T("BILLING_ISSUE", "Billing", "en", "Card declined when upgrading to {plan}",
      "I'm trying to upgrade to the {plan} plan but my card is declined. The bank says there "
      "is no problem on their side."),
    T("BILLING_ISSUE", "Billing", "en", "Need a copy of invoice #{invoice}",
      "Our accountant needs a PDF copy of invoice #{invoice}. I can't find it in the billing "
      "section."),
    T("BILLING_ISSUE", "Billing", "en", "Cancel subscription at end of period",
      "Please cancel our subscription at the end of the current period. Thanks for "
      "everything so far."),
    # --- English: feature requests ---------------------------------------------------------
    T("FEATURE_REQUEST", "Support", "en", "Feature request: dark mode",
      "Half of our team works late shifts. A dark mode would make a real difference."),
    T("FEATURE_REQUEST", "Integrations", "en", "Could you add a {integration} integration?",
      "We use {integration} for everything else. An integration would save us copying data "
      "by hand every day."),
    T("FEATURE_REQUEST", "Support", "en", "Bulk edit for tickets",
      "We often need to reassign {n} tickets at once when someone is on holiday. Is bulk "
      "editing on the roadmap?"),
    T("FEATURE_REQUEST", "Enterprise", "en", "More than {n} users on the {plan} plan",
      "We are growing and need more than {n} users, but don't need everything in the next "
      "plan up. Any options?"),
    T("FEATURE_REQUEST", "Support", "en", "Export conversations to PDF",
      "For compliance we need to archive some conversations as PDF. Is that possible today?"),
    # --- English: general ------------------------------------------------------------------
    T("GENERAL_INQUIRY", "Onboarding", "en", "How do I add a new team member?",
      "We just hired someone and I can't find where to invite them. Do they need a seat?"),
    T("GENERAL_INQUIRY", "Support", "en", "Question about the {plan} plan",
      "Does the {plan} plan include phone support and SLAs? We're comparing options."),
    T("GENERAL_INQUIRY", "Onboarding", "en", "Onboarding call next week?",
      "Could we book an onboarding session next {weekday}? There will be {n} of us."),
    T("GENERAL_INQUIRY", "Technical", "en", "Where can I find the API documentation?",
      "Our developer wants to connect our shop to your API. Where are the docs and rate "
      "limits described?"),
    T("GENERAL_INQUIRY", "Enterprise", "en", "SSO setup with {idp}",
      "We'd like to enable single sign-on with {idp} for our {n} users. What do you need "
      "from us?"),
    T("GENERAL_INQUIRY", "Enterprise", "en", "Security questionnaire for procurement",
      "Our procurement team needs the attached security questionnaire filled in before we "
      "can sign. Deadline is {weekday}."),
    T("GENERAL_INQUIRY", "Partners", "en", "Reseller discount for {n} licences",
      "We resell to small businesses and expect about {n} licences this year. What partner "
      "terms do you offer?"),
    T("GENERAL_INQUIRY", "Returns", "en", "Return of order {order}",
      "I'd like to return order {order}; it's not what we expected. How do I get a return "
      "label?"),
    T("PRODUCT_ISSUE", "Returns", "en", "Damaged item in order {order}",
      "The package for order {order} arrived with a broken corner and the item is cracked. "
      "Photos attached."),
    T("GENERAL_INQUIRY", "Logistics", "en", "Where is my delivery? Order {order}",
      "Tracking for order {order} hasn't updated since {weekday}. Can you check with the "
      "carrier?"),
    # --- Swedish ---------------------------------------------------------------------------
    T("PRODUCT_ISSUE", "Technical", "sv", "Kan inte logga in efter lösenordsbyte",
      "Jag bytte lösenord i morse men inloggningen säger att uppgifterna är fel. Jag har "
      "testat både {browser} och mobilen. Kan ni kolla mitt konto?"),
    T("PRODUCT_ISSUE", "Technical", "sv", "Felmeddelande {error} vid export",
      "När jag exporterar rapporten för {month_sv} får jag felet \"{error}\". Det fungerade "
      "förra veckan."),
    T("PRODUCT_ISSUE", "Integrations", "sv", "Synkningen med {integration} har slutat fungera",
      "Sedan i {weekday_sv}s har inget synkats från {integration}. Ungefär {n} poster "
      "väntar. Vad kan vi göra?"),
    T("PRODUCT_ISSUE", "Technical", "sv", "Appen kraschar på {device}",
      "Appen stängs direkt när jag öppnar en bilaga på min {device}. Jag har senaste "
      "versionen installerad."),
    T("PRODUCT_ISSUE", "Support", "sv", "Vi får inga mejl från kontaktformuläret",
      "Kunder säger att de har skickat formuläret på hemsidan men inget dyker upp hos oss. "
      "Senaste ärendet kom i {weekday_sv}s."),
    T("BILLING_ISSUE", "Billing", "sv", "Faktura {invoice} dubbeldebiterad",
      "Vi har blivit debiterade två gånger för faktura {invoice} ({amount}). Kan ni betala "
      "tillbaka den ena dragningen?"),
    T("BILLING_ISSUE", "Billing", "sv", "Återbetalning för order {order}",
      "Jag skickade tillbaka order {order} för två veckor sedan men har inte fått pengarna "
      "({amount}) tillbaka än."),
    T("BILLING_ISSUE", "Billing", "sv", "Byta betalkort för abonnemanget",
      "Vårt gamla kort har gått ut. Hur byter jag betalkort utan att abonnemanget avbryts?"),
    T("BILLING_ISSUE", "Billing", "sv", "Ändra fakturaadress",
      "Vi har flyttat kontoret. Kan ni uppdatera fakturaadressen och skicka om faktura "
      "{invoice}?"),
    T("BILLING_ISSUE", "Billing", "sv", "Uppsägning av abonnemang",
      "Vi vill säga upp vårt abonnemang från och med nästa period. Tack för den här tiden!"),
    T("FEATURE_REQUEST", "Support", "sv", "Önskemål: mörkt läge",
      "Flera av oss jobbar kvällar och skulle uppskatta ett mörkt läge i gränssnittet."),
    T("FEATURE_REQUEST", "Integrations", "sv", "Integration med {integration}?",
      "Vi använder {integration} för bokföringen. Finns det planer på en integration?"),
    T("GENERAL_INQUIRY", "Onboarding", "sv", "Hur lägger jag till en ny användare?",
      "Vi har anställt en ny kollega och jag hittar inte var man bjuder in användare."),
    T("GENERAL_INQUIRY", "Nordics", "sv", "Fråga om {plan}-planen",
      "Ingår telefonsupport i {plan}-planen? Vi är {n} personer som skulle använda det."),
    T("GENERAL_INQUIRY", "Enterprise", "sv", "Fråga om personuppgiftsbiträdesavtal",
      "Vår jurist behöver ert personuppgiftsbiträdesavtal (PUB-avtal) innan vi kan skriva "
      "på. Kan ni skicka det?"),
    T("GENERAL_INQUIRY", "Onboarding", "sv", "Utbildning för nya medarbetare",
      "Kan vi boka en utbildning på {weekday_sv} för {n} nya medarbetare?"),
    T("GENERAL_INQUIRY", "Returns", "sv", "Retur av order {order}",
      "Jag vill returnera order {order}. Hur får jag en returetikett?"),
    T("PRODUCT_ISSUE", "Returns", "sv", "Skadad vara i leveransen",
      "Paketet med order {order} kom fram skadat och varan är trasig. Bilder bifogade."),
    T("GENERAL_INQUIRY", "Logistics", "sv", "Leveransen har inte kommit fram",
      "Spårningen för order {order} har inte uppdaterats sedan i {weekday_sv}s. Kan ni "
      "kontakta transportören?"),
)  # fmt: skip

GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("Hi,", "Hello,", "Hi there,", "Good morning,", "Dear support team,", ""),
    "sv": ("Hej,", "Hej!", "Hej support,", "Hejsan,", "God morgon,", ""),
}
EXTRA_SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "This is quite urgent for us.",
        "Thanks in advance for your help.",
        "Let me know if you need more details.",
        "We're a bit stuck until this is sorted.",
        "I called earlier but couldn't get through.",
        "",
        "",
    ),
    "sv": (
        "Det är ganska bråttom för oss.",
        "Tack på förhand för hjälpen.",
        "Hör av er om ni behöver mer information.",
        "Vi står lite still tills det här är löst.",
        "Jag ringde tidigare men kom inte fram.",
        "",
        "",
    ),
}
SIGN_OFFS: dict[str, tuple[str, ...]] = {
    "en": ("Best regards,", "Thanks,", "Cheers,", "Kind regards,"),
    "sv": ("Mvh", "Med vänliga hälsningar,", "Tack!", "Hälsningar,"),
}
REPLY_PREFIXES: dict[str, str] = {"en": "Re: ", "sv": "SV: "}

BROWSERS: tuple[str, ...] = ("Chrome", "Firefox", "Safari", "Edge")
DEVICES: tuple[str, ...] = ("iPhone 15", "Samsung Galaxy S23", "iPad", "Pixel 8", "iPhone SE")
INTEGRATIONS: tuple[str, ...] = (
    "Slack", "Fortnox", "Visma", "Shopify", "Salesforce", "Microsoft Teams", "Google Calendar",
    "Zapier", "HubSpot",
)  # fmt: skip
ERRORS: tuple[str, ...] = (
    "E1042", "500 Internal Server Error", "ERR_TIMEOUT", "403 Forbidden", "SYNC-17",
    "Unexpected token < in JSON", "0x80070005",
)  # fmt: skip
PLANS: tuple[str, ...] = ("Starter", "Team", "Business", "Enterprise")
IDENTITY_PROVIDERS: tuple[str, ...] = ("Okta", "Azure AD", "Google Workspace", "OneLogin")
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
WEEKDAYS_SV: tuple[str, ...] = ("måndag", "tisdag", "onsdag", "torsdag", "fredag")
MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
MONTHS_SV: tuple[str, ...] = (
    "januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
    "oktober", "november", "december",
)  # fmt: skip
