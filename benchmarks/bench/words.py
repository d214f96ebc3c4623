"""The vocabulary of the generated corpus (benchmarks/generate.py): countries, cities, names,
titles, organisations, topics, quotations and the verbs of each CAMEO root, in Arabic and English,
and the calendar the generated events fall in."""
from __future__ import annotations

import datetime as dt

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
