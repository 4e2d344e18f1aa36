"""Generate the labelled detection corpus: `python corpus/generate.py [FOLDER]` (seeded,
reproducible; the files in this folder are its output).

Writes corpus/dev.jsonl (prompts with personal data, plus ordinary phrases that must be
kept) and corpus/hard_negatives.jsonl (text with no personal data at all), which the
detector was tuned on; and corpus/test.jsonl, a held-out set with other templates, other
names and other ordinary phrases, written after tuning and not tuned on. Each record:

    {"id": "...", "template": "...", "messages": ["turn 1", "turn 2"],
     "entities": [{"message": 0, "start": 5, "end": 13, "type": "PERSON", "value": "..."}],
     "keep": [{"message": 0, "start": 20, "end": 26, "text": "Monday"}]}

Names come from lists written here, spread over many cultures. A third of the people
have a given name from UNSEEN, which the detector's gazetteer (proxy/detect/data) does not
list: their entities carry "unseen_name": true, and the eval reports them on their own.
"""

from __future__ import annotations

import json
import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
GAZETTEER = {w.casefold() for line in (HERE.parent / "proxy" / "detect" / "data" /
                                       "given_names.txt").read_text("utf-8").splitlines()
             if not line.startswith("#") for w in line.split()}
SEED = 20261126

GIVEN = {
    "english": ["Oliver", "Amelia", "Harry", "Isla", "Jack", "Poppy", "Thomas", "Grace",
                "Megan", "Callum", "Bethany", "Declan"],
    "spanish": ["Alejandro", "Lucía", "Mateo", "Valentina", "Santiago", "Camila", "Javier",
                "Ximena", "Rodrigo", "Guadalupe"],
    "indian": ["Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Aditi", "Siddharth",
               "Meenakshi", "Harpreet"],
    "chinese": ["Wei", "Xiaoling", "Jun", "Mei", "Hao", "Yifan", "Zhiwei", "Lihua",
                "Xinyi", "Jiahao"],
    "japanese": ["Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Takumi", "Sakura",
                 "Kenji", "Emiko"],
    "arabic": ["Omar", "Fatima", "Youssef", "Layla", "Khalid", "Aisha", "Hamza", "Noor",
               "Tariq", "Samira"],
    "west_african": ["Chinedu", "Adaeze", "Oluwaseun", "Ngozi", "Kwame", "Abena", "Emeka",
                     "Folake", "Tunde", "Yaw"],
    "slavic": ["Dmitri", "Anastasia", "Aleksandr", "Ekaterina", "Piotr", "Zofia", "Bogdan",
               "Milena", "Oksana", "Radoslav"],
    "german_french": ["Lukas", "Johanna", "Matthias", "Lena", "Étienne", "Margaux",
                      "Sébastien", "Amélie", "Friedrich", "Clémence"],
    "korean_vietnamese": ["Minjun", "Seoyeon", "Jisoo", "Hyunwoo", "Linh", "Minh", "Thanh",
                          "Huong", "Quang", "Ngoc"],
    "turkish_persian": ["Emre", "Elif", "Mehmet", "Zeynep", "Dariush", "Shirin", "Kian",
                        "Parisa", "Baran", "Yasemin"],
    "east_african": ["Wanjiru", "Baraka", "Amani", "Zawadi", "Tesfaye", "Selam", "Kiprono",
                     "Nyokabi", "Abebe", "Makena"],
}
UNSEEN = {
    "english": ["Rowan", "Imogen", "Fergus", "Tamsin", "Alistair", "Harriet"],
    "spanish": ["Esteban", "Marisol", "Leandro", "Florencia", "Gonzalo", "Catalina"],
    "indian": ["Tanvi", "Devendra", "Pranav", "Ishani", "Raghav", "Bhavna"],
    "chinese": ["Zhenyu", "Qingyi", "Shuang", "Weiming", "Yuhan", "Xiaobo"],
    "japanese": ["Ryota", "Chihiro", "Daisuke", "Misaki", "Tomoya", "Ayaka"],
    "arabic": ["Bilal", "Rasha", "Nabil", "Dalia", "Anwar", "Ghada"],
    "west_african": ["Olumide", "Chiamaka", "Kelechi", "Efua", "Babajide", "Adwoa"],
    "slavic": ["Wojciech", "Jadwiga", "Miroslav", "Ludmila", "Stanislav", "Darya"],
    "german_french": ["Gunther", "Liesel", "Thibault", "Solene", "Rupert", "Mathilde"],
    "korean_vietnamese": ["Taehyun", "Haneul", "Dongha", "Khanh", "Bich", "Vinh"],
    "turkish_persian": ["Kerem", "Dilara", "Farhad", "Roya", "Serkan", "Golnar"],
    "east_african": ["Kamande", "Atieno", "Mekdes", "Dawit", "Akinyi", "Haddas"],
}
FAMILY = {
    "english": ["Whitaker", "Pemberton", "Hargreaves", "Ashworth", "Fairbanks", "Thornton"],
    "spanish": ["Fernández", "Quintero", "Villalobos", "Echeverría", "Montoya", "Arroyo"],
    "indian": ["Sharma", "Iyer", "Venkataraman", "Chatterjee", "Kulkarni", "Gill"],
    "chinese": ["Zhang", "Liu", "Huang", "Zhou", "Xu", "Guo"],
    "japanese": ["Takahashi", "Watanabe", "Yamamoto", "Nakamura", "Kobayashi", "Fujita"],
    "arabic": ["Al-Mansouri", "Haddad", "Nasser", "El-Sayed", "Khoury", "Abdullah"],
    "west_african": ["Okonkwo", "Adeyemi", "Mensah", "Nwachukwu", "Boateng", "Okafor"],
    "slavic": ["Ivanova", "Kowalczyk", "Petrov", "Novák", "Sokolov", "Wiśniewska"],
    "german_french": ["Schneider", "Brückner", "Lefebvre", "Dubois", "Hoffmann", "Moreau"],
    "korean_vietnamese": ["Kim", "Park", "Choi", "Nguyen", "Tran", "Pham"],
    "turkish_persian": ["Yılmaz", "Demir", "Kaya", "Tehrani", "Hosseini", "Rahimi"],
    "east_african": ["Kamau", "Otieno", "Wanjiku", "Haile", "Mwangi", "Kiptoo"],
}
CITIES = ["Lisbon", "Nairobi", "Osaka", "Porto Alegre", "Wrocław", "Hyderabad", "Bordeaux",
          "Leipzig", "Kraków", "Monterrey", "Accra", "Da Nang", "Izmir", "Mombasa", "Busan"]
DOMAINS = ["example.com", "mail.example.org", "acme-corp.example", "inbox.example.net"]
KEEP = {
    "calendar": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "next Saturday",
                 "Sunday morning", "March 3, 2025", "Q3", "end of June", "2024-11-05"],
    "tech": ["Kubernetes", "PostgreSQL 16", "Python 3.12", "Node.js 20", "Redis",
             "Apache Kafka", "Terraform", "AWS Lambda", "Azure DevOps", "Docker", "Jira",
             "Slack", "Excel", "Grafana", "React", "TypeScript", "GitHub Actions",
             "Elasticsearch", "Django", "Spring Boot", "nginx", "Ubuntu 24.04"],
    "product": ["iPhone 15", "Windows 11", "macOS Sonoma", "Pixel 8", "Galaxy S24",
                "ThinkPad X1", "PlayStation 5", "Kindle", "Salesforce", "Zoom", "Teams"],
    "version": ["v2.3.1", "1.24.0", "build 4471", "release 7.2", "API v1", "3.11.7",
                "SDK 0.9.4"],
    "amount": ["$1,250.00", "€300", "12.5%", "3 hours", "45 minutes", "£89.99",
               "2,000 units", "10 GB"],
}


@dataclass
class Builder:
    messages: list[str] = field(default_factory=lambda: [""])
    entities: list[dict[str, object]] = field(default_factory=list)
    keep: list[dict[str, object]] = field(default_factory=list)

    def text(self, part: str) -> Builder:
        self.messages[-1] += part
        return self

    def pii(self, kind: str, value: str, shown: str | None = None, unseen: bool = False
            ) -> Builder:
        """A personal value; `shown` is how it is written (obfuscated, lower-cased...)."""
        written = shown if shown is not None else value
        start = len(self.messages[-1])
        self.messages[-1] += written
        entity: dict[str, object] = {"message": len(self.messages) - 1, "start": start,
                                     "end": start + len(written), "type": kind, "value": value}
        if unseen:
            entity["unseen_name"] = True
        self.entities.append(entity)
        return self

    def ordinary(self, phrase: str) -> Builder:
        start = len(self.messages[-1])
        self.messages[-1] += phrase
        self.keep.append({"message": len(self.messages) - 1, "start": start,
                          "end": start + len(phrase), "text": phrase})
        return self

    def turn(self) -> Builder:
        self.messages.append("")
        return self


# --- values ------------------------------------------------------------------------------

def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


def iban(rng: random.Random) -> str:
    country, length = rng.choice([("DE", 18), ("GB", 18), ("FR", 23), ("NL", 14), ("ES", 20)])
    if country == "GB":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + \
            "".join(rng.choice(string.digits) for _ in range(14))
    elif country == "NL":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + \
            "".join(rng.choice(string.digits) for _ in range(10))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(length))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone(rng: random.Random) -> str:
    formats: list[Callable[[], str]] = [
        lambda: f"+1 {rng.randint(201, 989)} 555 {rng.randint(100, 999):04d}",
        lambda: f"({rng.randint(201, 989)}) 555-{rng.randint(100, 999):04d}",
        lambda: f"+44 20 7946 {rng.randint(0, 999):04d}",
        lambda: f"+49 30 {rng.randint(1000000, 9999999)}",
        lambda: f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}",
        lambda: f"+91 {rng.randint(70000, 99999)} {rng.randint(10000, 99999)}",
    ]
    return rng.choice(formats)()


def card(rng: random.Random) -> str:
    kind = rng.choice(["visa", "mc", "amex"])
    if kind == "amex":
        n = luhn_complete(rng.choice(["34", "37"]), 15, rng)
        return rng.choice([f"{n[:4]} {n[4:10]} {n[10:]}", n])
    n = luhn_complete("4" if kind == "visa" else rng.choice(["51", "52", "53", "54", "55"]),
                      16, rng)
    sep = rng.choice([" ", "-", ""])
    return sep.join(n[i:i + 4] for i in range(0, 16, 4))


def ip(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"2001:db8:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xffff):x}"
    return f"{rng.choice([23, 51, 81, 93, 141, 185, 203])}.{rng.randint(0, 255)}." \
           f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"


# --- obfuscations ------------------------------------------------------------------------

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"}


def obfuscate(value: str, rng: random.Random) -> tuple[str, str]:
    """(written form, obfuscation name) for a structured value."""
    how = rng.choice(["zero_width", "fullwidth", "nbsp", "nb_hyphen", "spaced", "homoglyph"])
    if how == "zero_width":
        cut = rng.randint(1, max(1, len(value) - 1))
        return value[:cut] + rng.choice(["\u200b", "\u200c", "\u2060", "\ufeff"]) + value[cut:], how
    if how == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "@" else c
                       for c in value), how
    if how == "nbsp":
        return value.replace(" ", "\u00a0"), how
    if how == "nb_hyphen":
        return value.replace("-", "\u2011").replace(" ", "\u2011"), how
    if how == "spaced":
        return " ".join(c for c in value if not c.isspace() and c != "-"), how
    return "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.5 else c for c in value), how


# --- templates ---------------------------------------------------------------------------

@dataclass
class Person:
    given: str
    family: str
    culture: str
    unseen: bool = False

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}"

    def email(self, rng: random.Random) -> str:
        def ascii_only(s: str) -> str:
            return "".join(c for c in unicodedata.normalize("NFKD", s).lower()
                           if c in string.ascii_lowercase)
        g, f = ascii_only(self.given), ascii_only(self.family)
        local = rng.choice([f"{g}.{f}", f"{g[0]}{f}", f"{g}_{f}{rng.randint(1, 99)}", f"{f}.{g}"])
        return f"{local}@{rng.choice(DOMAINS)}"


def person(rng: random.Random) -> Person:
    culture = rng.choice(sorted(GIVEN))
    if rng.random() < 1 / 3:
        return Person(rng.choice(UNSEEN[culture]), rng.choice(FAMILY[culture]), culture, True)
    return Person(rng.choice(GIVEN[culture]), rng.choice(FAMILY[culture]), culture)


def name_written(b: Builder, p: Person, rng: random.Random, lower: float = 0.2) -> None:
    if rng.random() < lower:
        b.pii("PERSON", p.full, p.full.lower(), unseen=p.unseen)
    else:
        b.pii("PERSON", p.full, unseen=p.unseen)


def given_written(b: Builder, p: Person) -> None:
    b.pii("PERSON", p.given, unseen=p.unseen)


def structured(b: Builder, kind: str, value: str, rng: random.Random, obf: float = 0.3) -> None:
    if rng.random() < obf:
        written, _ = obfuscate(value, rng)
        b.pii(kind, value, written)
    else:
        b.pii(kind, value)


def keep(b: Builder, rng: random.Random, group: str | None = None) -> None:
    b.ordinary(rng.choice(KEEP[group or rng.choice(sorted(KEEP))]))


def support_ticket(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text("Ticket #" + str(rng.randint(10000, 99999)) + ": customer ")
    name_written(b, p, rng)
    b.text(" reports that ")
    keep(b, rng, "product")
    b.text(" crashes since ")
    keep(b, rng, "calendar")
    b.text(". Call back on ")
    structured(b, "PHONE_NUMBER", phone(rng), rng)
    b.text(" or write to ")
    structured(b, "EMAIL_ADDRESS", p.email(rng), rng)
    b.text(". Refund of ")
    keep(b, rng, "amount")
    b.text(" requested to card ")
    structured(b, "CREDIT_CARD", card(rng), rng)
    b.text(".")
    return b


def email_thread(rng: random.Random) -> Builder:
    sender, other, b = person(rng), person(rng), Builder()
    b.text("Hi ")
    given_written(b, other)
    b.text(",\n\nthanks for the update on ")
    keep(b, rng, "tech")
    b.text(". I moved our sync to ")
    keep(b, rng, "calendar")
    b.text(". Please loop in ")
    name_written(b, other, rng, lower=0.3)
    b.text(" as well.\n\nBest regards,\n")
    b.pii("PERSON", sender.full, unseen=sender.unseen)
    b.text("\n")
    structured(b, "PHONE_NUMBER", phone(rng), rng)
    return b


def csv_paste(rng: random.Random) -> Builder:
    b = Builder()
    b.text("Can you dedupe this export?\n\nname,email,city,plan\n")
    for _ in range(rng.randint(2, 4)):
        p = person(rng)
        name_written(b, p, rng, lower=0.25)
        b.text(",")
        structured(b, "EMAIL_ADDRESS", p.email(rng), rng, obf=0.15)
        b.text(",")
        b.pii("LOCATION", rng.choice(CITIES))
        b.text("," + rng.choice(["pro", "free", "team"]) + "\n")
    return b


def json_paste(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text('Why does this payload fail validation?\n{"customer": {"full_name": "')
    name_written(b, p, rng)
    b.text('", "iban": "')
    structured(b, "IBAN_CODE", iban(rng), rng, obf=0.2)
    b.text('", "last_login_ip": "')
    b.pii("IP_ADDRESS", ip(rng))
    b.text('", "sdk": "')
    keep(b, rng, "version")
    b.text('"}}')
    return b


def code_snippet(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text("This ")
    keep(b, rng, "tech")
    b.text(" test fails:\n\n```python\ndef test_signup():\n    user = create_user(name=\"")
    name_written(b, p, rng)
    b.text("\", email=\"")
    b.pii("EMAIL_ADDRESS", p.email(rng))
    b.text("\", ssn=\"")
    structured(b, "US_SSN", ssn(rng), rng, obf=0.2)
    b.text("\")\n    assert user.plan == \"pro\"\n```")
    return b


def meeting_notes(rng: random.Random) -> Builder:
    a, c, b = person(rng), person(rng), Builder()
    b.text("Meeting notes, ")
    keep(b, rng, "calendar")
    b.text("\nAttendees: ")
    name_written(b, a, rng, lower=0.3)
    b.text(", ")
    name_written(b, c, rng, lower=0.3)
    b.text("\n- ")
    b.pii("PERSON", a.family)
    b.text(" will migrate the cluster to ")
    keep(b, rng, "tech")
    b.text(" by ")
    keep(b, rng, "calendar")
    b.text(".\n- Budget stays at ")
    keep(b, rng, "amount")
    b.text("; the office in ")
    b.pii("LOCATION", rng.choice(CITIES))
    b.text(" hosts the review.")
    return b


def translation(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text("Translate to German: \"Dear ")
    b.pii("PERSON", p.full, unseen=p.unseen)
    b.text(", your order ships ")
    keep(b, rng, "calendar")
    b.text(". Questions? Reply to ")
    structured(b, "EMAIL_ADDRESS", p.email(rng), rng)
    b.text(".\"")
    return b


def conversation(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text("My name is ")
    name_written(b, p, rng, lower=0.3)
    b.text(" and I need help with my bank transfer.")
    b.turn()
    b.text("Sure. The IBAN is ")
    structured(b, "IBAN_CODE", iban(rng), rng)
    b.text(" and ")
    if rng.random() < 0.5:
        b.pii("PERSON", p.family)
    else:
        given_written(b, p)
    b.text(" approved it on ")
    keep(b, rng, "calendar")
    b.text(" from ")
    b.pii("IP_ADDRESS", ip(rng))
    b.text(".")
    return b


def chat_lowercase(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text("can you ask ")
    b.pii("PERSON", p.full, p.full.lower(), unseen=p.unseen)
    b.text(" whether the ")
    keep(b, rng, "tech")
    b.text(" upgrade to ")
    keep(b, rng, "version")
    b.text(" is done? their number is ")
    structured(b, "PHONE_NUMBER", phone(rng), rng, obf=0.5)
    return b


def patient_record(rng: random.Random) -> Builder:
    p, b = person(rng), Builder()
    b.text("Summarise for the handover: patient ")
    name_written(b, p, rng)
    b.text(", SSN ")
    structured(b, "US_SSN", ssn(rng), rng, obf=0.4)
    b.text(", admitted ")
    keep(b, rng, "calendar")
    b.text(" in ")
    b.pii("LOCATION", rng.choice(CITIES))
    b.text(". Contact: ")
    structured(b, "PHONE_NUMBER", phone(rng), rng, obf=0.4)
    b.text(". Dose ")
    keep(b, rng, "amount")
    b.text(".")
    return b


TEMPLATES: dict[str, Callable[[random.Random], Builder]] = {
    "support_ticket": support_ticket, "email_thread": email_thread, "csv_paste": csv_paste,
    "json_paste": json_paste, "code_snippet": code_snippet, "meeting_notes": meeting_notes,
    "translation": translation, "conversation": conversation,
    "chat_lowercase": chat_lowercase, "patient_record": patient_record,
}

NEGATIVES = [
    "Can you review this Terraform plan before Friday? The {tech} module changed in {version}.",
    "Our {product} rollout slipped to {calendar}; budget is {amount}.",
    "Explain the difference between {tech} and {tech2} for a team of 12.",
    "Meeting moved to {calendar} at 10:30. Agenda: {tech} upgrade, {amount} budget.",
    "Error 503 on build 7781 after upgrading {tech} to {version}.",
    "Write a haiku about {calendar} deploys and {product}.",
    "The invoice total was {amount} for {amount2} of usage in Q2.",
    "Benchmark: {tech} handled 12,000 requests per second on 4 cores with {amount} headroom.",
    "Compare {product} with {product2} on battery life and price.",
    "Set the cron to run every {calendar} at 02:00 UTC and retry 3 times.",
]


def negative(rng: random.Random) -> Builder:
    b = Builder()
    template = rng.choice(NEGATIVES)
    parts = template.replace("{", "\x00{").replace("}", "}\x00").split("\x00")
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            group = part[1:-1].rstrip("2")
            keep(b, rng, group)
        else:
            b.text(part)
    return b


def record(builder: Builder, rid: str, template: str) -> dict[str, object]:
    return {"id": rid, "template": template, "messages": builder.messages,
            "entities": builder.entities, "keep": builder.keep}


# --- held-out test set: other people, phrases and templates --------------------------------

TEST_GIVEN = {
    "english": ["Georgina", "Hamish", "Philippa", "Barnaby"],
    "spanish": ["Rocío", "Iñaki", "Montserrat", "Fabián"],
    "indian": ["Lavanya", "Karthik", "Nandini", "Abhishek"],
    "chinese": ["Zhiyuan", "Mingxia", "Chunhua", "Tianyu"],
    "japanese": ["Shun", "Kaori", "Yusuke", "Natsuki"],
    "arabic": ["Mahmoud", "Rim", "Faisal", "Hiba"],
    "west_african": ["Ikechukwu", "Temitope", "Kojo", "Nkechi"],
    "slavic": ["Zbigniew", "Svetoslava", "Yaroslav", "Halina"],
    "nordic_dutch": ["Sindre", "Ingeborg", "Maarten", "Lieke"],
    "pacific_filipino": ["Rizalino", "Maricel", "Tevita", "Mele"],
}
TEST_FAMILY = {
    "english": ["Cholmondeley", "Featherstone", "Ogilvy", "Lockwood"],
    "spanish": ["Etxeberria", "Olmedo", "Zubizarreta", "Carrasco"],
    "indian": ["Raghunathan", "Bhattacharya", "Deshpande", "Sandhu"],
    "chinese": ["Tang", "Feng", "Deng", "Xiao"],
    "japanese": ["Matsumoto", "Inoue", "Kimura", "Hayashi"],
    "arabic": ["Al-Farsi", "Qureshi", "Bakr", "Saleh"],
    "west_african": ["Eze", "Adebayo", "Asante", "Obi"],
    "slavic": ["Zieliński", "Dvořák", "Horvat", "Marchenko"],
    "nordic_dutch": ["Haugen", "Lindqvist", "Van der Berg", "Bakker"],
    "pacific_filipino": ["Dela Cruz", "Fifita", "Bautista", "Taufa"],
}
TEST_CITIES = ["Tromsø", "Cebu", "Enugu", "Valparaíso", "Sapporo", "Ljubljana", "Aarhus",
               "Coimbra", "Tashkent", "Durban"]
TEST_KEEP = {
    "calendar": ["Thursday afternoon", "the 14th", "December 2, 2025", "Q1 2026",
                 "Monday night", "mid-August"],
    "tech": ["Pulumi", "Argo CD", "Keycloak", "Supabase", "ClickHouse", "Vitest", "Bazel",
             "Traefik", "Mattermost", "Hadoop", "Couchbase", "Sidekiq"],
    "product": ["AirPods Pro", "Surface Laptop 5", "Fitbit Charge 6", "Roku", "Steam Deck",
                "Meta Quest 3"],
    "version": ["v10.4.2", "rc2", "2.0.0-beta.3", "patch 17", "API 2024-06-01"],
    "amount": ["$420", "¥12,000", "7.5%", "90 seconds", "500 MB", "CHF 1,100"],
}


def test_person(rng: random.Random) -> Person:
    culture = rng.choice(sorted(TEST_GIVEN))
    given = rng.choice(TEST_GIVEN[culture])
    return Person(given, rng.choice(TEST_FAMILY[culture]), culture,
                  unseen=given.casefold() not in GAZETTEER)


def test_keep(b: Builder, rng: random.Random, group: str) -> None:
    b.ordinary(rng.choice(TEST_KEEP[group]))


def slack_message(rng: random.Random) -> Builder:
    a, c, b = test_person(rng), test_person(rng), Builder()
    b.text("@channel heads up: ")
    given_written(b, a)
    b.text(" is out ")
    test_keep(b, rng, "calendar")
    b.text(", ping ")
    name_written(b, c, rng, lower=0.5)
    b.text(" for anything ")
    test_keep(b, rng, "tech")
    b.text(" related. cell: ")
    structured(b, "PHONE_NUMBER", phone(rng), rng, obf=0.4)
    return b


def crm_note(rng: random.Random) -> Builder:
    p, b = test_person(rng), Builder()
    b.text("called ")
    b.pii("PERSON", p.full, p.full.lower(), unseen=p.unseen)
    b.text(" re: renewal of ")
    test_keep(b, rng, "product")
    b.text(". prefers email ")
    structured(b, "EMAIL_ADDRESS", p.email(rng), rng, obf=0.4)
    b.text(", lives in ")
    b.pii("LOCATION", rng.choice(TEST_CITIES))
    b.text(". discount ")
    test_keep(b, rng, "amount")
    b.text(" approved.")
    return b


def yaml_paste(rng: random.Random) -> Builder:
    b = Builder()
    b.text("Fix the indentation in this fixture:\n\nusers:\n")
    for _ in range(2):
        p = test_person(rng)
        b.text("  - name: ")
        name_written(b, p, rng, lower=0.3)
        b.text("\n    email: ")
        b.pii("EMAIL_ADDRESS", p.email(rng))
        b.text("\n    phone: \"")
        structured(b, "PHONE_NUMBER", phone(rng), rng, obf=0.3)
        b.text("\"\n")
    b.text("# generated by ")
    test_keep(b, rng, "tech")
    return b


def sql_paste(rng: random.Random) -> Builder:
    p, b = test_person(rng), Builder()
    b.text("Why does this insert fail on ")
    test_keep(b, rng, "tech")
    b.text("?\nINSERT INTO customers (name, email, card) VALUES ('")
    name_written(b, p, rng, lower=0.2)
    b.text("', '")
    b.pii("EMAIL_ADDRESS", p.email(rng))
    b.text("', '")
    structured(b, "CREDIT_CARD", card(rng), rng, obf=0.3)
    b.text("');")
    return b


def hr_request(rng: random.Random) -> Builder:
    p, b = test_person(rng), Builder()
    b.text("Please update the payroll account for ")
    name_written(b, p, rng, lower=0.2)
    b.text(" to ")
    structured(b, "IBAN_CODE", iban(rng), rng, obf=0.4)
    b.text(" from ")
    test_keep(b, rng, "calendar")
    b.text(". Social security number on file: ")
    structured(b, "US_SSN", ssn(rng), rng, obf=0.4)
    b.text(".")
    return b


def log_lines(rng: random.Random) -> Builder:
    p, b = test_person(rng), Builder()
    b.text("Explain these logs from ")
    test_keep(b, rng, "tech")
    b.text(" ")
    test_keep(b, rng, "version")
    b.text(":\n2025-03-04T10:22:01Z login ok user=")
    b.pii("EMAIL_ADDRESS", p.email(rng))
    b.text(" ip=")
    b.pii("IP_ADDRESS", ip(rng))
    b.text("\n2025-03-04T10:22:09Z export started by ")
    name_written(b, p, rng, lower=0.4)
    return b


def follow_up(rng: random.Random) -> Builder:
    a, c, b = test_person(rng), test_person(rng), Builder()
    b.text("Hello, I'm ")
    name_written(b, a, rng, lower=0.3)
    b.text(" from the ")
    b.pii("LOCATION", rng.choice(TEST_CITIES))
    b.text(" office.")
    b.turn()
    b.text("It's ")
    b.pii("PERSON", a.given, unseen=a.unseen)
    b.text(" again: did ")
    b.pii("PERSON", c.family, unseen=c.unseen)
    b.text(" send the ")
    test_keep(b, rng, "product")
    b.text(" invoice of ")
    test_keep(b, rng, "amount")
    b.text("?")
    return b


def german_letter(rng: random.Random) -> Builder:
    p, b = test_person(rng), Builder()
    b.text("Bitte ins Englische übersetzen: \"Sehr geehrte Frau ")
    b.pii("PERSON", p.family, unseen=p.unseen)
    b.text(", Ihre Bestellung wird am ")
    test_keep(b, rng, "calendar")
    b.text(" geliefert. Rückfragen an ")
    structured(b, "PHONE_NUMBER", phone(rng), rng, obf=0.3)
    b.text(".\"")
    return b


TEST_TEMPLATES: dict[str, Callable[[random.Random], Builder]] = {
    "slack_message": slack_message, "crm_note": crm_note, "yaml_paste": yaml_paste,
    "sql_paste": sql_paste, "hr_request": hr_request, "log_lines": log_lines,
    "follow_up": follow_up, "german_letter": german_letter,
}


# --- holdout set: written after all tuning, measured once --------------------------------

HOLD_GIVEN = {
    "english": ["Crispin", "Henrietta", "Jocelyn", "Peregrine"],
    "hispanic": ["Xiomara", "Eusebio", "Yesenia", "Anselmo"],
    "south_asian": ["Tejaswini", "Nirmal", "Sharmila", "Venkatesh"],
    "east_asian": ["Jiayi", "Haneul", "Takeru", "Sooyoung"],
    "arabic_turkish": ["Ghassan", "Lubna", "Oguz", "Sevgi"],
    "african": ["Obiageli", "Thandiwe", "Kwabena", "Nomvula"],
    "slavic_baltic": ["Radek", "Dobromila", "Kęstutis", "Ieva"],
}
HOLD_FAMILY = {
    "english": ["Wolstenholme", "Pettigrew", "Ainsworth", "Blackwood"],
    "hispanic": ["Bustamante", "Iturbide", "Cienfuegos", "Valdivia"],
    "south_asian": ["Subramanian", "Chowdhury", "Nair", "Thakkar"],
    "east_asian": ["Ouyang", "Jeon", "Ishikawa", "Cao"],
    "arabic_turkish": ["Al-Hashimi", "Karaca", "Tamimi", "Öztürk"],
    "african": ["Onyekachi", "Dlamini", "Owusu", "Mahlangu"],
    "slavic_baltic": ["Kazlauskas", "Nowicki", "Blažek", "Ozola"],
}
HOLD_KEEP = {
    "tech": ["Temporal", "Dagster", "Prefect", "Argo Workflows", "Linkerd", "Cilium",
             "Tekton", "Backstage"],
    "calendar": ["Friday 9am", "the 3rd of May", "next sprint", "2026-02-14"],
    "amount": ["€2.4k", "35 ms", "1.2 TB", "$99/month"],
}


def hold_person(rng: random.Random) -> Person:
    culture = rng.choice(sorted(HOLD_GIVEN))
    given = rng.choice(HOLD_GIVEN[culture])
    return Person(given, rng.choice(HOLD_FAMILY[culture]), culture,
                  unseen=given.casefold() not in GAZETTEER)


def combined(value: str, rng: random.Random) -> str:
    """Two different obfuscations at once."""
    first, how = obfuscate(value, rng)
    while True:
        second, again = obfuscate(first, rng)
        if again != how:
            return second


def tool_call_history(rng: random.Random) -> Builder:
    p, b = hold_person(rng), Builder()
    b.text('Tool result: {"first_name": "')
    b.pii("PERSON", p.given, unseen=p.unseen)
    b.text('", "last_name": "')
    b.pii("PERSON", p.family, unseen=p.unseen)
    b.text('", "phone": "')
    structured(b, "PHONE_NUMBER", phone(rng), rng, obf=0.3)
    b.text('", "service": "')
    b.ordinary(rng.choice(HOLD_KEEP["tech"]))
    b.text('"}. Summarise it.')
    return b


def yaml_list(rng: random.Random) -> Builder:
    b = Builder()
    b.text("Convert to JSON:\ncontacts:\n")
    for _ in range(2):
        p = hold_person(rng)
        b.text("  - name: ")
        name_written(b, p, rng, lower=0.4)
        b.text("\n    email: ")
        structured(b, "EMAIL_ADDRESS", p.email(rng), rng, obf=0.3)
        b.text("\n")
    return b


def quoted_csv(rng: random.Random) -> Builder:
    b = Builder()
    b.text('id,name,card\n')
    for i in range(2):
        p = hold_person(rng)
        b.text(f'{i + 1},"')
        b.pii("PERSON", f"{p.family}, {p.given}", unseen=p.unseen)
        b.text('",')
        structured(b, "CREDIT_CARD", card(rng), rng, obf=0.3)
        b.text("\n")
    b.text("Which rows look like duplicates?")
    return b


def combined_obfuscation(rng: random.Random) -> Builder:
    p, b = hold_person(rng), Builder()
    b.text("Verify these for ")
    name_written(b, p, rng, lower=0.3)
    b.text(": SSN ")
    value = ssn(rng)
    b.pii("US_SSN", value, combined(value, rng))
    b.text(", card ")
    value = card(rng)
    b.pii("CREDIT_CARD", value, combined(value, rng))
    b.text(", IBAN ")
    value = iban(rng)
    b.pii("IBAN_CODE", value, combined(value, rng))
    b.text(".")
    return b


def plain_chat(rng: random.Random) -> Builder:
    a, c, b = hold_person(rng), hold_person(rng), Builder()
    b.text("I'm ")
    name_written(b, a, rng, lower=0.4)
    b.text(". Our ")
    b.ordinary(rng.choice(HOLD_KEEP["tech"]))
    b.text(" jobs fail since ")
    b.ordinary(rng.choice(HOLD_KEEP["calendar"]))
    b.text("; ")
    name_written(b, c, rng, lower=0.4)
    b.text(" thinks it is the ")
    b.ordinary(rng.choice(HOLD_KEEP["amount"]))
    b.text(" timeout. Can you help?")
    return b


HOLD_TEMPLATES: dict[str, Callable[[random.Random], Builder]] = {
    "tool_call_history": tool_call_history, "yaml_list": yaml_list, "quoted_csv": quoted_csv,
    "combined_obfuscation": combined_obfuscation, "plain_chat": plain_chat,
}


def main(folder: Path = HERE) -> None:
    rng = random.Random(SEED)
    names = sorted(TEMPLATES)
    with (folder / "dev.jsonl").open("w", encoding="utf-8") as out:
        for i in range(600):
            template = names[i % len(names)]
            out.write(json.dumps(record(TEMPLATES[template](rng), f"{template}-{i:04d}",
                                        template), ensure_ascii=False) + "\n")
    with (folder / "hard_negatives.jsonl").open("w", encoding="utf-8") as out:
        for i in range(200):
            out.write(json.dumps(record(negative(rng), f"negative-{i:04d}", "negative"),
                                 ensure_ascii=False) + "\n")
    test_names = sorted(TEST_TEMPLATES)
    with (folder / "test.jsonl").open("w", encoding="utf-8") as out:
        for i in range(400):
            template = test_names[i % len(test_names)]
            out.write(json.dumps(record(TEST_TEMPLATES[template](rng), f"{template}-{i:04d}",
                                        template), ensure_ascii=False) + "\n")
    hold_names = sorted(HOLD_TEMPLATES)
    with (folder / "holdout.jsonl").open("w", encoding="utf-8") as out:
        for i in range(250):
            template = hold_names[i % len(hold_names)]
            out.write(json.dumps(record(HOLD_TEMPLATES[template](rng), f"{template}-{i:04d}",
                                        template), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
