"""Phone numbers: international ones in any country's format, national ones in the format
of the country the text most likely speaks of.

Only runs of seven or more digits with phone punctuation are read (the `phonenumbers`
matcher is slow). Dates, times, versions, IP addresses, amounts and card numbers are
blanked first; a run labelled "order", "invoice no.", "#"... right before it is an
identifier (identifiers.py), and one followed by a unit ("bytes", "times") a quantity.
Runs longer than 80 characters are read in the pieces "/" or wide gaps split them into
(a phone number is far shorter; the matcher's cost grows with the run).

- `+` and eight or more digits: a phone number, even outside the numbering plan (a leaked
  test number is harmless, a missed real one is not).
- A national number is parsed for each likely region, in order, until one validates it:
  first regions the context names (a country or city, an e-mail's country domain, the
  language of a word like "Telefon" or "portable"), then regions the format suggests
  ("06 12 34 56 78" is French, "(555) 123-4567" North American), then the rest. Regions
  whose numbers start with a trunk 0 are tried only on numbers that do.
- A valid national number of nine or more digits counts when grouped like a phone number
  (or, ungrouped, when it is a mobile number written with its trunk 0); seven or more
  digits count after a phone word ("tel", "call", "Handy"...). Ten or more grouped digits
  still count when no region validates them (test ranges such as 555).
"""

from __future__ import annotations

import bisect
import re
from functools import cache

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher, PhoneNumberType

from .cards import card_numbers
from .identifiers import glued_key, labelled_identifier
from .spans import Span

INTERNATIONAL = 0.8
GROUPED = 0.75
CUED = 0.7

REGIONS = ("US", "GB", "DE", "IN", "FR", "NL", "IT", "ES", "CA", "IE", "AT", "CH", "BE",
           "LU", "PT", "BR", "DK", "NO", "SE", "FI", "PL", "AU")

# Seven or more digits with phone punctuation between them: only such stretches can hold a
# phone number, so the (slow) matcher reads only those.
# A dot joins groups only when a digit follows it: ". " ends a sentence.
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:(?:[\d \t()\-/]|\.(?=\d))*\d){6,}\)?")

# Values that are never phone numbers, blanked before runs are looked for. Each stops
# where a phone number's next group would start, so "06.12.34.56.78" is not a date.
_END = r"(?![\d]|[-./:]\d)"
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
# The leading lookahead lets the scan skip, in C, every position that cannot start one.
_NOT_PHONES = re.compile(
    r"(?=[\d$€£¥₹vVbBrR])(?:(?<![\d.\-/])(?:"
    rf"\d{{4}}([-./])\d{{1,2}}\1\d{{1,2}}{_TIME}{_END}"          # 2024-01-05 13:33:26
    rf"|\d{{1,2}}([-./])\d{{1,2}}\2(?:\d{{4}}|\d{{2}}){_TIME}{_END}"  # 05.01.2024, 1/5/24
    rf"|(?:19|20)\d{{2}} ?[-\u2013] ?(?:19|20)\d{{2}}{_END}"      # 2019-2024
    r"|(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
    rf"(?::\d+)?{_END}"                                              # 192.168.0.1
    r"|(?<!\+)(?<!\+\d\d )(?<!\+\d )(?<!\+\d\d\d )"                # not after +48
    r"\d{1,3}(?:[., ]\d{3})+[.,]\d{2}(?!\d|-\d)"                      # 1.234.567,00
    r")"
    r"|[$€£¥₹]\s?\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?"              # $ 1 234 567
    r"|(?<![\d.,])\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?\s?"           # 12 345 kr
    r"(?:€|EUR|USD|GBP|CHF|SEK|NOK|DKK|PLN|INR|AUD|CAD|BRL|kr\b|zł)"
    r"|(?i:\bv(?:er(?:sion)?)?\.?\s?|\bbuild\s|\brelease\s)\d+(?:\.\d+)+"  # v10.0.19041
    r"|(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?![\d:]))")            # 13:33:26

# Underscores end a word here: `phone_number: 98112848`, `"mobile_no": "..."`.
_CUE = re.compile(
    r"(?i)(?<![^\W_])(?:phone|tel|tele?fon\w*|t[eé]l[eé]phone|mobile?|mob|cell(?:ular|phone)?|"
    r"call(?:ed|ing)?|contact|whats ?app|fax|reach|text|sms|ring|dial|hotline|helpline|"
    r"landline|handy|rufnummer|anrufen|tlf|puh(?:elin)?|soita|portable|appel(?:ez|er)?|"
    r"mobiel|bel|bellen|m[oó]vil|ll[aá]m(?:a|e|eme)|chiama(?:mi)?|cellulare|"
    r"telem[oó]vel|celular|kom[oó]rka|zadzwo[nń]|numer|ring(?:e|er)|"
    r"(?:my|your|his|her|our|their) (?:number|no\.?|nr\.?))(?![^\W_])")
_CUE_BEFORE = 40
# A label right after the number: "555 0133 (mobile)".
_CUE_AFTER = re.compile(r"(?i)[ \t]*[(\[]?(?:mobile|mob|cell|home|work|office|fax|tel|phone|"
                        r"landline|whats ?app|handy|mobil|portable)(?!\w)")

# A grouped phone shape: two to seven groups of digits, one may be in parentheses,
# the area code glued to the rest as in "(332)679-2757".
_SHAPE = re.compile(r"(?:\(\d{1,5}\) ?)?(?:\(\d{1,5}\)|\d{1,8})"
                    r"(?:(?: ?[-./] ?| )(?:\(\d{1,5}\)|\d{1,8})){1,6}")
_DOTTED_PHONE = re.compile(r"\d{2,4}(?:\.\d{2,4}){2,5}")
_ONE_BY_ONE = re.compile(r"\d(?:([-.])\d)(?:\1\d)+")
_SSN_SHAPE = re.compile(r"\d{3}([- ])\d{2}\1\d{4}")
_THOUSANDS = re.compile(r"\d{1,3}([ .])\d{3}(?:\1\d{3})*")
_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# A house number and a postcode before a town: "Musterweg 12 10115 Berlin".
_HOUSE_AND_POSTCODE = re.compile(r"\d{1,4}[a-z]? \d{4,5}(?= [A-ZÀ-Ý][a-zà-ÿ])")
_LONGEST_RUN = 80
_GAPS = re.compile(r"[ \t]*/[ \t]*|[ \t]{2,}")
# A unit after the number: a quantity ("0612345678 bytes", "2125550143 times").
_UNIT_AFTER = re.compile(r"(?i)[ \t]*(?:bytes?|[kmgt]i?b|ms|sec(?:ond)?s?|times|rows|"
                         r"items|files|users|records|requests|units|pcs|km|kg|%)(?![^\W\d_])")
# An extension written after the number: "212-555-0143x123", "0143 ext. 12".
_EXTENSION = re.compile(r"(?i)[ \t]?(?:x|ext\.?|extn\.?|extension)[ \t]?\d{1,6}(?!\w)")
_TRUNK_ZERO_EXCEPTIONS = {"IN": re.compile(r"[6-9]\d{9}"),
                          "BR": re.compile(r"\(\d{2}\).*")}


def phone_numbers(text: str) -> list[Span]:
    masked = _NOT_PHONES.sub(lambda m: "_" * len(m.group()), text)
    spans: dict[tuple[int, int], Span] = {}
    hints = _Hints(text)
    for start, end in _pieces(masked):
        for span in _phones_in(text, masked, start, end, hints):
            extension = _EXTENSION.match(text, span.end)
            if extension is not None:
                span = Span(span.start, extension.end(), span.entity, span.score)
            spans[(span.start, span.end)] = span
    return list(spans.values())


def _pieces(masked: str) -> list[tuple[int, int]]:
    """The digit runs to read, long ones split where several numbers would be."""
    pieces = []
    for run in _DIGIT_RUN.finditer(masked):
        if run.end() - run.start() <= _LONGEST_RUN:
            pieces.append(run.span())
            continue
        # The run alone is rewritten (not the text before it: that made many long runs
        # quadratic); the run pattern looks at nothing before its first character.
        gapped = _GAPS.sub(lambda m: "_" * len(m.group()), run.group())
        for piece in _DIGIT_RUN.finditer(gapped):
            if piece.end() - piece.start() <= _LONGEST_RUN:
                pieces.append((run.start() + piece.start(), run.start() + piece.end()))
    return pieces


def _phones_in(text: str, masked: str, run_start: int, run_end: int, hints: _Hints
               ) -> list[Span]:
    run = text[run_start:run_end].rstrip(").-/ \t")
    run_end = run_start + len(run)
    if run.startswith("(") and ")" not in run:
        run, run_start = run[1:], run_start + 1
    digits = re.sub(r"\D", "", run)
    if len(digits) >= 10 and _ONE_BY_ONE.fullmatch(run):
        # Digits written one by one (8-6-3-0-9-...): an obfuscated number, whatever it is
        # (the digits of an IBAN whose letters hid it from the IBAN recognizer).
        return [Span(run_start, run_end, "PHONE_NUMBER", GROUPED)]
    if _in_token(text, run_start, run_end):
        return []
    if run.startswith(("+", "00")):   # an international number, whatever comes before it
        return _international(text, masked, run_start, run_end, hints)
    if labelled_identifier(text, run_start) or (12 <= len(digits) <= 19 and _is_card(run)):
        return []
    cued = _cued(text, run_start, run_end)
    if not cued and (len(digits) < 9 or _UNIT_AFTER.match(text, run_end)):
        return []
    address = _HOUSE_AND_POSTCODE.match(text, run_start)
    if address is not None and address.end() == run_end and not cued:
        return []
    if "." in run and not _DOTTED_PHONE.fullmatch(run):
        return []   # a version or a number with a decimal point
    if _SSN_SHAPE.fullmatch(run) and not cued:
        return []   # a US social security number (or ITIN), not a Polish mobile
    grouped = _SHAPE.fullmatch(run) is not None
    # "123 456 789" is as likely a count written with thousands separators: only a mobile
    # number (Spain, Portugal, Poland) is taken for a phone there without a phone word.
    thousands = not cued and _THOUSANDS.fullmatch(run) is not None
    number = _valid_national(run, digits, hints.regions(run_start, run))
    if thousands:
        mobile = number is not None and phonenumbers.number_type(number) in _MOBILE
        return [Span(run_start, run_end, "PHONE_NUMBER", GROUPED)] if mobile else []
    if number is not None:
        if cued:
            return [Span(run_start, run_end, "PHONE_NUMBER", max(CUED, GROUPED * grouped))]
        if len(digits) >= 9 and grouped:
            return [Span(run_start, run_end, "PHONE_NUMBER", GROUPED)]
        if len(digits) >= 10 and re.fullmatch(r"0[1-9]\d+", run) and \
                phonenumbers.number_type(number) in _MOBILE:
            return [Span(run_start, run_end, "PHONE_NUMBER", CUED)]
        return []
    return _possible(text, masked, run_start, run_end, cued, hints)


def _international(text: str, masked: str, start: int, end: int, hints: _Hints
                   ) -> list[Span]:
    spans = []
    # GB reads both + and 00 as the international prefix.
    for found in PhoneNumberMatcher(masked[start:end], "GB", leniency=Leniency.POSSIBLE):
        raw = found.raw_string
        if raw.startswith(("+", "00")) and sum(c.isdigit() for c in raw) >= 8:
            spans.append(Span(start + found.start, start + found.end, "PHONE_NUMBER",
                              INTERNATIONAL))
    if spans:
        return spans
    return _possible(text, masked, start, end, _cued(text, start, end), hints)


def _possible(text: str, masked: str, run_start: int, run_end: int, cued: bool,
              hints: _Hints) -> list[Span]:
    """Numbers in the run that no region validates as a whole: several numbers in one run
    ("030 1234567 / 0171 1234567"), test ranges, numbers after a phone word."""
    spans = []
    begin, end = max(0, run_start - 1), min(len(text), run_end + 1)
    for found in PhoneNumberMatcher(masked[begin:end], hints.regions(run_start)[0],
                                    leniency=Leniency.POSSIBLE):
        start, stop, raw = found.start + begin, found.end + begin, found.raw_string
        digits = sum(c.isdigit() for c in raw)
        if digits < 7:
            continue
        if raw.startswith("+") and digits >= 8:
            score = INTERNATIONAL
        elif digits >= 10 and _SHAPE.fullmatch(raw) and "." not in raw:
            score = GROUPED
        elif cued or _cued(text, start, stop):
            score = CUED
        else:
            continue
        spans.append(Span(start, stop, "PHONE_NUMBER", score))
    run = text[run_start:run_end]
    if not spans and cued and 7 <= sum(c.isdigit() for c in run) <= 15 and \
            (run.isdigit() or _SHAPE.fullmatch(run)):
        # After a phone word, a number is one even where no plan knows it (a local number
        # without its area code, a test range).
        spans.append(Span(run_start, run_end, "PHONE_NUMBER", CUED))
    return spans


def _valid_national(run: str, digits: str, regions: list[str]
                    ) -> phonenumbers.PhoneNumber | None:
    """The run parsed as a national number of the first likely region that validates it."""
    for region in regions:
        if not _plausible(region, run, digits):
            continue
        try:
            number = phonenumbers.parse(run, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(number, region):
            return number
    return None


@cache
def _metadata(region: str) -> tuple[str | None, frozenset[int], re.Pattern[str]]:
    meta = PhoneMetadata.metadata_for_region(region)
    assert meta is not None and meta.general_desc is not None
    return (meta.national_prefix, frozenset(meta.general_desc.possible_length),
            re.compile(meta.general_desc.national_number_pattern or r"\d+"))


def _plausible(region: str, run: str, digits: str) -> bool:
    """A cheap test before parsing: the trunk prefix as the region writes it, a possible
    length and the region's number pattern."""
    trunk, lengths, pattern = _metadata(region)
    national = digits
    if trunk and digits.startswith(trunk) and not digits.startswith(trunk * 2):
        national = digits[len(trunk):]
    elif trunk == "0":
        exception = _TRUNK_ZERO_EXCEPTIONS.get(region)
        if exception is None or not exception.fullmatch(run if region == "BR" else digits):
            return False
    return len(national) in lengths and pattern.fullmatch(national) is not None


def _cued(text: str, start: int, end: int) -> bool:
    return _CUE.search(text, max(0, start - _CUE_BEFORE), start) is not None or \
        _CUE_AFTER.match(text, end) is not None


def _in_token(text: str, start: int, end: int) -> bool:
    """Part of an identifier, a path or a key's value (`u0612345678`, `/users/0612345678`,
    `id=...`), unless the key is a phone word (`tel:`, `phone=`)."""
    before, after = text[start - 1:start], text[end:end + 1]
    if after.isalpha() and _EXTENSION.match(text, end) is not None:
        after = ""
    if before.isalnum() or before == "_" or after.isalpha() or after == "_":
        return True
    if before and before in "/=#:@":
        key = glued_key(text, start)
        return key is None or _CUE.search(key) is None
    return False


def _is_card(run: str) -> bool:
    return any(s.end - s.start >= len(run) - 1 for s in card_numbers(run.lstrip("+")))


# --- the regions a text most likely speaks of -------------------------------------------

_PLACES = {
    "US": "usa|united states|america|new york|california|texas|chicago|los angeles|"
          "san francisco|seattle|boston|florida|washington",
    "CA": "canada|toronto|montreal|montréal|vancouver|ottawa|calgary|québec|quebec",
    "GB": "uk|united kingdom|england|scotland|wales|britain|london|manchester|birmingham|"
          "edinburgh|glasgow|leeds|bristol|liverpool",
    "IE": "ireland|éire|dublin|cork|galway|limerick",
    "DE": "germany|deutschland|berlin|hamburg|münchen|munich|köln|cologne|frankfurt|"
          "stuttgart|düsseldorf|leipzig|dresden",
    "AT": "austria|österreich|wien|vienna|graz|linz|salzburg|innsbruck",
    "CH": "switzerland|schweiz|suisse|svizzera|zürich|zurich|genève|geneva|basel|bern|"
          "lausanne",
    "FR": "france|paris|lyon|marseille|toulouse|nantes|bordeaux|lille|strasbourg",
    "BE": "belgium|belgique|belgië|brussels|bruxelles|brussel|antwerp|antwerpen|ghent|gent|"
          "liège",
    "NL": "netherlands|nederland|holland|amsterdam|rotterdam|utrecht|den haag|the hague|"
          "eindhoven|groningen",
    "LU": "luxembourg|luxemburg",
    "IT": "italy|italia|roma|rome|milano|milan|napoli|naples|torino|turin|firenze|florence|"
          "bologna|venezia|venice",
    "ES": "spain|españa|madrid|barcelona|valencia|sevilla|seville|bilbao|málaga|malaga|"
          "zaragoza",
    "PT": "portugal|lisboa|lisbon|porto|coimbra|braga",
    "BR": "brazil|brasil|são paulo|sao paulo|rio de janeiro|brasília|brasilia|"
          "belo horizonte|salvador|curitiba",
    "DK": "denmark|danmark|copenhagen|københavn|aarhus|odense",
    "NO": "norway|norge|oslo|bergen|trondheim|stavanger",
    "SE": "sweden|sverige|stockholm|göteborg|gothenburg|malmö|uppsala",
    "FI": "finland|suomi|helsinki|espoo|tampere|turku",
    "PL": "poland|polska|warszawa|warsaw|kraków|krakow|wrocław|wroclaw|gdańsk|gdansk|poznań",
    "IN": "india|bharat|mumbai|delhi|bangalore|bengaluru|chennai|hyderabad|kolkata|pune",
    "AU": "australia|sydney|melbourne|brisbane|perth|adelaide|canberra",
}
_HINTS: dict[str, tuple[str, ...]] = {
    name: (region,) for region, names in _PLACES.items() for name in names.split("|")}
_LANGUAGE_CUES = {
    "handy": "DE AT CH", "telefon": "DE AT CH DK NO SE PL", "rufnummer": "DE AT CH",
    "mobil": "DE AT DK NO SE", "tlf": "DK NO", "puh": "FI", "puhelin": "FI", "soita": "FI",
    "téléphone": "FR BE CH LU", "tél": "FR BE CH LU", "portable": "FR BE CH",
    "appelez": "FR BE", "telefoon": "NL BE", "mobiel": "NL BE", "bel": "NL BE",
    "bellen": "NL BE", "teléfono": "ES", "móvil": "ES", "movil": "ES", "llama": "ES",
    "llámame": "ES", "telefono": "IT CH", "cellulare": "IT", "chiamami": "IT",
    "chiama": "IT", "telefone": "PT BR", "telemóvel": "PT", "telemovel": "PT",
    "celular": "BR", "komórka": "PL", "zadzwoń": "PL", "numer": "PL", "ring": "DK NO SE",
}
_HINTS.update((word, tuple(regions.split())) for word, regions in _LANGUAGE_CUES.items())
_FIRST_WORDS = frozenset(name.split()[0] for name in _HINTS)
_WORD = re.compile(r"[^\W\d_]+")
_DOMAIN = re.compile(r"(?i)(?:@|www\.|://)[\w.-]*\.(uk|ie|de|at|ch|fr|be|nl|lu|it|es|pt|br|"
                     r"dk|no|se|fi|pl|in|au|ca)(?![\w.])")
# Formats typical of one country or a few.
_FORMATS = (
    (re.compile(r"\(\d{3}\) ?\d{3}[-. ]\d{4}|\d{3}[-.]\d{3}[-.]\d{4}|1[-. ]\d{3}[-. ]\d{3}"
                r"[-. ]\d{4}"), ("US", "CA")),
    (re.compile(r"0[1-9](?:([ .])\d\d)(?:\1\d\d){3}"), ("FR", "BE", "CH")),
    (re.compile(r"0[67]\d{8}"), ("NL", "FR")),
    (re.compile(r"0\d{3,4} ?\d{6,7}|0\d{2} \d{4} \d{4}"), ("GB", "DE")),
    (re.compile(r"\(0?\d{2}\) ?\d{4,5}-?\d{4}"), ("BR",)),
    (re.compile(r"3\d\d[ .]?\d{3}[ .]?\d{3,4}"), ("IT",)),
    (re.compile(r"[6-9]\d{2} \d{3} \d{3}|[89]\d \d{3} \d\d \d\d"), ("ES", "PT")),
    (re.compile(r"[1-9]\d \d{3} \d\d \d\d"), ("PL", "ES")),
    (re.compile(r"\d\d \d\d \d\d \d\d"), ("DK", "NO")),
    (re.compile(r"04\d\d \d{3} \d{3}|\(0\d\) \d{4} \d{4}"), ("AU",)),
)
_CONTEXT_BEFORE, _CONTEXT_AFTER = 300, 100


class _Hints:
    """Where the text names a region: a country or city, an e-mail or web domain of a
    country, a phone word of a language. Read once per text, when a national number
    first needs it."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._found: list[tuple[int, tuple[str, ...]]] | None = None

    def _read(self) -> list[tuple[int, tuple[str, ...]]]:
        found: list[tuple[int, tuple[str, ...]]] = [
            (m.start(), ("GB" if m.group(1).casefold() == "uk" else m.group(1).upper(),))
                 for m in _DOMAIN.finditer(self._text)]
        words = [(m.start(), m.group().casefold()) for m in _WORD.finditer(self._text)]
        for i, (start, word) in enumerate(words):
            if word not in _FIRST_WORDS:
                continue
            for n in (3, 2, 1):   # the longest name first: "new york" before "york"
                name = " ".join(w for _, w in words[i:i + n])
                if name in _HINTS:
                    found.append((start, _HINTS[name]))
                    break
        found.sort()
        return found

    def regions(self, start: int, run: str = "") -> list[str]:
        """The regions to try for a number at `start`, the most likely first."""
        if self._found is None:
            self._found = self._read()
        low = bisect.bisect_left(self._found, (start - _CONTEXT_BEFORE,))
        high = bisect.bisect_left(self._found, (start + _CONTEXT_AFTER,))
        likely = [region for _, regions in self._found[low:high] for region in regions]
        for shape, regions in _FORMATS:
            if run and shape.fullmatch(run):
                likely += regions
        return list(dict.fromkeys([*likely, *REGIONS]))
