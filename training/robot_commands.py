"""Synthetic spoken robot commands in CoNLL form: templates with typed slots, filled from name lists.

``python -m training.robot_commands --out DIR [--train N --valid N --seed S]`` writes
``DIR/train.txt`` and ``DIR/valid.txt``. Train and valid use the same templates but disjoint
fillers (every fifth list entry, and two first names and two surnames per culture, are valid's),
so valid measures generalisation to unseen names. The hand-written test set
(``training/data/robot_commands/test.txt``) shares no template with this module.

Annotation (the same as the test set's README): a slot's filler is the whole entity; words around
it are O. Titles ("Dr.", "Mr.", "Professor") and determiners are O, a possessive ``'s`` stays on
the name's last token ("Priya's" is PER). Named or numbered places keep their head noun ("Curie
wing", "gate B12", "Terminal 2" are LOC); generic places ("the kitchen", "reception") are O.
Hospitals, universities, airlines, couriers and stores are ORG; products, brands naming an object,
nationalities, languages, events and works are MISC. Events appear after an O "the" ("the
Olympics sale"), so "Olympics" alone is the entity.
"""
from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from training.data import Sentence

# The node's transcript splitter (words with inner apostrophes or hyphens stay whole, "Dr." is
# "Dr" + "."), plus template slots like "{first}" or "{first}'s".
_TOKEN = re.compile(
    r"\{\w+\}(?:'s)?"
    r"|https?://\S+|www\.\S+"
    r"|[@#]\w+"
    r"|\d+(?:[.,:/]\d+)*"
    r"|\w+(?:['’\-]\w+)*"
    r"|[^\w\s]"
)
_SLOT = re.compile(r"\{(\w+)\}('s)?")


def tokenize(text: str) -> list[str]:
    """Split written text into tokens the way the Twitter files and the node do."""
    return _TOKEN.findall(text)


# culture: (first names, surnames); the last two of each list are valid's.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Nigerian": (
        ("Amara", "Chinedu", "Ngozi", "Oluwaseun", "Emeka", "Adaeze", "Tunde", "Folake", "Ikenna", "Yetunde"),
        ("Nwosu", "Okonkwo", "Adeyemi", "Okafor", "Balogun", "Eze", "Obi", "Adebayo", "Chukwu", "Onyeka"),
    ),
    "East African": (
        ("Wanjiru", "Kamau", "Achieng", "Otieno", "Abebe", "Tigist", "Mekdes", "Juma", "Baraka", "Zawadi"),
        ("Mwangi", "Odhiambo", "Kiprono", "Tesfaye", "Bekele", "Haile", "Njoroge", "Mutua", "Kariuki", "Wekesa"),
    ),
    "Southern African": (
        ("Thabo", "Nomvula", "Sipho", "Lerato", "Kagiso", "Zanele", "Themba", "Naledi", "Bongani", "Palesa"),
        ("Dlamini", "Nkosi", "Mokoena", "Ndlovu", "Khumalo", "Molefe", "Mabaso", "Mahlangu", "Sithole", "Botha"),
    ),
    "South Asian": (
        ("Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Sneha", "Rahul", "Deepika", "Sanjay"),
        ("Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Chatterjee", "Menon", "Kapoor", "Desai"),
    ),
    "Japanese": (
        ("Haruto", "Yui", "Sota", "Aoi", "Ren", "Sakura", "Kenji", "Hana", "Takumi", "Emi"),
        ("Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Sato", "Kato"),
    ),
    "Chinese": (
        ("Wei", "Mei", "Jun", "Xiaoling", "Hao", "Yifan", "Lei", "Jing", "Zhen", "Ming"),
        ("Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu"),
    ),
    "Korean": (
        ("Minjun", "Seoyeon", "Jiwoo", "Hyun", "Jisoo", "Dohyun", "Yuna", "Taeyang", "Eunji", "Sungmin"),
        ("Kim", "Park", "Choi", "Jung", "Kang", "Yoon", "Jang", "Lim", "Han", "Shin"),
    ),
    "Vietnamese": (
        ("Linh", "Minh", "Thao", "Huong", "Duc", "Quang", "Lan", "Tuan", "Mai", "Phuong"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo"),
    ),
    "Arabic": (
        ("Omar", "Layla", "Yusuf", "Fatima", "Karim", "Noor", "Hassan", "Amira", "Tariq", "Rania"),
        ("Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Farouk", "Aziz", "Hamdan", "Al-Sayed", "Rahman"),
    ),
    "Persian and Turkish": (
        ("Dariush", "Shirin", "Reza", "Mehmet", "Elif", "Zeynep", "Arash", "Nasrin", "Kaan", "Ayla"),
        ("Yilmaz", "Demir", "Kaya", "Hosseini", "Karimi", "Tehrani", "Rostami", "Ozturk", "Celik", "Sahin"),
    ),
    "Latin American": (
        ("Mateo", "Valentina", "Santiago", "Camila", "Diego", "Lucia", "Alejandro", "Sofia", "Joaquin", "Ximena"),
        ("Gonzalez", "Rodriguez", "Hernandez", "Morales", "Castillo", "Ramirez", "Vargas", "Rojas", "Mendoza", "Flores"),
    ),
    "Western European": (
        ("Oliver", "Charlotte", "Lukas", "Chloe", "Matteo", "Giulia", "Pierre", "Camille", "Finn", "Sinead"),
        ("Smith", "Dubois", "Müller", "Rossi", "Bianchi", "Fischer", "Laurent", "Murphy", "O'Brien", "Jansen"),
    ),
    "Nordic": (
        ("Astrid", "Lars", "Ingrid", "Sven", "Freja", "Mikkel", "Elsa", "Nils", "Sigrid", "Anders"),
        ("Johansson", "Lindqvist", "Hansen", "Nilsen", "Andersen", "Virtanen", "Korhonen", "Eriksson", "Berg", "Dahl"),
    ),
    "Slavic": (
        ("Dmitri", "Olga", "Katarzyna", "Piotr", "Ivana", "Milan", "Natasha", "Bogdan", "Zofia", "Aleksandr"),
        ("Ivanov", "Kowalski", "Novak", "Petrov", "Horvat", "Wisniewski", "Volkov", "Kovalenko", "Dvorak", "Popescu"),
    ),
}

_ROOM_NAMES = ("Lisbon", "Kyoto", "Andes", "Turing", "Hypatia", "Sahara", "Amazon", "Fuji", "Baobab", "Aurora")
_WING_NAMES = ("Curie", "Fleming", "Jenner", "Salk", "Banting", "Apgar", "Avicenna", "Harvey", "Osler", "Seacole")
_WARD_NAMES = ("Rose", "Maple", "Oak", "Willow", "Cedar", "Birch", "Elm", "Jasmine", "Poppy", "Holly")
_LAB_NAMES = ("Hodgkin", "Mendel", "Darwin", "Faraday", "Meitner", "Ramanujan", "Noether", "Bose", "Yalow", "Lovelace")
_VENUE_NAMES = ("Crystal", "Emerald", "Magnolia", "Regency", "Ivory", "Camellia", "Horizon", "Monarch", "Coral", "Juniper")

ENTITY_LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    # slot: (entity type, fillers); the PER slots first, surname and person come from NAMES.
    "meeting_room": ("LOC", tuple(f"{n} meeting room" for n in _ROOM_NAMES) + tuple(f"{n} room" for n in _ROOM_NAMES)),
    "wing": ("LOC", tuple(f"{n} wing" for n in _WING_NAMES)),
    "ward": ("LOC", tuple(f"Ward {n}" for n in range(1, 16)) + tuple(f"{n} ward" for n in _WARD_NAMES)),
    "lab": ("LOC", tuple(f"{n} lab" for n in _LAB_NAMES)),
    "venue": ("LOC", tuple(f"{n} {hall}" for n in _VENUE_NAMES for hall in ("ballroom", "suite", "hall"))),
    "hotel_room": ("LOC", tuple(f"room {n}" for n in range(101, 930, 7))),
    "gate": ("LOC", tuple(f"gate {letter}{n}" for letter in "ABCDEFG" for n in range(1, 41))),
    "terminal": ("LOC", tuple(f"Terminal {n}" for n in range(1, 6)) + ("Terminal 1A", "Terminal 2B", "Terminal 3C")),
    "dock": ("LOC", tuple(f"dock {n}" for n in range(1, 26))),
    "aisle": ("LOC", tuple(f"aisle {n}" for n in range(1, 41))),
    "zone": ("LOC", tuple(f"zone {letter}" for letter in "ABCEFGHJKLMN")),
    "street": ("LOC", (
        "Baker Street", "Rue de Rivoli", "Calle Mayor", "Nevsky Prospekt", "Orchard Road", "Nathan Road",
        "Avenida Paulista", "Unter den Linden", "Bourke Street", "Queen Street", "Via del Corso",
        "Istiklal Avenue", "MG Road", "Kenyatta Avenue", "Nanjing Road",
    )),
    "city": ("LOC", (
        "Lisbon", "Lagos", "Mumbai", "Osaka", "Toronto", "São Paulo", "Cairo", "Istanbul", "Jakarta", "Manila",
        "Hanoi", "Dubai", "Johannesburg", "Lima", "Bogotá", "Warsaw", "Prague", "Vienna", "Madrid", "Dublin",
        "Edinburgh", "Helsinki", "Stockholm", "Kyiv", "Tehran", "Karachi", "Dhaka", "Kuala Lumpur", "Singapore",
        "Sydney", "Auckland", "Vancouver", "Chicago", "Houston", "Mexico City", "Buenos Aires", "Casablanca",
        "Dakar", "Kampala", "Hamburg", "Lyon", "Milan", "Taipei", "Busan", "Beijing", "Shanghai",
    )),
    "country": ("LOC", (
        "Japan", "Brazil", "Nigeria", "India", "Germany", "Canada", "Mexico", "Egypt", "Kenya", "Vietnam",
        "Poland", "Turkey", "Peru", "Indonesia", "South Korea", "New Zealand", "Argentina", "Sweden", "Ireland",
        "Ukraine", "Saudi Arabia", "Chile", "Colombia", "Thailand", "Australia", "Spain", "France", "Ghana",
    )),
    "company": ("ORG", (
        "Samsung", "Tata Steel", "Nestlé", "Sony", "Airbus", "Ericsson", "Nokia", "Mahindra", "Wipro", "Dangote",
        "MTN", "Shell", "BASF", "Novartis", "Roche", "Heineken", "Alibaba", "Baidu", "Petrobras", "Safaricom",
        "Spotify", "Renault", "Huawei", "Xiaomi", "Grupo Bimbo", "Aramco", "Emaar", "Naspers", "Telstra", "Inditex",
    )),
    "hospital": ("ORG", (
        "St. Mary's Hospital", "Mount Sinai", "Groote Schuur Hospital", "Apollo Hospital",
        "Great Ormond Street Hospital", "Mayo Clinic", "Aga Khan Hospital", "Johns Hopkins Hospital",
        "Royal Free Hospital", "Singapore General Hospital", "Hospital Italiano", "Cleveland Clinic",
        "Toronto General", "Pitié-Salpêtrière", "Kenyatta National Hospital",
    )),
    "university": ("ORG", (
        "Stanford", "the University of Tokyo", "Makerere University", "Tsinghua University", "the Sorbonne",
        "IIT Bombay", "the University of Cape Town", "McGill", "Universidad de Chile", "Heidelberg University",
        "Seoul National University", "the University of Nairobi", "TU Delft", "Monash University",
        "Cairo University", "MIT", "Oxford", "UNAM",
    )),
    "airline": ("ORG", (
        "Lufthansa", "KLM", "Air France", "Singapore Airlines", "Kenya Airways", "LATAM", "Avianca",
        "Japan Airlines", "Korean Air", "IndiGo", "Qatar Airways", "EgyptAir", "British Airways", "Iberia",
        "Aeroméxico", "Air Canada", "Etihad", "Vietnam Airlines", "Royal Air Maroc", "LOT", "Finnair",
        "South African Airways", "Garuda Indonesia",
    )),
    "courier": ("ORG", (
        "DHL", "TNT", "GLS", "Hermes", "Royal Mail", "La Poste", "Aramex", "Blue Dart", "SF Express", "Yamato",
        "Correos", "PostNL", "Canada Post", "Purolator", "Sagawa",
    )),
    "store": ("ORG", (
        "IKEA", "Zara", "Uniqlo", "Decathlon", "MediaMarkt", "Boots", "Carrefour", "Tesco", "Walmart", "Best Buy",
        "Muji", "H&M", "Primark", "Lush", "Daiso",
    )),
    "product": ("MISC", (
        "iPhone 15", "ThinkPad", "Galaxy S24", "iPad Mini", "PlayStation 5", "Surface Pro", "Apple Watch",
        "Dyson V15", "Nespresso", "Instant Pot", "Bose QuietComfort", "GoPro", "Echo Dot", "Fire TV Stick",
        "Polaroid", "Rubik's Cube", "Oculus Quest", "Huawei P60", "Steam Deck", "Walkman", "Fujifilm X100",
        "Tamagotchi", "Nerf blaster", "Bialetti", "MacBook Pro",
    )),
    "nationality": ("MISC", (
        "Mexican", "Indian", "Nigerian", "Thai", "Greek", "Turkish", "Lebanese", "Vietnamese", "Peruvian",
        "Moroccan", "Polish", "Swedish", "Kenyan", "Filipino", "Argentinian", "Canadian", "Egyptian", "Georgian",
        "Chilean", "Scottish",
    )),
    "language": ("MISC", (
        "Japanese", "Spanish", "Russian", "Dutch", "Ukrainian", "Bengali", "Urdu", "Yoruba", "Amharic", "Farsi",
        "Tamil", "Igbo", "Xhosa", "Malay", "Quechua", "Hebrew", "Punjabi", "Hausa", "Catalan", "Khmer",
    )),
    "event": ("MISC", (
        "Olympics", "Black Friday", "World Cup", "Lunar New Year", "Oktoberfest", "Eurovision", "Hanukkah",
        "Holi", "Songkran", "Day of the Dead", "Cyber Monday", "Valentine's Day", "New Year's Eve", "Mardi Gras",
        "Rugby World Cup", "Africa Cup of Nations", "Monaco Grand Prix", "Golden Week", "Chuseok", "Nowruz",
    )),
    "work": ("MISC", (
        "Toy Story", "Minecraft", "Harry Potter", "Pokémon", "Mario Kart", "Star Wars", "Naruto", "Doraemon",
        "Don Quixote", "Encanto", "Moby Dick", "War and Peace", "Bluey", "Peppa Pig", "Shrek", "Coco", "Dune",
        "One Piece", "Paddington", "Tetris",
    )),
}

SPLITS = ("train", "valid")


def _split(items: tuple[str, ...], split: str, valid_tail: int = 0) -> tuple[str, ...]:
    """Valid's share of a list: the last ``valid_tail`` items, or else every fifth item."""
    if valid_tail:
        return items[-valid_tail:] if split == "valid" else items[:-valid_tail]
    return tuple(item for i, item in enumerate(items) if (i % 5 == 4) == (split == "valid"))


@cache
def fillers(slot: str, split: str) -> tuple[str, tuple[str, ...]]:
    """(entity type, fillers) of a slot in the "train" or "valid" split; the two splits are disjoint."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if slot in ("first", "surname", "person"):
        firsts = {culture: _split(f, split, valid_tail=2) for culture, (f, _) in NAMES.items()}
        surnames = {culture: _split(s, split, valid_tail=2) for culture, (_, s) in NAMES.items()}
        if slot == "first":
            return "PER", tuple(name for names in firsts.values() for name in names)
        if slot == "surname":
            return "PER", tuple(name for names in surnames.values() for name in names)
        return "PER", tuple(f"{f} {s}" for culture in NAMES for f in firsts[culture] for s in surnames[culture])
    entity_type, items = ENTITY_LISTS[slot]
    return entity_type, _split(items, split)


@dataclass(frozen=True)
class Template:
    setting: str  # home, office, hospital, warehouse, retail, airport, hotel, lab
    kind: str  # request, question, statement
    text: str  # written form with slots, e.g. "Bring the {product} to {first}."


def _templates(setting: str, kind: str, *texts: str) -> list[Template]:
    return [Template(setting, kind, text) for text in texts]


TEMPLATES: list[Template] = [
    *_templates(
        "home", "request",
        "Bring the {product} to {first} in the living room.",
        "Please tell {first} that {person} called from {city}.",
        "Put the {product} on the kitchen table.",
        "Can you find my {product}? I think {first} borrowed it.",
        "Remind {first} to pack the {product} for the trip to {city}.",
        "Please play some {nationality} music while we cook.",
        "Switch the TV to the {event} coverage, please.",
        "Put {work} on for the kids.",
        "Could you vacuum the hallway before the guests arrive?",
    ),
    *_templates(
        "home", "question",
        "Where did {first} put the {product}?",
        "Is {first} back from {university} yet?",
        "What time is {first}'s flight to {city}?",
        "Did the {courier} parcel for {first} arrive?",
        "Have you seen the remote anywhere?",
    ),
    *_templates(
        "home", "statement",
        "{first} is coming over from {city} for the {event} party.",
        "{person} left her {product} by the front door.",
        "The {courier} driver is at the front door.",
        "My {nationality} neighbour is bringing dinner tonight.",
    ),
    *_templates(
        "office", "request",
        "Bring the charger to {first} in the {meeting_room}.",
        "Please take these documents to {person} on the third floor.",
        "Show the visitors from {company} to the {meeting_room}.",
        "Tell {person} that the {company} call starts in ten minutes.",
        "Book the {meeting_room} for {person} tomorrow morning.",
        "Print the {language} version of the report for {first}.",
        "Please deliver this {product} to {first} at the front desk.",
        "Collect the empty cups from the meeting rooms.",
        "Remind {first} that the {company} visitors from {country} speak {language}.",
    ),
    *_templates(
        "office", "question",
        "Where is {person}'s desk?",
        "Who is presenting in the {meeting_room} this afternoon?",
        "Has {first} signed the contract with {company}?",
        "Is the {meeting_room} free at two?",
        "Does anyone here speak {language}?",
    ),
    *_templates(
        "office", "statement",
        "{person} from {company} is waiting at reception.",
        "The {courier} courier needs a signature from {first}.",
        "{first} is working from the {city} office this week.",
        "The team from {company} flew in from {country} this morning.",
    ),
    *_templates(
        "hospital", "request",
        "Take these samples to Dr. {surname} in the {wing}.",
        "Please bring a wheelchair to {ward} for Mr. {surname}.",
        "Guide Mrs. {surname} to the {wing}, she has an appointment with Dr. {surname}.",
        "Deliver the lunch trays to {ward}.",
        "Call the {language} interpreter for the patient in {ward}.",
        "Tell Dr. {surname} that the transfer from {hospital} has arrived.",
        "Please page Dr. {person} to the emergency department.",
        "Take the clean linen to the third floor.",
    ),
    *_templates(
        "hospital", "question",
        "Where is Dr. {surname}'s office?",
        "Which ward is {person} in?",
        "Is Dr. {surname} on call tonight?",
        "How do I get to the {wing} from the main entrance?",
    ),
    *_templates(
        "hospital", "statement",
        "Mr. {surname} in {ward} is asking for his {product}.",
        "The ambulance from {hospital} is at the east entrance.",
        "Dr. {surname} moved the clinic to the {wing} today.",
        "{person}'s family has arrived from {city}.",
        "The patient in {ward} only speaks {language}.",
        "Dr. {surname} from {hospital} is giving a talk in the {wing}.",
    ),
    *_templates(
        "warehouse", "request",
        "Move the {product} pallets to {dock}.",
        "Take this order to {dock} for the {courier} pickup.",
        "Bring the {company} returns to {aisle}.",
        "Tell {first} that the truck from {city} is at {dock}.",
        "Restock {aisle} with {product} boxes.",
        "Load the {company} order onto the {courier} truck.",
        "Scan every box from {country} before it leaves {zone}.",
        "Sweep the loading bay before the next shift.",
    ),
    *_templates(
        "warehouse", "question",
        "How many {product} units are left in {aisle}?",
        "Which dock is the {courier} truck at?",
        "Has the shipment from {company} been checked in?",
        "Where should I put the {event} stock?",
        "Is the forklift charged?",
    ),
    *_templates(
        "warehouse", "statement",
        "The {courier} truck for {city} leaves at four.",
        "{first} found a damaged {product} in {aisle}.",
        "The container from {country} is waiting at {dock}.",
        "The {event} orders for {company} are packed.",
    ),
    *_templates(
        "retail", "request",
        "Show me where the {product} is.",
        "Take this customer to the {nationality} food section.",
        "Please call {first} to the electronics counter.",
        "Help me find the {product} for my son.",
        "Put the {event} decorations at the front of the store.",
        "Reserve the last {product} for {person}.",
        "Tell the manager that a customer wants to return a toaster.",
        "Ask {first} to order two more {product} boxes from the {store} in {city}.",
    ),
    *_templates(
        "retail", "question",
        "Do you sell the {product}?",
        "Is the {event} sale still on?",
        "Where is the {store} counter?",
        "Do you have any {nationality} cheese?",
        "Does the {store} in {city} have the {product} in stock?",
        "Do you have {work} in {language}?",
        "When does the shop close today?",
    ),
    *_templates(
        "retail", "statement",
        "{person} ordered the {product} online and wants to collect it.",
        "The {product} is out of stock until after the {event} weekend.",
        "The {store} delivery from {city} is late.",
        "{first} is looking for a book in {language}.",
    ),
    *_templates(
        "airport", "request",
        "Take me to {gate}.",
        "Please help Mr. {surname} get to {terminal}.",
        "Show this passenger the way to the {airline} check-in desk.",
        "Escort {person} from {gate} to the {airline} lounge.",
        "Page {person}, who is flying to {city} with {airline}.",
        "Find someone who speaks {language} for this passenger.",
        "Bring a trolley to the arrivals hall.",
        "Take Ms. {surname} and her {product} to the {airline} desk in {terminal}.",
    ),
    *_templates(
        "airport", "question",
        "Where is {gate}?",
        "Which terminal does {airline} fly from?",
        "Is the {airline} flight to {city} on time?",
        "How long does it take to walk from {terminal} to {gate}?",
        "Where can I buy a charger for the {product}?",
        "Where is the nearest coffee shop?",
    ),
    *_templates(
        "airport", "statement",
        "Mr. {surname} is waiting at {gate}.",
        "The {airline} flight from {city} is boarding at {gate}.",
        "{person}'s bag was sent to {city} by mistake.",
        "The {nationality} team for the {event} is arriving at {terminal}.",
    ),
    *_templates(
        "hotel", "request",
        "Send two towels to {hotel_room}.",
        "Please take {person}'s luggage to {hotel_room}.",
        "Book a table at the restaurant for {first} at eight.",
        "Call a taxi for {person} to {street}.",
        "Show the {company} guests to the {venue}.",
        "Bring a charger for the {product} to the guest in {hotel_room}.",
        "Please clean the lobby before noon.",
    ),
    *_templates(
        "hotel", "question",
        "Is {person} checked in yet?",
        "How far is {street} from here?",
        "Does the hotel have a shuttle to {terminal}?",
        "Where is the {venue}?",
        "Is there a good {nationality} restaurant near {street}?",
        "What time does the pool open?",
        "Has {person} from {company} asked for a taxi to {street}?",
    ),
    *_templates(
        "hotel", "statement",
        "{person} from {company} will arrive late tonight.",
        "The guests in {hotel_room} are celebrating the {event} weekend.",
        "The {nationality} tour group is checking in at six.",
        "{first} left her {product} at the front desk.",
    ),
    *_templates(
        "lab", "request",
        "Take these plates to {person} in the {lab}.",
        "Tell Professor {surname} that the samples from {university} have arrived.",
        "Bring the {product} from the {lab} to the seminar room.",
        "Order more gloves from {company}.",
        "Please send the results to {person} at {university}.",
        "Clean the fume hood when the experiment is finished.",
        "Ask {first} to show the {nationality} visitors around the {lab}.",
    ),
    *_templates(
        "lab", "question",
        "Is Professor {surname} in the {lab} today?",
        "When does {person}'s talk at {university} start?",
        "Has the {courier} package from {country} arrived?",
        "Who is using the microscope right now?",
        "Did {first} order the {product} from {company}?",
    ),
    *_templates(
        "lab", "statement",
        "{person} is visiting from {university} next week.",
        "The freezer in the {lab} is warming up.",
        "The {company} technician fixed the centrifuge in the {lab}.",
        "Professor {surname} flew to {country} for a conference.",
        "{person} from {university} is presenting in the {lab} at three.",
    ),
]


def fill(template: Template, rng: random.Random, split: str = "train") -> Sentence:
    """One sentence from a template: each slot replaced by a filler of ``split``, tagged B-/I-."""
    tokens: list[str] = []
    tags: list[str] = []
    for token in tokenize(template.text):
        slot = _SLOT.fullmatch(token)
        if slot is None:
            tokens.append(token)
            tags.append("O")
            continue
        entity_type, choices = fillers(slot.group(1), split)
        words = tokenize(rng.choice(choices))
        if words[0] == "the":  # "the University of Tokyo": the determiner is O
            tokens.append(words.pop(0))
            tags.append("O")
        if slot.group(2):
            words[-1] += "'s"
        tokens.extend(words)
        tags.extend([f"B-{entity_type}"] + [f"I-{entity_type}"] * (len(words) - 1))
    return Sentence(None, tokens, tags)


def generate(count: int, seed: int, cased: bool = True, split: str = "train") -> list[Sentence]:
    """``count`` sentences from templates drawn at random (deterministic per seed), in written
    casing or, with ``cased=False``, lower-cased; fillers come from ``split`` ("train" or "valid")."""
    rng = random.Random(seed)
    sentences = [fill(rng.choice(TEMPLATES), rng, split) for _ in range(count)]
    if not cased:
        sentences = [Sentence(s.image_id, [t.lower() for t in s.tokens], s.tags) for s in sentences]
    return sentences


_ARTICLES = {"a", "an", "the"}


def skeleton(sentence: Sentence) -> tuple[str, ...]:
    """Lower-cased words with each entity replaced by ``<TYPE>``, articles and punctuation dropped:
    equal for all sentences of one template, so it tells whether a sentence reuses a template."""
    words: list[str] = []
    previous = "O"
    for token, tag in zip(sentence.tokens, sentence.tags):
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            words.append(f"<{tag[2:]}>")
        elif tag == "O" and any(c.isalnum() for c in token) and token.lower() not in _ARTICLES:
            words.append(token.lower())
        previous = tag
    return tuple(words)


def write_conll(path: Path, sentences: list[Sentence]) -> None:
    """Write ``token<TAB>tag`` lines, a blank line after each sentence (no IMGID lines)."""
    lines = []
    for sentence in sentences:
        lines.extend(f"{token}\t{tag}" for token, tag in zip(sentence.tokens, sentence.tags))
        lines.append("")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.robot_commands", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for train.txt and valid.txt")
    parser.add_argument("--train", type=int, default=3000, help="training sentences (default 3000)")
    parser.add_argument("--valid", type=int, default=500, help="validation sentences (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="train uses seed, valid seed + 1")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, count, seed in (("train", args.train, args.seed), ("valid", args.valid, args.seed + 1)):
        write_conll(args.out / f"{name}.txt", generate(count, seed, split=name))
        print(f"{args.out / name}.txt: {count} sentences")


if __name__ == "__main__":
    main()
