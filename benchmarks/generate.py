"""A deterministic synthetic corpus in the project's own fixture format (see fixtures/FORMAT.md).

    python benchmarks/generate.py N [--out DIR] [--seed S] [--per-source K] [--jobs J]

writes, for N events,

    DIR/seeds/syn_NNNNN.txt + .json            one synthetic Arabic source text per K events (default 1,000)
    DIR/fixtures/codebook.json                 every CAMEO code of ../shared/reference (required)
    DIR/fixtures/syn_NNNNN/{participants,places,events,statements}.ndjson

Realistic for event data, not for its meaning: a pool of ~5,000 actors (persons with
Arabic and English names and aliases, ministries, news agencies, international
organisations, countries, groups) and 250 places with coordinates, both Zipf-popular;
each source covers a "cast" drawn from the global popularity, so a popular actor is
listed (with its mentions) in many sources and merged by the loader. 2-5 participants
per event, 0-3 statements per event (Arabic words + English translation), CAMEO codes
weighted towards the verbal roots, dates 2010-2025 with day/month/year/range/unknown
precision, statuses occurred/ongoing/planned/background.

Every span is real: a source text is built by concatenating generated Arabic sentences
while recording the offset of every name, date expression, quotation and sentence.

The output depends only on N, --seed and --per-source (not on --jobs): each source is
generated from its own random stream. Sources are generated in parallel (--jobs, default
the number of cores).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import sys
import time
from bisect import bisect_left
from itertools import accumulate
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference"
CODEBOOK_VERSION = "1"

# --------------------------------------------------------------------------- vocabularies

# iso3, Arabic, English, capital (ar, en), lat, lon, Arabic adjective (feminine), weight
COUNTRIES = [
    ("SYR", "سوريا", "Syria", "دمشق", "Damascus", 33.5138, 36.2765, "السورية", 30),
    ("IRN", "إيران", "Iran", "طهران", "Tehran", 35.6892, 51.3890, "الإيرانية", 8),
    ("RUS", "روسيا", "Russia", "موسكو", "Moscow", 55.7558, 37.6173, "الروسية", 8),
    ("TUR", "تركيا", "Turkey", "أنقرة", "Ankara", 39.9334, 32.8597, "التركية", 7),
    ("USA", "الولايات المتحدة", "United States", "واشنطن", "Washington", 38.9072, -77.0369, "الأمريكية", 6),
    ("IRQ", "العراق", "Iraq", "بغداد", "Baghdad", 33.3152, 44.3661, "العراقية", 8),
    ("LBN", "لبنان", "Lebanon", "بيروت", "Beirut", 33.8938, 35.5018, "اللبنانية", 6),
    ("JOR", "الأردن", "Jordan", "عمّان", "Amman", 31.9454, 35.9284, "الأردنية", 4),
    ("SAU", "السعودية", "Saudi Arabia", "الرياض", "Riyadh", 24.7136, 46.6753, "السعودية", 4),
    ("EGY", "مصر", "Egypt", "القاهرة", "Cairo", 30.0444, 31.2357, "المصرية", 4),
    ("QAT", "قطر", "Qatar", "الدوحة", "Doha", 25.2854, 51.5310, "القطرية", 2),
    ("ARE", "الإمارات", "United Arab Emirates", "أبوظبي", "Abu Dhabi", 24.4539, 54.3773, "الإماراتية", 2),
    ("KWT", "الكويت", "Kuwait", "مدينة الكويت", "Kuwait City", 29.3759, 47.9774, "الكويتية", 1),
    ("OMN", "سلطنة عمان", "Oman", "مسقط", "Muscat", 23.5880, 58.3829, "العمانية", 1),
    ("YEM", "اليمن", "Yemen", "صنعاء", "Sanaa", 15.3694, 44.1910, "اليمنية", 2),
    ("LBY", "ليبيا", "Libya", "طرابلس", "Tripoli", 32.8872, 13.1913, "الليبية", 2),
    ("TUN", "تونس", "Tunisia", "مدينة تونس", "Tunis", 36.8065, 10.1815, "التونسية", 1),
    ("DZA", "الجزائر", "Algeria", "مدينة الجزائر", "Algiers", 36.7538, 3.0588, "الجزائرية", 1),
    ("MAR", "المغرب", "Morocco", "الرباط", "Rabat", 34.0209, -6.8416, "المغربية", 1),
    ("SDN", "السودان", "Sudan", "الخرطوم", "Khartoum", 15.5007, 32.5599, "السودانية", 1),
    ("PSE", "فلسطين", "Palestine", "رام الله", "Ramallah", 31.9038, 35.2034, "الفلسطينية", 2),
    ("ISR", "إسرائيل", "Israel", "القدس", "Jerusalem", 31.7683, 35.2137, "الإسرائيلية", 2),
    ("FRA", "فرنسا", "France", "باريس", "Paris", 48.8566, 2.3522, "الفرنسية", 2),
    ("GBR", "بريطانيا", "United Kingdom", "لندن", "London", 51.5074, -0.1278, "البريطانية", 2),
    ("DEU", "ألمانيا", "Germany", "برلين", "Berlin", 52.5200, 13.4050, "الألمانية", 2),
    ("CHN", "الصين", "China", "بكين", "Beijing", 39.9042, 116.4074, "الصينية", 2),
    ("KAZ", "كازاخستان", "Kazakhstan", "أستانا", "Astana", 51.1694, 71.4491, "الكازاخستانية", 1),
    ("CHE", "سويسرا", "Switzerland", "جنيف", "Geneva", 46.2044, 6.1432, "السويسرية", 1),
    ("ITA", "إيطاليا", "Italy", "روما", "Rome", 41.9028, 12.4964, "الإيطالية", 1),
    ("ESP", "إسبانيا", "Spain", "مدريد", "Madrid", 40.4168, -3.7038, "الإسبانية", 1),
    ("IND", "الهند", "India", "نيودلهي", "New Delhi", 28.6139, 77.2090, "الهندية", 1),
    ("PAK", "باكستان", "Pakistan", "إسلام آباد", "Islamabad", 33.6844, 73.0479, "الباكستانية", 1),
    ("AFG", "أفغانستان", "Afghanistan", "كابول", "Kabul", 34.5553, 69.2075, "الأفغانية", 1),
    ("JPN", "اليابان", "Japan", "طوكيو", "Tokyo", 35.6762, 139.6503, "اليابانية", 1),
    ("BRA", "البرازيل", "Brazil", "برازيليا", "Brasilia", -15.7939, -47.8828, "البرازيلية", 1),
    ("AZE", "أذربيجان", "Azerbaijan", "باكو", "Baku", 40.4093, 49.8671, "الأذربيجانية", 1),
    ("ARM", "أرمينيا", "Armenia", "يريفان", "Yerevan", 40.1792, 44.4991, "الأرمينية", 1),
    ("GRC", "اليونان", "Greece", "أثينا", "Athens", 37.9838, 23.7275, "اليونانية", 1),
    ("CYP", "قبرص", "Cyprus", "نيقوسيا", "Nicosia", 35.1856, 33.3823, "القبرصية", 1),
    ("BHR", "البحرين", "Bahrain", "المنامة", "Manama", 26.2285, 50.5860, "البحرينية", 1),
]

# Arabic, English, iso3, lat, lon
CITIES = [
    ("حلب", "Aleppo", "SYR", 36.2021, 37.1343), ("حمص", "Homs", "SYR", 34.7324, 36.7137),
    ("حماة", "Hama", "SYR", 35.1318, 36.7578), ("اللاذقية", "Latakia", "SYR", 35.5317, 35.7915),
    ("طرطوس", "Tartus", "SYR", 34.8890, 35.8866), ("دير الزور", "Deir ez-Zor", "SYR", 35.3359, 40.1408),
    ("الرقة", "Raqqa", "SYR", 35.9594, 39.0080), ("إدلب", "Idlib", "SYR", 35.9306, 36.6339),
    ("درعا", "Daraa", "SYR", 32.6189, 36.1021), ("السويداء", "As-Suwayda", "SYR", 32.7090, 36.5695),
    ("القامشلي", "Qamishli", "SYR", 37.0522, 41.2317), ("الحسكة", "Al-Hasakah", "SYR", 36.5024, 40.7477),
    ("تدمر", "Palmyra", "SYR", 34.5600, 38.2800), ("منبج", "Manbij", "SYR", 36.5281, 37.9549),
    ("الموصل", "Mosul", "IRQ", 36.3350, 43.1189), ("البصرة", "Basra", "IRQ", 30.5085, 47.7804),
    ("أربيل", "Erbil", "IRQ", 36.1911, 44.0092), ("الفلوجة", "Fallujah", "IRQ", 33.3500, 43.7833),
    ("كركوك", "Kirkuk", "IRQ", 35.4681, 44.3922), ("صيدا", "Sidon", "LBN", 33.5606, 35.3758),
    ("صور", "Tyre", "LBN", 33.2704, 35.2038), ("إسطنبول", "Istanbul", "TUR", 41.0082, 28.9784),
    ("غازي عنتاب", "Gaziantep", "TUR", 37.0662, 37.3833), ("سوتشي", "Sochi", "RUS", 43.6028, 39.7342),
    ("نيويورك", "New York", "USA", 40.7128, -74.0060), ("فيينا", "Vienna", "AUT", 48.2082, 16.3738),
    ("مشهد", "Mashhad", "IRN", 36.2605, 59.6168), ("جدة", "Jeddah", "SAU", 21.4858, 39.1925),
    ("الإسكندرية", "Alexandria", "EGY", 31.2001, 29.9187), ("عدن", "Aden", "YEM", 12.7855, 45.0187),
    ("بنغازي", "Benghazi", "LBY", 32.1167, 20.0667), ("الزبداني", "Zabadani", "SYR", 33.7247, 36.1003),
]

DIRECTIONS = [("ريف", "countryside", 0.15, 0.15), ("شمال", "north of", 0.25, 0.0), ("جنوب", "south of", -0.25, 0.0),
              ("شرق", "east of", 0.0, 0.3), ("غرب", "west of", 0.0, -0.3)]

FIRST_NAMES = [
    ("محمد", "Mohammed"), ("أحمد", "Ahmed"), ("علي", "Ali"), ("حسن", "Hassan"), ("حسين", "Hussein"),
    ("عمر", "Omar"), ("خالد", "Khaled"), ("يوسف", "Youssef"), ("إبراهيم", "Ibrahim"), ("عبد الله", "Abdullah"),
    ("مصطفى", "Mustafa"), ("سامر", "Samer"), ("وليد", "Walid"), ("فيصل", "Faisal"), ("طارق", "Tarek"),
    ("باسل", "Basel"), ("سليم", "Salim"), ("رامي", "Rami"), ("ماهر", "Maher"), ("نبيل", "Nabil"),
    ("جمال", "Jamal"), ("كريم", "Karim"), ("عادل", "Adel"), ("فارس", "Fares"), ("زياد", "Ziad"),
    ("هشام", "Hisham"), ("منير", "Munir"), ("رياض", "Riyad"), ("ناصر", "Nasser"), ("سعيد", "Said"),
    ("مازن", "Mazen"), ("عماد", "Imad"), ("فؤاد", "Fouad"), ("بشير", "Bashir"), ("أيمن", "Ayman"),
    ("حازم", "Hazem"), ("جورج", "George"), ("ميشيل", "Michel"), ("ليلى", "Layla"), ("فاطمة", "Fatima"),
    ("مريم", "Maryam"), ("رنا", "Rana"), ("هدى", "Huda"), ("سلمى", "Salma"), ("نادية", "Nadia"),
    ("بثينة", "Bouthaina"), ("سهير", "Suhair"), ("لينا", "Lina"), ("دعاء", "Doaa"), ("ريم", "Reem"),
]
FAMILY_NAMES = [
    ("الخطيب", "al-Khatib"), ("الحلبي", "al-Halabi"), ("المصري", "al-Masri"), ("الشامي", "al-Shami"),
    ("العلي", "al-Ali"), ("حداد", "Haddad"), ("النجار", "al-Najjar"), ("الحسن", "al-Hassan"),
    ("الزعبي", "al-Zoubi"), ("العمر", "al-Omar"), ("قاسم", "Qassem"), ("سليمان", "Suleiman"),
    ("منصور", "Mansour"), ("يونس", "Younes"), ("عثمان", "Othman"), ("الأحمد", "al-Ahmad"),
    ("الجبوري", "al-Jubouri"), ("الدليمي", "al-Dulaimi"), ("الكردي", "al-Kurdi"), ("التركي", "al-Turki"),
    ("الحمصي", "al-Homsi"), ("الدمشقي", "al-Dimashqi"), ("الحموي", "al-Hamawi"), ("الخوري", "Khoury"),
    ("عيسى", "Issa"), ("داود", "Daoud"), ("موسى", "Moussa"), ("صالح", "Saleh"), ("الربيعي", "al-Rubaie"),
    ("الشمري", "al-Shammari"), ("العبيدي", "al-Obeidi"), ("الهاشمي", "al-Hashimi"), ("البكري", "al-Bakri"),
    ("الرفاعي", "al-Rifai"), ("الطويل", "al-Tawil"), ("عباس", "Abbas"), ("جعفر", "Jaafar"), ("نصر", "Nasr"),
    ("فرحات", "Farhat"), ("شعبان", "Shaaban"), ("مراد", "Murad"), ("عطية", "Attiya"), ("غانم", "Ghanem"),
    ("بركات", "Barakat"), ("سلامة", "Salameh"), ("حمدان", "Hamdan"), ("زيدان", "Zidan"), ("الخليل", "al-Khalil"),
    ("نجم", "Najm"), ("الصباغ", "al-Sabbagh"), ("العطار", "al-Attar"), ("الفارس", "al-Fares"), ("درويش", "Darwish"),
    ("الحسيني", "al-Husseini"), ("كنعان", "Kanaan"), ("الجعفري", "al-Jaafari"), ("مخلوف", "Makhlouf"),
    ("اليوسف", "al-Youssef"), ("الأيوبي", "al-Ayoubi"), ("القباني", "al-Qabbani"),
]
TITLES = [
    ("وزير الخارجية", "Foreign Minister"), ("وزير الدفاع", "Defence Minister"), ("رئيس الوزراء", "Prime Minister"),
    ("السفير", "Ambassador"), ("المتحدث باسم الحكومة", "Government spokesperson"), ("المحافظ", "Governor"),
    ("النائب", "Member of parliament"), ("وزير الاقتصاد", "Economy Minister"), ("نائب وزير الخارجية", "Deputy Foreign Minister"),
    ("المبعوث الخاص", "Special envoy"), ("قائد الشرطة", "Police chief"), ("وزير النفط", "Oil Minister"),
    ("رئيس البرلمان", "Speaker of parliament"), ("الأمين العام", "Secretary-General"), ("المستشار", "Adviser"),
]
MINISTRIES = [
    ("وزارة الخارجية", "Ministry of Foreign Affairs"), ("وزارة الدفاع", "Ministry of Defence"),
    ("وزارة الداخلية", "Ministry of Interior"), ("وزارة الاقتصاد", "Ministry of Economy"),
    ("وزارة الصحة", "Ministry of Health"), ("الحكومة", "Government"), ("الجيش", "Army"),
    ("البرلمان", "Parliament"), ("وزارة النفط", "Ministry of Oil"), ("وزارة الإعلام", "Ministry of Information"),
]
AGENCIES = [
    ("sana", "سانا", "SANA", "SYR"), ("irna", "إرنا", "IRNA", "IRN"), ("tass", "تاس", "TASS", "RUS"),
    ("anadolu", "الأناضول", "Anadolu Agency", "TUR"), ("reuters", "رويترز", "Reuters", "GBR"),
    ("afp", "فرانس برس", "AFP", "FRA"), ("ap", "أسوشيتد برس", "Associated Press", "USA"),
    ("ina", "واع", "Iraqi News Agency", "IRQ"), ("nna", "الوكالة الوطنية للإعلام", "National News Agency", "LBN"),
    ("spa", "واس", "Saudi Press Agency", "SAU"),
]
INTERNATIONAL = [
    ("united-nations", "الأمم المتحدة", "United Nations", "UN"), ("arab-league", "جامعة الدول العربية", "Arab League", "League"),
    ("european-union", "الاتحاد الأوروبي", "European Union", "EU"), ("icrc", "اللجنة الدولية للصليب الأحمر", "International Committee of the Red Cross", "ICRC"),
    ("nato", "حلف شمال الأطلسي", "NATO", "NATO"), ("who", "منظمة الصحة العالمية", "World Health Organization", "WHO"),
    ("unhcr", "المفوضية السامية لشؤون اللاجئين", "UNHCR", "UNHCR"), ("opcw", "منظمة حظر الأسلحة الكيميائية", "OPCW", "OPCW"),
]
GROUPS = [
    ("سكان {c}", "residents of {e}", "residents"), ("نازحون من {c}", "displaced people from {e}", "displaced"),
    ("مقاتلون في {c}", "fighters in {e}", "fighters"), ("تجار {c}", "merchants of {e}", "merchants"),
    ("وجهاء {c}", "notables of {e}", "notables"),
]

# (Arabic phrase, English phrase, topic id or None)
TOPIC_PHRASES = [
    ("لبحث سبل تعزيز التعاون الثنائي", "to discuss ways to strengthen bilateral cooperation", "bilateral_cooperation"),
    ("في إطار المفاوضات الجارية", "as part of the ongoing negotiations", "political_process"),
    ("لمناقشة ملف إعادة الإعمار", "to discuss reconstruction", "reconstruction"),
    ("وسط تصاعد التوتر الأمني", "amid rising security tension", "security_stability"),
    ("تمهيدا لجولة جديدة من المحادثات في أستانا", "ahead of a new round of talks in Astana", "astana_talks"),
    ("لبحث ملف اللاجئين وعودتهم", "to discuss the refugees and their return", None),
    ("في إطار جهود المصالحة الوطنية", "as part of national reconciliation efforts", "national_reconciliation"),
    ("لمتابعة تنفيذ اتفاق وقف إطلاق النار", "to follow up the ceasefire agreement", "truce"),
    ("لبحث الأوضاع الإنسانية", "to discuss the humanitarian situation", "syrian_crisis"),
    ("لتنسيق الجهود في مكافحة الإرهاب", "to coordinate counterterrorism efforts", "counterterrorism"),
    ("لبحث التعاون الاقتصادي والتجاري", "to discuss economic and trade cooperation", "bilateral_cooperation"),
    ("في إطار العملية السياسية", "as part of the political process", "political_process"),
    ("لبحث أمن الحدود", "to discuss border security", "security_stability"),
    ("لمناقشة أسعار النفط والطاقة", "to discuss oil and energy prices", None),
    ("بشأن تبادل الأسرى والمعتقلين", "on the exchange of prisoners and detainees", None),
    ("لبحث الدعم الإيراني للحكومة", "to discuss Iranian support for the government", "iranian_support"),
    ("بمشاركة أمريكية", "with American participation", "us_participation"),
    ("حول الوضع في حلب", "on the situation in Aleppo", "aleppo"),
    ("لبحث إيصال المساعدات الطبية", "to discuss the delivery of medical aid", None),
    ("وسط مخاوف من موجة نزوح جديدة", "amid fears of a new wave of displacement", None),
]

# Arabic clause, English translation (statements)
QUOTES = [
    ("الحل السياسي هو الطريق الوحيد لإنهاء الأزمة", "the political solution is the only way to end the crisis"),
    ("بلادنا مستعدة للتعاون مع جميع الأطراف", "our country is ready to cooperate with all parties"),
    ("المفاوضات ستستمر حتى التوصل إلى اتفاق شامل", "the negotiations will continue until a comprehensive agreement is reached"),
    ("الهجمات على المدنيين مرفوضة ولن تمر دون حساب", "the attacks on civilians are unacceptable and will not go unpunished"),
    ("عودة اللاجئين أولوية للحكومة", "the return of the refugees is a priority for the government"),
    ("إعادة الإعمار تحتاج إلى دعم دولي واسع", "reconstruction needs broad international support"),
    ("وقف إطلاق النار صامد رغم بعض الخروقات", "the ceasefire is holding despite some violations"),
    ("نرفض أي تدخل خارجي في شؤوننا الداخلية", "we reject any foreign interference in our internal affairs"),
    ("مكافحة الإرهاب مسؤولية مشتركة", "fighting terrorism is a shared responsibility"),
    ("العلاقات بين البلدين تاريخية واستراتيجية", "the relations between the two countries are historic and strategic"),
    ("الوضع الإنساني في المدينة كارثي", "the humanitarian situation in the city is catastrophic"),
    ("نطالب بفتح الممرات الإنسانية فورا", "we demand that humanitarian corridors be opened at once"),
    ("الاتفاق يمثل خطوة مهمة نحو الاستقرار", "the agreement is an important step towards stability"),
    ("لن نقبل بأي شروط مسبقة للحوار", "we will accept no preconditions for dialogue"),
    ("تبادل الأسرى سيتم خلال الأيام المقبلة", "the exchange of prisoners will take place in the coming days"),
    ("أسعار النفط تؤثر على اقتصاد المنطقة", "oil prices affect the economy of the region"),
    ("المصالحة الوطنية هي أساس السلام", "national reconciliation is the basis of peace"),
    ("الحدود ستبقى مغلقة حتى إشعار آخر", "the border will stay closed until further notice"),
    ("نحمل الطرف الآخر مسؤولية التصعيد", "we hold the other side responsible for the escalation"),
    ("الجولة المقبلة من المحادثات ستعقد في جنيف", "the next round of talks will be held in Geneva"),
]

FILLERS = [
    "وشهدت المنطقة خلال الفترة الماضية تطورات متسارعة على الصعيدين السياسي والميداني.",
    "ويأتي ذلك في ظل ظروف اقتصادية صعبة تعيشها البلاد منذ سنوات.",
    "ولم تصدر أي تعليقات رسمية حتى الآن.",
    "وتتابع وسائل الإعلام المحلية تطورات الأوضاع عن كثب.",
]

# CAMEO root -> (Arabic verb phrase, English verb phrase, weight, roles (first, others))
ROOT_VERBS = {
    "01": ("أدلى {A} بتصريحات بحضور", "made statements with", 14, ("speaker", "participant")),
    "02": ("دعا {A}", "appealed to", 8, ("actor", "target")),
    "03": ("أعلن {A} عزمه التعاون مع", "announced an intent to cooperate with", 7, ("party", "party")),
    "04": ("التقى {A} مع", "met", 22, ("visitor", "host")),
    "05": ("وقع {A} اتفاقا مع", "signed an agreement with", 8, ("signatory", "signatory")),
    "06": ("بدأ {A} تعاونا ميدانيا مع", "began material cooperation with", 4, ("party", "party")),
    "07": ("قدم {A} مساعدات إلى", "provided aid to", 5, ("provider", "recipient")),
    "08": ("وافق {A} على مطالب", "yielded to", 3, ("actor", "target")),
    "09": ("فتح {A} تحقيقا بشأن", "opened an investigation into", 1, ("actor", "target")),
    "10": ("طالب {A}", "made demands of", 4, ("actor", "target")),
    "11": ("انتقد {A}", "criticised", 6, ("actor", "target")),
    "12": ("رفض {A} مقترحات", "rejected proposals of", 3, ("actor", "target")),
    "13": ("هدد {A}", "threatened", 2, ("actor", "target")),
    "14": ("تظاهر {A} ضد", "protested against", 2, ("organizer", "target")),
    "15": ("استنفر {A} قواته في مواجهة", "mobilised forces against", 1, ("actor", "target")),
    "16": ("خفض {A} علاقاته مع", "reduced relations with", 1, ("actor", "target")),
    "17": ("اعتقل {A} عناصر تابعين لـ", "arrested members of", 2, ("actor", "target")),
    "18": ("هاجم {A}", "attacked", 3, ("actor", "target")),
    "19": ("اشتبك {A} مع", "clashed with", 3, ("actor", "target")),
    "20": ("استخدم {A} أسلحة محظورة ضد", "used prohibited weapons against", 1, ("actor", "target")),
}
STATEMENT_ROOTS = ["01", "02", "03", "05", "10", "11", "12", "13"]
#: roles of sides on an equal footing: every actor is on both sides (one dyad each way)
EQUAL_ROLES = ("party", "signatory")
#: roles that name no side of a directed pair
UNDIRECTED_ROLES = ("participant",)
#: CAMEO-style actor blocks of the generated participants: IGO codes (synthetic corpus) and roles
IGO_CODES = {"united-nations": "UNO", "arab-league": "ARL", "european-union": "EUR", "icrc": "IRC", "nato": "NAT",
             "who": "WHO", "unhcr": "UNH", "opcw": "OPC"}
GROUP_ROLES = {"residents": "CVL", "displaced": "REF", "fighters": "REB", "merchants": "BUS", "notables": "ELI"}
ROLE_CODES = {"GOV": "Government", "MED": "Media", "CVL": "Civilians", "REF": "Refugees and displaced people",
              "REB": "Rebels, armed groups", "BUS": "Business", "ELI": "Elites, notables"}

MONTHS_AR = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
             "تشرين الأول", "تشرين الثاني", "كانون الأول"]
PUBLISHERS = [("SyriaNews", "سيريانيوز"), ("SANA", "سانا"), ("Al-Watan", "الوطن"), ("Enab Baladi", "عنب بلدي"),
              ("Al-Hayat", "الحياة"), ("Asharq Al-Awsat", "الشرق الأوسط"), ("Al-Akhbar", "الأخبار"), ("Rudaw", "روداو")]

FIRST_DAY = dt.date(2010, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------- codebook


def build_codebook() -> dict:
    """Every CAMEO code of ../shared/reference; topics and roles from fixtures/codebook.json."""
    base = json.loads((REPO / "fixtures" / "codebook.json").read_text(encoding="utf-8"))
    if not (REFERENCE / "cameo_eventcodes.tsv").exists():
        # the events use CAMEO codes the article's codebook does not have: a corpus made without the
        # tables would fail its own load with a problem on most records
        raise SystemExit(f"{REFERENCE} not found: the generator takes its CAMEO codes from the reference "
                         "tables; put the shared/ directory beside this checkout (../shared/reference)")

    def rows(name):
        with open(REFERENCE / name, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))

    labels = {r["code"]: r["label"] for r in rows("cameo_eventcodes.tsv")}
    goldstein = {r["code"]: float(r["goldstein"]) for r in rows("cameo_goldstein.tsv")}
    root_plover = {}
    for r in rows("cameo_root_to_plover.tsv"):
        kind = r["plover_type"]
        root_plover.setdefault(r["cameo_root"], None if kind == "dropped" else ("ASSAULT" if kind == "FIGHT" else kind))
    plover = {r["cameo_code"]: (r["plover_type"], r["plover_mode"] or None) for r in rows("cameo_to_plover.tsv")}
    contexts = {r["cameo_code"]: [c for c in (r["plover_context"] or "").split(";") if c] for r in rows("cameo_to_plover.tsv")}
    cameo = []
    for code, label in labels.items():
        if len(code) == 2:
            kind, mode = root_plover.get(code), None
        else:
            kind, mode = plover.get(code, (root_plover.get(code[:2]), None))
        cameo.append({"code": code, "label": label, "goldstein": goldstein.get(code), "plover_type": kind, "plover_mode": mode,
                      "plover_context": contexts.get(code, [])})
    overrides = {e["code"]: e for e in base["cameo"] if e.get("plover_override")}  # the project's fixes of the draft table
    cameo = [{**entry, **overrides.get(entry["code"], {})} for entry in cameo]
    return {"version": CODEBOOK_VERSION, "cameo": cameo, "topics": base["topics"], "roles": base["roles"],
            "actors": actor_codebook()}


def actor_codebook() -> list[dict]:
    """Every actor block the generated participants use: countries, IGOs, roles."""
    return ([{"code": c[0], "kind": "country", "label": c[2]} for c in COUNTRIES]
            + [{"code": code, "kind": "igo", "label": f"{key} (synthetic corpus code)"} for key, code in IGO_CODES.items()]
            + [{"code": code, "kind": "role", "label": label} for code, label in ROLE_CODES.items()])


def directed_sides(actors: list[dict], first_role: str, other_role: str) -> tuple[list[str], list[str]]:
    """(source_actors, target_actors) of a generated event, by its roles."""
    ids = [a["id"] for a in actors]
    if first_role in EQUAL_ROLES and other_role in EQUAL_ROLES:
        return ids, ids
    return ids[:1], ([] if other_role in UNDIRECTED_ROLES else ids[1:])


# --------------------------------------------------------------------------- pools


def build_pools(seed: int, actors: int = 5_000):
    """(participants, places, cumulative Zipf weights of each): deterministic for ``seed``."""
    rng = random.Random(seed)
    people: list[dict] = []
    country_by_iso = {c[0]: c for c in COUNTRIES}
    country_weights = list(accumulate(c[8] for c in COUNTRIES))

    def entity(pid, name_en, name_ar, kind, country, aliases, title=None, role=None):
        return {"id": pid, "name_en": name_en, "name_ar": name_ar, "aliases": aliases, "kind": kind,
                "title_en": title[1] if title else None, "title_ar": title[0] if title else None,
                "country": country, "actor_code": ((country or "") + (role or "")) or None}

    for iso, ar, en, *_ in COUNTRIES:
        people.append(entity(f"country-{iso.lower()}", en, ar, "country", iso, []))
    for key, ar, en, iso in AGENCIES:
        people.append(entity(f"agency-{key}", en, f"وكالة {ar}", "organization", iso, [ar, en], role="MED"))
    for key, ar, en, short in INTERNATIONAL:
        people.append(entity(key, en, ar, "organization", None, [short] if short != en else [], role=IGO_CODES[key]))
    for iso, c_ar, c_en, _, _, _, _, adj, weight in COUNTRIES[:25]:
        for m_ar, m_en in MINISTRIES:
            people.append(entity(f"{slug(m_en)}-{iso.lower()}", f"{m_en} of {c_en}", f"{m_ar} {adj}", "organization", iso,
                                 [f"{m_ar} في {c_ar}"], role="GOV"))
    for c_ar, c_en, iso, *_ in CITIES:
        for g_ar, g_en, key in GROUPS:
            people.append(entity(f"{key}-{slug(c_en)}", g_en.format(e=c_en), g_ar.format(c=c_ar), "group",
                                 iso if iso in country_by_iso else None, [], role=GROUP_ROLES[key]))
    used = set()
    while len(people) < actors:
        n = len(people)
        first = rng.choice(FIRST_NAMES)
        family = rng.choice(FAMILY_NAMES)
        name_ar, name_en = f"{first[0]} {family[0]}", f"{first[1]} {family[1]}"
        if (name_ar in used):
            father = rng.choice(FIRST_NAMES[:38])
            name_ar, name_en = f"{first[0]} {father[0]} {family[0]}", f"{first[1]} {father[1]} {family[1]}"
            if name_ar in used:
                continue
        used.add(name_ar)
        iso = rng.choices(COUNTRIES, cum_weights=country_weights)[0][0]
        title = rng.choice(TITLES) if rng.random() < 0.5 else None
        people.append(entity(f"{slug(name_en)}-{n}", name_en, name_ar, "person", iso,
                             [family[0], family[1].replace("al-", "").capitalize(), name_en.replace("Mohammed", "Muhammad")]
                             if name_en.startswith("Mohammed") else [family[0], family[1]], title,
                             role="GOV" if title else None))
    for person in people:  # distinct, non-empty, never the name itself
        person["aliases"] = [a for a in dict.fromkeys(person["aliases"]) if a and a not in (person["name_ar"], person["name_en"])]

    places: list[dict] = []
    for iso, ar, en, cap_ar, cap_en, lat, lon, *_ in COUNTRIES:
        places.append({"id": slug(cap_en), "name_en": cap_en, "name_ar": cap_ar, "aliases": [], "kind": "city",
                       "country": iso, "lat": lat, "lon": lon})
    for ar, en, iso, lat, lon in CITIES:
        places.append({"id": slug(en), "name_en": en, "name_ar": ar, "aliases": [], "kind": "city",
                       "country": iso, "lat": lat, "lon": lon})
    for iso, ar, en, cap_ar, cap_en, lat, lon, *_ in COUNTRIES:
        places.append({"id": f"country-{slug(en)}", "name_en": en, "name_ar": ar, "aliases": [], "kind": "country",
                       "country": iso, "lat": lat, "lon": lon})
    regions = [(d, c) for c in CITIES for d in DIRECTIONS]
    rng.shuffle(regions)
    for (d_ar, d_en, dlat, dlon), (ar, en, iso, lat, lon) in regions[: 250 - len(places)]:
        name_en = f"{en} countryside" if d_en == "countryside" else f"{d_en.capitalize()} {en}"
        places.append({"id": slug(name_en), "name_en": name_en, "name_ar": f"{d_ar} {ar}", "aliases": [], "kind": "region",
                       "country": iso, "lat": round(lat + dlat, 4), "lon": round(lon + dlon, 4)})

    rng.shuffle(people)
    rng.shuffle(places)
    # countries and agencies are among the most reported actors
    people.sort(key=lambda p: 0 if p["kind"] == "country" and rng.random() < 0.6 else 1)
    actor_weights = list(accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(people))))
    place_weights = list(accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(places))))
    return people, places, actor_weights, place_weights


# --------------------------------------------------------------------------- one source


class Text:
    """A source text built piece by piece, with the offset of every piece."""

    def __init__(self):
        self.parts: list[str] = []
        self.pos = 0

    def add(self, piece: str) -> int:
        start = self.pos
        self.parts.append(piece)
        self.pos += len(piece)
        return start

    def span(self, piece: str) -> dict:
        start = self.add(piece)
        return {"start": start, "end": start + len(piece), "text": piece}

    def value(self) -> str:
        return "".join(self.parts)


def date_record(rng: random.Random, published: dt.date, status: str, text_date_words):
    """(date dict without expression, Arabic date words or None, English date words)."""
    if status == "planned":
        day = published + dt.timedelta(days=rng.randint(1, 60))
    else:
        day = published - dt.timedelta(days=int(rng.expovariate(1 / 90)))
    day = min(max(day, FIRST_DAY), LAST_DAY)
    r = rng.random()
    if r < 0.58:
        precision, start, end = "day", day, day
        words = f"يوم {day.day} {MONTHS_AR[day.month - 1]} {day.year}"
        english = f"on {day.isoformat()}"
    elif r < 0.74:
        precision = "month"
        start = day.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        words = f"خلال شهر {MONTHS_AR[day.month - 1]} {day.year}"
        english = f"in {start:%B %Y}"
    elif r < 0.82:
        precision, start, end = "year", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
        words = f"خلال عام {day.year}"
        english = f"in {day.year}"
    elif r < 0.93:
        precision = "range"
        start, end = day, min(day + dt.timedelta(days=rng.randint(2, 60)), LAST_DAY)
        shape = rng.random()
        if shape < 0.15:
            start = None
            words, english = "في الآونة الأخيرة", "recently"
        elif shape < 0.25:
            end = None
            words, english = f"منذ {start.day} {MONTHS_AR[start.month - 1]} {start.year}", f"since {start.isoformat()}"
        else:
            words = (f"بين {start.day} {MONTHS_AR[start.month - 1]} {start.year} "
                     f"و{end.day} {MONTHS_AR[end.month - 1]} {end.year}")
            english = f"between {start.isoformat()} and {end.isoformat()}"
    else:
        precision, start, end, words, english = "unknown", None, None, None, ""
    if words is not None and rng.random() < 0.1:
        words = None  # dated from the publication day, no words in the text
    date = {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
            "precision": precision}
    return date, words, english


def choose(rng, population, cum_weights, k):
    return rng.choices(population, cum_weights=cum_weights, k=k)


def generate_source(task) -> tuple[str, int, int, int, int, int]:
    """Write one source (text, metadata, four record files). Returns its counts."""
    out, seed, index, n_events, pools = task
    people, places, actor_weights, place_weights = pools
    rng = random.Random(f"{seed}:{index}")
    source_id = f"syn_{index:05d}"
    publisher, publisher_ar = rng.choice(PUBLISHERS)
    published = FIRST_DAY + dt.timedelta(days=rng.randint(60, (LAST_DAY - FIRST_DAY).days))

    # this source's cast: drawn from global popularity, then Zipf within the cast
    cast = sorted({p["id"]: p for p in choose(rng, people, actor_weights, 700)}.values(), key=lambda p: p["_rank"])
    cast_weights = list(accumulate(1.0 / (rank + 1) ** 1.0 for rank in range(len(cast))))
    agencies = [p for p in cast if p["id"].startswith("agency-")] or [p for p in people if p["id"].startswith("agency-")]
    persons = [p for p in cast if p["kind"] == "person"] or cast
    person_weights = list(accumulate(1.0 / (rank + 1) for rank in range(len(persons))))
    place_cast = sorted({p["id"]: p for p in choose(rng, places, place_weights, 120)}.values(), key=lambda p: p["_rank"])
    place_cast_weights = list(accumulate(1.0 / (rank + 1) for rank in range(len(place_cast))))

    text = Text()
    title = f"نشرة {publisher_ar} الإخبارية: تطورات سياسية وميدانية في المنطقة ({index})"
    text.add(title + "\n\n")
    mentions: dict[str, list] = {}
    place_mentions: dict[str, list] = {}
    events_out: list[str] = []
    statements_out: list[str] = []
    n_statements = 0
    root_codes = pools_root_codes()
    roots = list(ROOT_VERBS)
    root_weights = list(accumulate(ROOT_VERBS[r][2] for r in roots))
    dumps = json.dumps

    def name_span(entity: dict, table: dict) -> None:
        form = entity["name_ar"]
        if entity["aliases"] and entity["kind"] == "person" and rng.random() < 0.25:
            form = entity["aliases"][0]  # the family name alone
        table.setdefault(entity["id"], []).append(text.span(form))

    for number in range(1, n_events + 1):
        event_id = f"e{index:05d}-{number:04d}"
        if number % 12 == 0:
            text.add(rng.choice(FILLERS) + " ")
        if number % 5 == 0:
            text.add("\n\n")
        root = rng.choices(roots, cum_weights=root_weights)[0]
        code = rng.choice(root_codes[root])
        verb_ar, verb_en, _, (first_role, other_role) = ROOT_VERBS[root]
        k = rng.choices((2, 3, 4, 5), weights=(45, 30, 15, 10))[0]
        chosen: dict[str, dict] = {}
        while len(chosen) < k:
            p = choose(rng, cast, cast_weights, 1)[0]
            chosen.setdefault(p["id"], p)
        actors = list(chosen.values())
        place = choose(rng, place_cast, place_cast_weights, 1)[0] if rng.random() < 0.85 else None
        status = rng.choices(("occurred", "ongoing", "planned", "background"), weights=(75, 8, 7, 10))[0]
        date, date_words, date_en = date_record(rng, published, status, None)
        topic_ar, topic_en, topic_id = rng.choice(TOPIC_PHRASES)

        # the evidence sentence, recording every name as it is written
        sentence_start = text.pos
        before, after = verb_ar.split("{A}")
        text.add(before)
        name_span(actors[0], mentions)
        text.add(after + " ")
        for position, other in enumerate(actors[1:]):
            if position:
                text.add(" و")
            name_span(other, mentions)
        if place is not None:
            text.add(" في ")
            name_span(place, place_mentions)
        expression = None
        if date_words:
            text.add(" ")
            expression = text.span(date_words)
        text.add("، " + topic_ar + ".")
        evidence = {"start": sentence_start, "end": text.pos, "text": None}
        text.add(" ")
        others_en = ", ".join(a["name_en"] for a in actors[1:])
        sources, targets = directed_sides(actors, first_role, other_role)
        record = {
            "id": event_id,
            "title_en": f"{actors[0]['name_en']} {verb_en} {others_en}" + (f" in {place['name_en']}" if place else ""),
            "summary_en": f"{actors[0]['name_en']} {verb_en} {others_en}" + (f" in {place['name_en']}" if place else "")
                          + (f" {date_en}" if date_en else "") + f", {topic_en}.",
            "cameo": code,
            "status": status,
            "date": {**date, "expression": expression,
                     "resolution": "as written in the text" if expression else "from the publication date of the report"},
            "place": place["id"] if place else None,
            "participants": [{"participant": a["id"], "role": first_role if i == 0 else other_role} for i, a in enumerate(actors)],
            "source_actors": sources, "target_actors": targets,
            "topics": [topic_id] if topic_id else [],
            "evidence": [evidence],
            "confidence": rng.choices(("high", "medium", "low"), weights=(70, 25, 5))[0],
            "codebook_version": CODEBOOK_VERSION,
            "notes": None,
        }
        if root == "04" and rng.random() < 0.3:
            record["plover"] = {"type": "CONSULT", "mode": "visit"}

        # 0-3 statements, each its own sentence
        statements = []
        for s_number in range(rng.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0]):
            speaker = (actors[0] if actors[0]["kind"] in ("person", "organization") and rng.random() < 0.6
                       else choose(rng, persons, person_weights, 1)[0])
            quote_ar, quote_en = rng.choice(QUOTES)
            if rng.random() < 0.4:
                extra_ar, extra_en = rng.choice(QUOTES)
                if extra_ar != quote_ar:
                    quote_ar, quote_en = f"{quote_ar}، و{extra_ar}", f"{quote_en}, and {extra_en}"
            via = []
            start = text.pos
            direct = rng.random() < 0.5
            if rng.random() < 0.2:
                agency = rng.choice(agencies)
                via = [agency]
                text.add("ونقلت ")
                name_span(agency, mentions)
                text.add(" عن ")
                name_span(speaker, mentions)
                text.add(' قوله إن "' if direct else " تأكيده أن ")
            else:
                text.add("وقال " if direct else "وأكد ")
                name_span(speaker, mentions)
                text.add(' إن "' if direct else " أن ")
            span = text.span(quote_ar)
            text.add('".' if direct else ".")
            sentence = {"start": start, "end": text.pos, "text": None}
            text.add(" ")
            link = rng.choices(("explicit", "inferred", None), weights=(70, 20, 10))[0]
            statements.append({
                "id": f"{event_id}-s{s_number + 1}",
                "speaker": speaker["id"],
                "event": event_id if link else None,
                "event_link": link,
                "span": span,
                "text_en": quote_en,
                "translation": rng.choices(("human", "machine"), weights=(30, 70))[0],
                "mode": "direct" if direct else "reported",
                "attributed_via": [a["id"] for a in via],
                "addressees": [a["id"] for a in actors if a["id"] != speaker["id"]][:1] if rng.random() < 0.4 else [],
                "cameo": rng.choice(root_codes[rng.choice(STATEMENT_ROOTS)]),
                "topics": [topic_id] if topic_id and rng.random() < 0.7 else [],
                "evidence": [sentence],
                "confidence": rng.choices(("high", "medium", "low"), weights=(70, 25, 5))[0],
                "codebook_version": CODEBOOK_VERSION,
                "notes": "linked by the curator's reading of the paragraph" if link == "inferred" else None,
            })
        events_out.append(record)
        statements_out.extend(statements)
        n_statements += len(statements)

    body = text.value()
    for spans in (record["evidence"] for record in events_out):
        for s in spans:
            s["text"] = body[s["start"]: s["end"]]
    for record in statements_out:
        for s in record["evidence"]:
            s["text"] = body[s["start"]: s["end"]]
    raw = body.encode("utf-8")

    fixtures = out / "fixtures" / source_id
    fixtures.mkdir(parents=True, exist_ok=True)
    (out / "seeds" / f"{source_id}.txt").write_bytes(raw)
    meta = {"publisher": publisher, "publisher_ar": publisher_ar,
            "published_at": f"{published.isoformat()}T{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:00+03:00",
            "language": "ar", "title": title, "url": None, "sha256": hashlib.sha256(raw).hexdigest()}
    (out / "seeds" / f"{source_id}.json").write_text(dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")

    curation = {"confidence": "high", "codebook_version": CODEBOOK_VERSION, "notes": None}
    lines = []
    for pid, spans in mentions.items():  # every participant of the source is named at least once
        p = _BY_ID[pid]
        lines.append(dumps({**{k: v for k, v in p.items() if not k.startswith("_")},
                            "identifiers": {"wikidata": None, "geonames": None}, "mentions": spans, **curation},
                           ensure_ascii=False))
    (fixtures / "participants.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [dumps({**{k: v for k, v in p.items() if not k.startswith("_")},
                    "identifiers": {"wikidata": None, "geonames": None}, "mentions": place_mentions[p["id"]], **curation},
                   ensure_ascii=False)
             for p in place_cast if p["id"] in place_mentions]
    (fixtures / "places.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (fixtures / "events.ndjson").write_text("\n".join(dumps(r, ensure_ascii=False) for r in events_out) + "\n", encoding="utf-8")
    (fixtures / "statements.ndjson").write_text(
        "\n".join(dumps(r, ensure_ascii=False) for r in statements_out) + ("\n" if statements_out else ""), encoding="utf-8")
    return source_id, n_events, n_statements, len(mentions), len(place_mentions), len(raw)


# module-level state of a worker process (set by init_worker)
_POOLS = None
_ROOT_CODES: dict[str, list[str]] = {}
_BY_ID: dict[str, dict] = {}


def pools_root_codes() -> dict[str, list[str]]:
    return _ROOT_CODES


def init_worker(seed: int, root_codes: dict) -> None:
    global _POOLS, _ROOT_CODES, _BY_ID
    people, places, actor_weights, place_weights = build_pools(seed)
    for rank, p in enumerate(people):
        p["_rank"] = rank
    for rank, p in enumerate(places):
        p["_rank"] = rank
    _POOLS = (people, places, actor_weights, place_weights)
    _ROOT_CODES = root_codes
    _BY_ID = {p["id"]: p for p in people}


def run_task(args) -> tuple:
    out, seed, index, n_events = args
    return generate_source((out, seed, index, n_events, _POOLS))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=int, help="number of events")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default benchmarks/out/corpus-N)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--per-source", type=int, default=1_000, help="events per source text (default 1000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    args = parser.parse_args(argv)
    out = args.out or HERE / "out" / f"corpus-{args.events}"
    if out.exists() and any(out.iterdir()):
        print(f"{out} exists and is not empty; remove it first", file=sys.stderr)
        return 2
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    (out / "fixtures").mkdir(parents=True, exist_ok=True)
    codebook = build_codebook()
    (out / "fixtures" / "codebook.json").write_text(json.dumps(codebook, ensure_ascii=False, indent=1), encoding="utf-8")
    root_codes: dict[str, list[str]] = {}
    for entry in codebook["cameo"]:
        if len(entry["code"]) > 2:
            root_codes.setdefault(entry["code"][:2], []).append(entry["code"])
    for root in ROOT_VERBS:
        root_codes.setdefault(root, [root])

    n_sources = max(1, math.ceil(args.events / args.per_source))
    tasks = []
    remaining = args.events
    for index in range(1, n_sources + 1):
        size = min(args.per_source, remaining)
        tasks.append((out, args.seed, index, size))
        remaining -= size
    started = time.perf_counter()
    totals = [0, 0, 0]
    print(f"generating {args.events:,} events in {n_sources:,} sources into {out} ({args.jobs} jobs)", flush=True)
    with get_context("fork").Pool(args.jobs, initializer=init_worker, initargs=(args.seed, root_codes)) as pool:
        for done, (source_id, events, statements, _, _, size) in enumerate(pool.imap(run_task, tasks, chunksize=1), 1):
            totals[0] += events
            totals[1] += statements
            totals[2] += size
            if done % max(1, n_sources // 20) == 0 or done == n_sources:
                elapsed = time.perf_counter() - started
                print(f"  {done:,}/{n_sources:,} sources, {totals[0]:,} events, {totals[1]:,} statements, "
                      f"{totals[2] / 1e6:,.0f} MB of text, {elapsed:.0f} s", flush=True)
    print(f"done in {time.perf_counter() - started:.1f} s: {totals[0]:,} events, {totals[1]:,} statements", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
