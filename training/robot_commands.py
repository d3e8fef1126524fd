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

ORG or MISC, decided per mention as in the README:

- A maker (``_MAKERS``: Samsung, Bosch, Canon, …) is ORG when it acts, sends, sells or owns ("Has
  Lenovo delivered the reagents?", ``{company}``) and MISC when its name names an object ("the Bosch
  kettle", "a Samsung charger", ``{brand}``). Only the name is the entity; the object noun after it is
  O. ``company`` and ``brand`` both start with ``_MAKERS`` in the same order, so a maker falls in the
  same split in both. A template never writes ``{company}`` before an object noun: "a {brand} phone",
  not "a {company} phone". Clothing and luggage brands (``{apparel}``), lab-equipment brands
  (``{lab_brand}``), food and drink brands (``{food}``), apps and software (``{app}``), vehicle models
  (``{vehicle}``), films and series (``{show}``) and other works (``{work}``) are MISC.
- Sports clubs (``{team}``), government bodies and charities (``{agency}``), banks (``{bank}``),
  cafés and restaurant chains (``{cafe}``) are ORG, also as where one goes or whose match or
  supporters are meant ("the Celtic supporters", "the Jollibee near gate B12").
- Nationality adjectives are MISC wherever they stand ("the Thai restaurant", "a Kenyan start-up"),
  languages too ("a Tamil interpreter", "speaks Farsi").
- Generic uses stay O: "an apple", "these oranges", departments and kinship words even when
  capitalised ("Ask IT …", "Tell Housekeeping …", "Pharmacy", "Grandma").
- A filler's leading lower-case "the" ("the Red Cross", "the Sorbonne") is O, written "The" when it
  starts the sentence; templates never put their own "the" before such a slot. Titles whose "The"
  belongs to the work ("The Hobbit") are left out of the lists, because the entity would then start
  with a determiner, which the tests forbid for generated data.
- The lists leave out the README's newer example entities and keep most of the hand-written test set's entities
  out (``test_hand_written_entities_are_mostly_not_in_generator_lists``), so the test set still
  measures unseen names.
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

_MAKERS = (
    "Samsung", "Sony", "Bosch", "Lenovo", "Canon", "Xiaomi", "Huawei", "Nokia", "LG", "Panasonic", "Siemens",
    "Miele", "Nikon", "Asus", "Hisense", "Tefal", "Braun", "Logitech", "Apple", "Toshiba", "Haier", "Electrolux",
    "Garmin", "Oppo", "Tecno", "Brother", "Epson", "Kärcher", "Husqvarna", "Yamaha",
)

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
    # Makers are companies (ORG: "Bosch sent a technician") and brands naming an object (MISC: "the
    # Bosch drill"); the two lists start with the same makers in the same order, so a maker falls in
    # the same split in both.
    "company": ("ORG", _MAKERS + (
        "Tata Steel", "Nestlé", "Airbus", "Ericsson", "Mahindra", "Wipro", "Dangote", "MTN", "Shell", "BASF",
        "Novartis", "Roche", "Heineken", "Alibaba", "Baidu", "Petrobras", "Safaricom", "Spotify", "Renault",
        "Grupo Bimbo", "Aramco", "Emaar", "Naspers", "Telstra", "Inditex", "Accenture",
        "Unilever", "Orange", "Equinor", "Tencent", "Rakuten", "Cemex", "Embraer",
        "Natura", "Mercado Libre", "Flipkart", "Grab", "Gojek", "Jumia", "Reliance", "Foxconn", "Airtel",
        "Globe Telecom", "Bayer", "Pfizer", "Sanofi", "Allianz", "AXA", "Old Mutual", "Ping An", "Bupa",
        "Sanlam", "Ecopetrol", "Zain", "Kuehne+Nagel", "Hitachi",
    )),
    "brand": ("MISC", _MAKERS + (
        "JBL", "Sennheiser", "Energizer", "Casio", "Seiko", "Thermos", "Zojirushi",
        "Tupperware", "Moleskine", "Sharpie", "Stabilo", "Faber-Castell", "GoPro", "Fujifilm", "Anker",
        "Belkin", "Makerbot", "DeLonghi", "Smeg", "Vitamix", "Black & Decker", "DeWalt", "Stihl", "Hilti",
        "Weber", "Beko", "Arçelik", "Godrej",
    )),
    "apparel": ("MISC", (
        "Adidas", "Puma", "Reebok", "Converse", "Vans", "Crocs", "Birkenstock", "Havaianas", "Ray-Ban",
        "Samsonite", "Rimowa", "Timberland", "Fjällräven", "Patagonia", "Bata", "Onitsuka Tiger", "Asics",
        "New Balance", "Lacoste", "Tommy Hilfiger", "Longchamp", "Eastpak", "Kipling", "Herschel", "Moncler",
        "Clarks", "Salomon", "Mizuno", "Nautica", "Woodland",
    )),
    "lab_brand": ("MISC", (
        "Eppendorf", "Gilson", "Corning", "Sartorius", "Zeiss", "Leica", "Bio-Rad", "Thermo Scientific",
        "Agilent", "Shimadzu", "Mettler Toledo", "Qiagen", "Illumina", "Oxford Nanopore", "Bruker",
        "Beckman Coulter", "Nalgene", "Kimtech", "Hettich", "Memmert",
    )),
    "food": ("MISC", (
        "Coca-Cola", "Pepsi", "Fanta", "Sprite", "Red Bull", "Nutella", "Milo", "Maggi", "Indomie", "Pocky",
        "Yakult", "Oreo", "KitKat", "Pringles", "Tabasco", "Marmite", "Vegemite", "Toblerone", "Lipton",
        "Nescafé", "Horlicks", "Ovaltine", "Inca Kola", "Guaraná Antarctica", "Tim Tams", "Haribo",
        "Ferrero Rocher", "Barilla", "Doritos", "Weetabix", "Perrier", "Evian", "Tusker",
        "Asahi", "Tsingtao", "Shin Ramyun", "Cup Noodle", "Lucozade", "Ribena", "Vimto", "Peak Milk",
        "Bournvita", "Parle-G", "Amul",
    )),
    "app": ("MISC", (
        "Google Maps", "Excel", "PowerPoint", "WeChat",
        "Telegram", "Instagram", "TikTok", "YouTube", "Duolingo", "Waze", "M-Pesa", "Paytm", "GCash",
        "KakaoTalk", "Google Calendar", "Google Docs", "Photoshop", "AutoCAD", "MATLAB", "Jira", "Trello",
        "Notion", "Figma", "Canva", "Windows 11", "Android", "LibreOffice", "Outlook", "Alipay", "PhonePe",
        "SPSS",
    )),
    "vehicle": ("MISC", (
        "Toyota Corolla", "Honda Civic", "Tesla Model 3", "Ford Ranger", "Volkswagen Golf", "Nissan Leaf",
        "Hyundai Tucson", "Kia Sportage", "Renault Clio", "Fiat 500", "Mahindra Thar", "Maruti Swift",
        "BYD Atto 3", "Peugeot 208", "Volvo XC90", "Mini Cooper", "Toyota Hilux", "Suzuki Jimny",
        "Land Cruiser", "Vespa", "Ducati Monster", "Proton Saga", "Lada Niva", "Škoda Octavia",
        "Subaru Outback", "Mazda CX-5", "Range Rover", "Tata Nexon", "Citroën C3", "Isuzu D-Max",
    )),
    "show": ("MISC", (
        "Squid Game", "Money Heist", "Breaking Bad", "Game of Thrones", "Stranger Things", "Spirited Away",
        "Parasite", "Black Panther", "Slumdog Millionaire", "Amélie", "Narcos", "Sherlock",
        "Doctor Who", "Dragon Ball", "Attack on Titan", "Avatar", "Titanic", "Inception", "Jurassic Park",
        "Finding Nemo", "Moana", "Kung Fu Panda", "Dangal", "RRR", "Crash Landing on You", "Call the Midwife",
        "Grey's Anatomy", "King of Boys", "City of God", "My Neighbour Totoro", "Lupin", "Élite", "Sailor Moon",
        "Masterchef",
    )),
    "team": ("ORG", (
        "Real Madrid", "FC Barcelona", "Manchester United", "Bayern Munich", "Boca Juniors", "Flamengo",
        "Al Ahly", "Kaizer Chiefs", "Orlando Pirates", "Galatasaray", "Juventus", "Ajax", "Celtic",
        "LA Lakers", "New York Yankees", "All Blacks", "Springboks", "Mumbai Indians", "Chennai Super Kings",
        "Yomiuri Giants", "Urawa Reds", "Club América", "River Plate", "Paris Saint-Germain", "Benfica",
        "FC Porto", "Wydad", "Enyimba", "Gor Mahia", "Toronto Raptors", "Hanshin Tigers", "Jeonbuk Motors",
        "Wallabies", "Mamelodi Sundowns", "Red Star Belgrade", "Legia Warsaw", "Fenerbahçe", "Olympiacos",
        "Al Hilal", "Persija Jakarta",
    )),
    "agency": ("ORG", (
        "the Red Cross", "UNICEF", "the WHO", "Médecins Sans Frontières", "Oxfam", "the UN", "UNHCR",
        "the World Bank", "Save the Children", "Greenpeace", "WWF", "Amnesty International",
        "the NHS", "the FDA", "NASA", "ESA", "JAXA", "ISRO", "the European Commission", "Interpol", "the IMF",
        "the African Union", "ASEAN", "the CDC", "the Ministry of Health", "the Met Office", "FEMA",
        "the Salvation Army", "Habitat for Humanity", "BRAC", "the Aga Khan Foundation", "the Gates Foundation",
        "the RSPCA", "the Wellcome Trust", "the World Food Programme", "UNESCO", "Caritas", "the Peace Corps",
        "the Home Office",
    )),
    "bank": ("ORG", (
        "HSBC", "Barclays", "Standard Chartered", "Banco do Brasil", "ICICI Bank", "Access Bank", "Equity Bank",
        "BBVA", "Santander", "Deutsche Bank", "Nordea", "ING", "Commonwealth Bank", "Maybank", "DBS", "Itaú",
        "Bancolombia", "Mizuho", "Ecobank", "Absa", "GTBank", "HDFC Bank", "Westpac", "Raiffeisen", "BNP Paribas",
    )),
    "cafe": ("ORG", (
        "Starbucks", "Tim Hortons", "Pret A Manger", "Café Coffee Day", "Nando's", "KFC", "McDonald's",
        "Jollibee", "Chicken Republic", "Java House", "Juan Valdez", "Tim Ho Wan", "Din Tai Fung", "Caffè Nero",
        "Gloria Jean's", "Doutor", "Tous les Jours", "Paris Baguette", "Krispy Kreme", "Pizza Hut", "Domino's",
        "Wagamama", "Itsu", "Mos Burger", "Chipotle",
    )),
    "hospital": ("ORG", (
        "St. Mary's Hospital", "Mount Sinai", "Groote Schuur Hospital", "Apollo Hospital",
        "Great Ormond Street Hospital", "Mayo Clinic", "Aga Khan Hospital", "Johns Hopkins Hospital",
        "Royal Free Hospital", "Singapore General Hospital", "Hospital Italiano", "Cleveland Clinic",
        "Toronto General", "Pitié-Salpêtrière", "Kenyatta National Hospital",
        "Karolinska University Hospital", "Tygerberg Hospital", "Lagos University Teaching Hospital",
        "Chris Hani Baragwanath Hospital", "Hospital Sírio-Libanês", "Tata Memorial Hospital", "AIIMS",
        "Siriraj Hospital", "Bumrungrad", "Addenbrooke's", "Guy's Hospital", "Sunnybrook",
        "Massachusetts General", "Rigshospitalet", "Hôpital Necker", "Rambam", "Hospital Clínic",
        "Asan Medical Center", "Korle Bu", "Mulago Hospital", "Westmead Hospital", "Starship Children's Hospital",
    )),
    "university": ("ORG", (
        "Stanford", "the University of Tokyo", "Makerere University", "Tsinghua University", "the Sorbonne",
        "IIT Bombay", "the University of Cape Town", "McGill", "Universidad de Chile", "Heidelberg University",
        "Seoul National University", "the University of Nairobi", "TU Delft", "Monash University",
        "Cairo University", "MIT", "Oxford", "UNAM", "the Pasteur Institute", "CERN", "RIKEN", "CSIRO",
        "the Karolinska Institute", "KAIST", "EPFL", "ETH Zurich", "the Weizmann Institute", "NUS",
        "Peking University", "the University of Ghana", "the University of Lagos", "Jagiellonian University",
        "Chulalongkorn University", "Ateneo de Manila", "Universitas Indonesia", "Addis Ababa University",
        "the Max Planck Institute", "Wits University", "Kyoto University", "the University of São Paulo",
    )),
    "airline": ("ORG", (
        "Lufthansa", "KLM", "Air France", "Singapore Airlines", "Kenya Airways", "LATAM", "Avianca",
        "Japan Airlines", "Korean Air", "IndiGo", "Qatar Airways", "EgyptAir", "British Airways", "Iberia",
        "Aeroméxico", "Air Canada", "Etihad", "Vietnam Airlines", "Royal Air Maroc", "LOT", "Finnair",
        "South African Airways", "Garuda Indonesia", "Emirates", "Turkish Airlines", "Ethiopian Airlines",
        "Air India", "Cathay Pacific", "ANA", "Asiana", "Cebu Pacific", "AirAsia", "Air New Zealand",
        "Aerolíneas Argentinas", "Copa Airlines", "Air Peace", "RwandAir", "Saudia", "Wizz Air", "Ryanair",
        "Aer Lingus", "TAP Air Portugal", "Vueling", "Virgin Atlantic", "Delta", "WestJet", "Volaris", "Azul",
        "Thai Airways", "Malaysia Airlines", "Philippine Airlines", "China Eastern", "Air China", "EVA Air",
        "Jetstar",
    )),
    "courier": ("ORG", (
        "DHL", "TNT", "GLS", "Hermes", "Royal Mail", "La Poste", "Aramex", "Blue Dart", "SF Express", "Yamato",
        "Correos", "PostNL", "Canada Post", "Purolator", "Sagawa", "Australia Post", "India Post",
        "Japan Post", "Deutsche Post", "Poste Italiane", "Correios", "J&T Express", "Ninja Van", "Lalamove",
        "Delhivery", "DPD", "Evri", "Chronopost", "InPost", "Nova Poshta", "CDEK", "Estafeta", "Sendy", "Fargo",
    )),
    "store": ("ORG", (
        "IKEA", "Zara", "Uniqlo", "Decathlon", "MediaMarkt", "Boots", "Carrefour", "Tesco", "Walmart", "Best Buy",
        "Muji", "H&M", "Primark", "Lush", "Daiso", "Aldi", "Lidl", "Costco", "Shoprite", "Pick n Pay",
        "Lulu Hypermarket", "DMart", "FamilyMart", "Lawson", "Don Quijote", "Oxxo", "Falabella",
        "El Corte Inglés", "Galeries Lafayette", "Harrods", "Marks & Spencer", "John Lewis", "Woolworths",
        "Coles", "Miniso", "Nitori", "Bic Camera", "Fnac", "Clas Ohlson", "Rossmann", "Biedronka", "Migros",
        "Watsons", "Croma", "Takealot",
    )),
    "product": ("MISC", (
        "iPhone 15", "ThinkPad", "Galaxy S24", "iPad Mini", "PlayStation 5", "Surface Pro", "Apple Watch",
        "Dyson V15", "Nespresso", "Instant Pot", "Bose QuietComfort", "GoPro Hero", "Echo Dot", "Fire TV Stick",
        "Polaroid", "Rubik's Cube", "Oculus Quest", "Huawei P60", "Steam Deck", "Walkman", "Fujifilm X100",
        "Tamagotchi", "Nerf blaster", "Bialetti", "MacBook Pro", "Galaxy Buds", "Kindle Paperwhite",
        "Nintendo Switch", "Xbox Series X", "AirPods Pro", "Redmi Note 13", "Tecno Camon 20", "Infinix Hot 40",
        "Chromebook", "Fitbit Charge 6", "Apple Pencil", "Surface Laptop", "Xperia 1",
        "Moto G", "OnePlus 12", "Raspberry Pi", "Arduino Uno", "Jetson Nano", "Leica M11", "Canon EOS R5",
        "Game Boy", "Galaxy Tab S9", "iPad Pro", "Meta Quest 3", "Vision Pro", "Nothing Phone", "Yoga Slim 7",
        "Bosch Serie 8",
    )),
    "nationality": ("MISC", (
        "Mexican", "Indian", "Nigerian", "Thai", "Greek", "Turkish", "Lebanese", "Vietnamese", "Peruvian",
        "Moroccan", "Polish", "Swedish", "Kenyan", "Filipino", "Argentinian", "Canadian", "Egyptian", "Georgian",
        "Chilean", "Scottish", "Ethiopian",
        "Ghanaian", "Jamaican", "Cuban", "Colombian", "Malaysian", "Indonesian", "Pakistani", "Bangladeshi",
        "Sri Lankan", "Nepali", "Iranian", "Syrian", "Palestinian", "Senegalese", "Ugandan", "Tanzanian",
        "Zimbabwean", "South African", "Australian", "Irish", "Welsh", "Danish", "Norwegian", "Finnish",
        "Austrian", "Swiss", "Belgian", "Hungarian", "Czech", "Romanian", "Croatian", "Taiwanese", "Mongolian",
        "Cambodian", "Venezuelan", "Ecuadorian", "Haitian", "Samoan", "Fijian", "American", "British",
        "Emirati", "Uruguayan",
    )),
    "language": ("MISC", (
        "Japanese", "Spanish", "Russian", "Dutch", "Ukrainian", "Bengali", "Urdu", "Yoruba", "Amharic", "Farsi",
        "Tamil", "Igbo", "Xhosa", "Malay", "Quechua", "Hebrew", "Punjabi", "Hausa", "Catalan", "Khmer",
        "Zulu", "Somali",
        "Tigrinya", "Wolof", "Kurdish", "Pashto", "Marathi", "Telugu", "Gujarati", "Sinhala", "Burmese", "Lao",
        "Javanese", "Cebuano", "Guarani", "Aymara", "Basque", "Yiddish", "Armenian", "Kazakh", "Uzbek",
        "American Sign Language", "Haitian Creole", "Lingala", "Shona", "Sesotho", "Afrikaans", "Malayalam",
        "Kannada", "Icelandic", "Albanian", "Bulgarian", "Slovak",
    )),
    "event": ("MISC", (
        "Olympics", "Black Friday", "World Cup", "Lunar New Year", "Oktoberfest", "Eurovision", "Hanukkah",
        "Holi", "Songkran", "Day of the Dead", "Cyber Monday", "Valentine's Day", "New Year's Eve", "Mardi Gras",
        "Rugby World Cup", "Africa Cup of Nations", "Monaco Grand Prix", "Golden Week", "Chuseok", "Nowruz",
        "Rio Carnival", "Notting Hill Carnival",
        "Passover", "Yom Kippur", "Vesak", "Onam", "Pongal", "Durga Puja", "Tet", "Obon", "Mid-Autumn Festival",
        "Dragon Boat Festival", "Hari Raya", "Kwanzaa", "Bastille Day", "Super Bowl", "Tour de France",
        "Australian Open", "Cricket World Cup", "Commonwealth Games", "Paralympics", "Asian Games", "Copa América",
        "Singles' Day", "Prime Day", "Comic-Con", "Mobile World Congress", "Web Summit", "Gamescom",
        "St. Patrick's Day", "Ganesh Chaturthi", "Loy Krathong", "Inti Raymi", "Timkat", "Eid al-Adha", "Purim",
        "Hogmanay", "Midsummer", "Sinterklaas", "King's Day", "La Tomatina", "Fashion Week",
        "Hajj",
    )),
    "work": ("MISC", (
        "Toy Story", "Minecraft", "Harry Potter", "Pokémon", "Mario Kart", "Star Wars", "Naruto", "Doraemon",
        "Don Quixote", "Encanto", "Moby Dick", "War and Peace", "Bluey", "Peppa Pig", "Shrek", "Coco", "Dune",
        "One Piece", "Paddington", "Tetris", "Half of a Yellow Sun", "One Hundred Years of Solitude",
        "Norwegian Wood", "Le Petit Prince", "Pride and Prejudice", "Matilda", "Charlotte's Web", "Gangnam Style",
        "Despacito", "Bohemian Rhapsody", "Thriller", "Fortnite", "FIFA 24", "Zelda", "Animal Crossing",
        "Among Us", "Candy Crush", "Anna Karenina", "Hamlet", "Romeo and Juliet", "Final Fantasy",
        "Journey to the West", "Purple Hibiscus", "Americanah", "Midnight's Children", "Kafka on the Shore",
        "Love in the Time of Cholera", "Winnie the Pooh", "Alice in Wonderland", "Heidi", "Pippi Longstocking",
        "Astérix", "Tintin", "Moomin", "Wolf Totem", "Gitanjali", "Pedro Páramo", "Cien Años de Soledad",
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
    # ORG and MISC in more positions: sentence-initial, after prepositions, possessive, two in a row;
    # a maker is MISC before an object noun and ORG when it acts; entity-free ones keep capitalised
    # generic words (Grandma, IT, Pharmacy, Housekeeping) and generic "apple" or "orange" O.
    *_templates(
        "home", "request",
        "Add {food} and {food} to the shopping list.",
        "Order a new {brand} charger, the old one stopped working.",
        "Put the {team} match on in the living room.",
        "Open {app} on the tablet and call {first}.",
        "Find the next episode of {show} for the kids.",
        "Take my {apparel} trainers out to the hallway.",
        "Tell {first} that the {vehicle} needs washing before we drive to {city}.",
        "Look up a {nationality} recipe for dinner tonight.",
        "Read {first} a chapter of {work} before bed.",
        "Donate the old coats to {agency}.",
        "Pack the {product} and the {product} for {first}'s trip.",
        "Bring me an apple and a glass of water.",
        "Let Grandpa know the soup is ready.",
    ),
    *_templates(
        "home", "question",
        "Is there any {food} left in the fridge?",
        "Did {team} win last night?",
        "Where is the manual for the {brand} washing machine?",
        "Who borrowed my {apparel} jacket?",
        "Can you translate this letter from {language} for Grandma?",
        "When does the new season of {show} come out?",
        "Is the parcel from {store} for me or for {first}?",
        "Has {company} sent the new router yet?",
    ),
    *_templates(
        "home", "statement",
        "{first}'s {apparel} bag is on the stairs.",
        "{agency} called about the volunteering weekend.",
        "The {vehicle} is parked on {street}.",
        "We're out of {food} again.",
        "Grandpa only watches {show} on Sundays.",
        "The {brand} kettle keeps switching itself off.",
        "Our {nationality} neighbours invited us over for {event}.",
        "{store} sent the wrong size again.",
        "Mum says the bins go out on Tuesday.",
    ),
    *_templates(
        "office", "request",
        "Set up a {app} call with {person} for Monday.",
        "Send the invoice to {company} before Friday.",
        "Take the {brand} projector back to the IT desk.",
        "Ask the {bank} adviser to wait in the {meeting_room}.",
        "Order lunch from {cafe} for the {company} workshop.",
        "Get the {meeting_room} ready for the delegation from {agency}.",
        "Translate the {company} slides into {language}.",
        "Print twenty copies of {agency}'s annual report.",
        "Ask IT to look at the printer on the second floor.",
    ),
    *_templates(
        "office", "question",
        "Is {company} still our supplier for the {brand} laptops?",
        "Who is meeting the people from {agency} today?",
        "Did {first} send the slides on {app}?",
        "Which {bank} branch is closest to the office?",
        "Has {company} paid the invoice yet?",
        "Is the {brand} screen in the {meeting_room} working again?",
        "Does {person} speak {language} or {language}?",
    ),
    *_templates(
        "office", "statement",
        "{company} moved the meeting to Thursday.",
        "The {brand} printer on the second floor is jammed again.",
        "{person} is back from the {event} trade fair.",
        "Our new client is a {nationality} start-up based in {city}.",
        "The delegation from {company} prefers {nationality} food.",
        "{first} left her {apparel} jacket in the {meeting_room}.",
        "The Wi-Fi in the boardroom is down again.",
    ),
    *_templates(
        "hospital", "request",
        "Phone {agency} about the blood donation drive.",
        "Tell the family from {country} that a {language} interpreter is on the way.",
        "Take the {brand} ultrasound scanner to {ward}.",
        "Send the scans to {hospital} for a second opinion.",
        "Put {show} on the TV in the children's ward.",
        "Fetch a bottle of {food} for the patient in {ward}.",
        "Escort the {nationality} delegation to the {wing}.",
        "Ask Pharmacy to send up the evening medication.",
    ),
    *_templates(
        "hospital", "question",
        "Is the interpreter for {language} here yet?",
        "Has {hospital} sent over the patient's records?",
        "Which nurse is looking after {first} in {ward}?",
        "Does Mr. {surname} have insurance with {company}?",
        "Are the volunteers from {agency} coming today?",
        "Where did Dr. {surname} leave the {brand} tablet?",
    ),
    *_templates(
        "hospital", "statement",
        "{agency} donated the new incubators in {ward}.",
        "The {brand} pump in {ward} keeps beeping.",
        "Mrs. {surname} is fasting for {event}, so skip her lunch tray.",
        "Dr. {surname} trained at {university} and at {hospital}.",
        "The patient in bed 4 only wants to watch {show}.",
        "{person} from {agency} is waiting in the {wing}.",
        "Radiology says the scanner is back up.",
    ),
    *_templates(
        "warehouse", "request",
        "Stack the {food} crates next to {aisle}.",
        "Put the {brand} returns in {zone}.",
        "Load the {apparel} boxes onto the {courier} van.",
        "Park the {vehicle} by {dock}.",
        "Move everything for {store} to {dock} by noon.",
        "Print new labels in {language} for the shipment to {country}.",
        "Count the {product} units before {courier} arrives.",
        "Send the relief parcels for {agency} out first.",
        "Tell Receiving that the pallets on the left are damaged.",
    ),
    *_templates(
        "warehouse", "question",
        "When is {courier} collecting from {dock}?",
        "Are the {brand} boxes for {store} ready?",
        "Did {company} confirm the pickup for Tuesday?",
        "How many crates of {food} came in this morning?",
        "Which zone holds the {event} stock for {store}?",
        "Who signed for the delivery from {agency}?",
    ),
    *_templates(
        "warehouse", "statement",
        "{courier} dropped off twelve pallets at {dock}.",
        "The {food} order for {store} is short by three cases.",
        "{first} drove the {vehicle} to the depot in {city}.",
        "The {brand} scanners in {zone} need charging.",
        "{company} is sending a technician to fix the conveyor.",
        "The forklift in the north bay has a flat tyre.",
    ),
    *_templates(
        "retail", "request",
        "Show me the {apparel} trainers in size nine.",
        "Find me a {brand} charger that fits this phone.",
        "Put the {food} on the {event} promotion shelf.",
        "Take this customer to the {apparel} stand.",
        "Help this gentleman find a {language} dictionary.",
        "Gift-wrap the {work} box set for {first}.",
        "Compare the {product} with the {product} for me.",
        "Ask Customer Service to ring the manager.",
    ),
    *_templates(
        "retail", "question",
        "Do you have {food} in the big bottle?",
        "Is the {brand} blender cheaper here or at {store}?",
        "Which aisle has the {nationality} spices?",
        "Do you take {app} payments?",
        "Is this {apparel} jacket waterproof?",
        "Have you got the {show} lunchbox for kids?",
        "Are the {event} discounts valid at {store} too?",
        "Are these oranges from {country}?",
    ),
    *_templates(
        "retail", "statement",
        "The {brand} headphones are on offer until Sunday.",
        "{store} is price-matching the {product} this week.",
        "A customer left her {apparel} bag by the fitting rooms.",
        "The {nationality} wine is on the bottom shelf.",
        "{person} from {company} wants to talk to the manager.",
        "{food} is on special offer in {aisle}.",
        "The card machine at the front is broken.",
    ),
    *_templates(
        "airport", "request",
        "Take me to the {cafe} near {gate}.",
        "Find the {bank} cash machine in {terminal}.",
        "Help this family with their {apparel} suitcases.",
        "Announce that the {airline} flight to {city} is delayed.",
        "Bring the lost {product} to the {airline} desk.",
        "Show the {team} players to the VIP lounge.",
        "Translate this announcement into {language} and {language}.",
        "Escort the medical team from {agency} to {gate}.",
        "Ask Lost Property whether anyone handed in a black backpack.",
    ),
    *_templates(
        "airport", "question",
        "Is there a {cafe} after security?",
        "Which gate is the {airline} flight to {country} leaving from?",
        "Does {airline} let me take a {product} in my hand luggage?",
        "Where can I rent a {vehicle}?",
        "Is the {nationality} consulate open today?",
        "Can I pay with {app} at the duty-free shop?",
    ),
    *_templates(
        "airport", "statement",
        "{airline} cancelled the morning flight to {city}.",
        "The {team} squad lands at {terminal} at nine.",
        "A passenger from {country} needs a {language} speaker.",
        "My {apparel} suitcase never came off the belt.",
        "The {cafe} in {terminal} closes at midnight.",
        "{person} is flying {airline} to {city} for the {event}.",
        "Passport Control is very busy this morning.",
    ),
    *_templates(
        "hotel", "request",
        "Book two tickets for the {team} game on Saturday.",
        "Send up a bottle of {food} to {hotel_room}.",
        "Reserve the {venue} for the {company} dinner.",
        "Arrange a {language} speaking guide for {person}.",
        "Bring the {vehicle} round to the front for {first}.",
        "Put the {event} decorations up in the lobby.",
        "Get {person} a taxi to {hospital}.",
        "Find a charger for a {brand} laptop for the guest in {hotel_room}.",
        "Tell Housekeeping that the minibar needs restocking.",
    ),
    *_templates(
        "hotel", "question",
        "Is there a {cafe} near the hotel?",
        "Does the restaurant serve a {nationality} breakfast?",
        "Can I watch {show} on the room TV?",
        "Where are the delegates from {agency} having lunch?",
        "Is the {bank} branch on {street} open on Saturdays?",
        "Do you have adapters for {brand} chargers?",
    ),
    *_templates(
        "hotel", "statement",
        "The {team} supporters in {hotel_room} are very noisy.",
        "{person} wants a late checkout after the {event} gala.",
        "The {nationality} wedding party has booked the {venue}.",
        "A {vehicle} is blocking the hotel entrance.",
        "{company} is paying for {person}'s room.",
        "The Concierge says the lifts are being serviced.",
    ),
    *_templates(
        "lab", "request",
        "Order a new box of {lab_brand} pipette tips.",
        "Send the samples to {agency} for testing.",
        "Book the {lab_brand} microscope for {first} on Thursday.",
        "Move the {lab_brand} centrifuge next to the sink.",
        "Translate the safety sheet into {language} for the visiting students.",
        "Open the {app} file on the lab computer.",
        "Ask {first} to take the visitors from {university} to the {lab}.",
        "Tell Safety that the eyewash station is empty.",
    ),
    *_templates(
        "lab", "question",
        "Is the {lab_brand} sequencer free this afternoon?",
        "Did {agency} approve the grant for {person}'s project?",
        "Has {company} delivered the reagents yet?",
        "Who left the {brand} laptop in the {lab}?",
        "Is {person} still collaborating with {university}?",
        "Which version of {app} is installed on this machine?",
    ),
    *_templates(
        "lab", "statement",
        "{company} is sending a new rotor next week.",
        "The {lab_brand} incubator in the {lab} is set to thirty-seven degrees.",
        "{person} won a grant from {agency}.",
        "The visiting {nationality} students start on Monday.",
        "{first} is away for {event} until Tuesday.",
        "{university} is sending two students next term.",
        "The {lab_brand} balance needs calibrating before the run.",
        "The autoclave on the third floor is out of order.",
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
        if words[0] == "the":  # "the University of Tokyo": the determiner is O ("The" to start a sentence)
            words.pop(0)
            tokens.append("the" if tokens else "The")
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
