"""A realistic example for each operation of the OpenAPI document, from the article: the request's
parameters and its answer, abbreviated (lists cut to their first items, long texts cut with "…",
the dataset version and links left out). tests/test_openapi_examples.py checks every one against
the live answer, so the examples cannot drift from the data.

Each entry: the operation's path → (its parameters, path and query, by name; the JSON answer).
:func:`whole` adds what an abbreviation may not leave out (the envelope's required members), so
that each example is valid under its operation's schema.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

#: what changes with every load, shown by an illustrative value (the test compares its form)
DATASET_VERSION = "5f0c2a9e71d4b836"
LOADED_AT = "2026-12-04T09:00:00Z"
#: the cursor of an example's next link (a signed value of the server that made it)
CURSOR = "…"

# The answers hold the article's Arabic verbatim; lines are long where the texts are.
EXAMPLES: dict[str, tuple[dict, dict]] = {
    '/v1/events': (
        {'participant': 'imad-khamis,hassan-rouhani', 'fields': 'title_en,status,cameo'},
        {'data': [{'id': 'khamis-meets-rouhani',
                   'title_en': 'Imad Khamis meets Iranian President Hassan Rouhani in Tehran',
                   'cameo': {'code': '040',
                             'label': 'Consult, not specified below',
                             'root': '04',
                             'root_label': 'CONSULT',
                             'goldstein': 1.0},
                   'status': 'occurred'}],
         'meta': {'limit': 50, 'total': 1}},
    ),
    '/v1/events/{event_id}': (
        {'event_id': 'khamis-meets-rouhani', 'fields': 'title_en,status,date'},
        {'data': {'id': 'khamis-meets-rouhani',
                  'title_en': 'Imad Khamis meets Iranian President Hassan Rouhani in Tehran',
                  'status': 'occurred',
                  'date': {'start': '2017-01-18',
                           'end': '2017-01-18',
                           'precision': 'day',
                           'expression': {'source': '000_59c438f4edc17540',
                                          'start': 195,
                                          'end': 207,
                                          'text': 'يوم الأربعاء'},
                           'resolution': "The headline places Khamis's hope about Astana 'during his meeting with "
                                         "Rouhani' ('خلال لقائه روحاني'), and L5 dates that hope 'يوم الأربعاء' "
                                         '(Wednesd…'}},
         'meta': {}},
    ),
    '/v1/statements': (
        {'speaker': 'imad-khamis', 'limit': '2', 'fields': 'text_en,mode'},
        {'data': [{'id': 'khamis-aleppo-victory-credit',
                   'text_en': '[the victory in Aleppo came] thanks to the steadfastness of the people, the '
                              "sacrifices of the Syrian army and Iran's support",
                   'mode': 'direct'},
                  {'id': 'khamis-astana-initiative-iran-russia',
                   'text_en': 'The initiative concerning the Astana meeting came as the fruit of the joint efforts '
                              'of Iran and Russia',
                   'mode': 'direct'}],
         'meta': {'limit': 2, 'total': 7}},
    ),
    '/v1/statements/{statement_id}': (
        {'statement_id': 'khamis-hopes-astana-solution', 'fields': 'text_ar,text_en,speaker'},
        {'data': {'id': 'khamis-hopes-astana-solution',
                  'speaker': {'id': 'imad-khamis',
                              'name_en': 'Imad Khamis',
                              'name_ar': 'عماد خميس',
                              'kind': 'person',
                              'country': 'SYR'},
                  'text_ar': '"أمله" في توصل المفاوضات السورية في أستانا المزمع عقدها في وقت لاحق من الشهر الجاري '
                             'الى "حل يفضي لاعادة الامن والاستقرار الى سوريا"',
                  'text_en': '"his hope" that the Syrian negotiations in Astana, due to be held later this month, '
                             'would reach "a solution leading to the restoration of security and…'},
         'meta': {}},
    ),
    '/v1/participants': (
        {'q': 'Velayati', 'fields': 'name_en,name_ar,title_en'},
        {'data': [{'id': 'ali-akbar-velayati',
                   'name_en': 'Ali Akbar Velayati',
                   'name_ar': 'علي اكبر ولايتي',
                   'title_en': 'Adviser to the Leader of the Islamic Revolution for international affairs'}],
         'meta': {'limit': 50, 'total': 1}},
    ),
    '/v1/participants/{participant_id}': (
        {'participant_id': 'ali-akbar-velayati', 'fields': 'name_en,name_ar,title_en,country'},
        {'data': {'id': 'ali-akbar-velayati',
                  'name_en': 'Ali Akbar Velayati',
                  'name_ar': 'علي اكبر ولايتي',
                  'country': 'IRN',
                  'title_en': 'Adviser to the Leader of the Islamic Revolution for international affairs'},
         'meta': {}},
    ),
    '/v1/participants/{participant_id}/events': (
        {'participant_id': 'hassan-rouhani', 'fields': 'title_en,status'},
        {'data': [{'id': 'muallem-visits-tehran',
                   'title_en': 'Walid al-Muallem visits Tehran and meets Rouhani',
                   'status': 'background'},
                  {'id': 'khamis-meets-rouhani',
                   'title_en': 'Imad Khamis meets Iranian President Hassan Rouhani in Tehran',
                   'status': 'occurred'}],
         'meta': {'limit': 50, 'total': 2}},
    ),
    '/v1/participants/{participant_id}/statements': (
        {'participant_id': 'imad-khamis', 'limit': '1', 'fields': 'text_en'},
        {'data': [{'id': 'khamis-aleppo-victory-credit',
                   'text_en': '[the victory in Aleppo came] thanks to the steadfastness of the people, the '
                              "sacrifices of the Syrian army and Iran's support"}],
         'meta': {'limit': 1, 'total': 7}},
    ),
    '/v1/places': (
        {'q': 'Astana', 'fields': 'name_en,name_ar,country,lat,lon'},
        {'data': [{'id': 'astana',
                   'name_en': 'Astana',
                   'name_ar': 'أستانا',
                   'country': 'KAZ',
                   'lat': 51.1605,
                   'lon': 71.4704}],
         'meta': {'limit': 50, 'total': 1}},
    ),
    '/v1/places/{place_id}': (
        {'place_id': 'tehran', 'fields': 'name_en,name_ar,country,lat,lon'},
        {'data': {'id': 'tehran',
                  'name_en': 'Tehran',
                  'name_ar': 'طهران',
                  'country': 'IRN',
                  'lat': 35.6892,
                  'lon': 51.389},
         'meta': {}},
    ),
    '/v1/sources': (
        {'limit': '1'},
        {'data': [{'id': '000_59c438f4edc17540',
                   'publisher': 'SyriaNews',
                   'publisher_ar': 'سيريانيوز',
                   'title': 'خلال لقائه روحاني.. خميس يأمل في توصل لقاء أستانا إلى حل بشأن سوريا',
                   'published_at': '2017-01-18T19:04:00+02:00',
                   'language': 'ar',
                   'url': None,
                   'event_count': 15,
                   'statement_count': 12}],
         'meta': {'limit': 1, 'total': 1}},
    ),
    '/v1/sources/{source_id}': (
        {'source_id': '000_59c438f4edc17540', 'highlight': 'khamis-meets-rouhani'},
        {'data': {'id': '000_59c438f4edc17540',
                  'publisher': 'SyriaNews',
                  'publisher_ar': 'سيريانيوز',
                  'title': 'خلال لقائه روحاني.. خميس يأمل في توصل لقاء أستانا إلى حل بشأن سوريا',
                  'published_at': '2017-01-18T19:04:00+02:00',
                  'language': 'ar',
                  'url': None,
                  'event_count': 15,
                  'statement_count': 12,
                  'text': 'خلال لقائه روحاني.. خميس يأمل في توصل لقاء أستانا إلى حل بشأن سوريا\n'
                          '\n'
                          'التقى رئيس الوزراء عماد خميس, في طهران, عدد من المسؤولين الإيرانيين من بينهم الرئ…',
                  'highlight': {'kind': 'event', 'id': 'khamis-meets-rouhani'},
                  'highlights': [{'start': 0,
                                  'end': 67,
                                  'text': 'خلال لقائه روحاني.. خميس يأمل في توصل لقاء أستانا إلى حل بشأن سوريا',
                                  'role': 'evidence'},
                                 {'start': 69,
                                  'end': 107,
                                  'text': 'التقى رئيس الوزراء عماد خميس, في طهران',
                                  'role': 'evidence'},
                                 {'start': 146,
                                  'end': 163,
                                  'text': 'الرئيس حسن روحاني',
                                  'role': 'evidence'}],
                  'text_marked': '<mark>خلال لقائه روحاني.. خميس يأمل في توصل لقاء أستانا إلى حل بشأن سوريا</mark>\n'
                                 '\n'
                                 '<mark>التقى رئيس الوزراء عماد خميس, في طهران</mark>, عدد من المسؤولين الإيرانيين من '
                                 'بينهم <mark>الرئيس…'},
         'meta': {}},
    ),
    '/v1/event-types': (
        {},
        {'data': [{'code': '01',
                   'label': 'MAKE PUBLIC STATEMENT',
                   'root': '01',
                   'root_label': 'MAKE PUBLIC STATEMENT',
                   'goldstein': 0.0,
                   'plover': None,
                   'event_count': 0,
                   'statement_count': 0},
                  {'code': '010',
                   'label': 'Make statement, not specified below',
                   'root': '01',
                   'root_label': 'MAKE PUBLIC STATEMENT',
                   'goldstein': 0.0,
                   'plover': None,
                   'event_count': 0,
                   'statement_count': 1}],
         'meta': {'limit': 23, 'total': 23}},
    ),
    '/v1/search': (
        {'q': 'أستانا', 'limit': '2'},
        {'data': [{'kind': 'event',
                   'id': 'astana-talks-planned',
                   'score': 1.0,
                   'title': 'Syrian-Syrian talks in Astana scheduled under Russian-Turkish-Iranian sponsorship',
                   'snippet': {'field': 'evidence',
                               'text': ' تعقد محادثات سورية- سورية برعاية روسية تركية إيرانية، في العاصمة '
                                       'الكازاخستانية استانا في الـ23 من كانون الثاني الحالي.',
                               'offset': 13,
                               'matches': [{'start': 80, 'end': 86}]}},
                  {'kind': 'event',
                   'id': 'khamis-meets-rouhani',
                   'score': 1.0,
                   'title': 'Imad Khamis meets Iranian President Hassan Rouhani in Tehran',
                   'snippet': {'field': 'evidence',
                               'text': 'خلال لقائه روحاني.. خميس يأمل في توصل لقاء أستانا إلى حل بشأن سوريا',
                               'offset': 0,
                               'matches': [{'start': 43, 'end': 49}]}}],
         'meta': {'ignored_words': [], 'limit': 2, 'total': 12}},
    ),
    '/v1/stats/timeline': (
        {'interval': 'month', 'from': '2017-01-01', 'to': '2017-02-28'},
        {'data': [{'start': '2017-01-01', 'end': '2017-01-31', 'count': 9, 'ranged': 5},
                  {'start': '2017-02-01', 'end': '2017-02-28', 'count': 0, 'ranged': 0}],
         'meta': {'interval': 'month',
                  'group_by': None,
                  'from': '2017-01-01',
                  'to': '2017-02-28',
                  'buckets': 2,
                  'total': 9,
                  'ranged': 5,
                  'undated': 6}},
    ),
    '/v1/stats/facets': (
        {'facet': 'status'},
        {'data': {'status': [{'value': 'occurred', 'label': 'occurred', 'count': 6},
                             {'value': 'background', 'label': 'background', 'count': 5}]},
         'meta': {'total': 15, 'limit': 50, 'facets': {'status': {'values': 4, 'missing': 0, 'truncated': False}}}},
    ),
    '/v1/network': (
        {'participant': 'hassan-rouhani', 'limit': '3'},
        {'data': {'nodes': [{'id': 'hassan-rouhani',
                             'name_en': 'Hassan Rouhani',
                             'name_ar': 'حسن روحاني',
                             'kind': 'person',
                             'country': 'IRN',
                             'events': 2},
                            {'id': 'imad-khamis',
                             'name_en': 'Imad Khamis',
                             'name_ar': 'عماد خميس',
                             'kind': 'person',
                             'country': 'SYR',
                             'events': 1}],
                  'edges': [{'source': 'hassan-rouhani',
                             'target': 'imad-khamis',
                             'weight': 1,
                             'statement_events': 0,
                             'events': ['khamis-meets-rouhani']},
                            {'source': 'hassan-rouhani',
                             'target': 'iranian-officials',
                             'weight': 1,
                             'statement_events': 0,
                             'events': ['muallem-visits-tehran']}]},
         'meta': {'events': 2,
                  'nodes': 3,
                  'edges': 2,
                  'actors_total': 4,
                  'truncated': True,
                  'limit': 3,
                  'min_weight': 1}},
    ),
    '/v1/releases': (
        {'limit': '1'},
        {'data': [{'number': 1,
                   'dataset_version': DATASET_VERSION,
                   'loaded_at': LOADED_AT,
                   'mode': 'full',
                   'sources': {'added': ['000_59c438f4edc17540'], 'changed': [], 'removed': []},
                   'counts': {'sources': 1, 'participants': 20, 'places': 6, 'events': 15, 'statements': 12},
                   'changes': {'event': {'added': 15, 'changed': 0, 'removed': 0}}}],
         'meta': {'release': 1, 'limit': 1, 'total': 1}},
    ),
    '/v1/releases/{number}': (
        {'number': '1'},
        {'data': {'number': 1,
                  'dataset_version': DATASET_VERSION,
                  'loaded_at': LOADED_AT,
                  'mode': 'full',
                  'sources': {'added': ['000_59c438f4edc17540'], 'changed': [], 'removed': []},
                  'counts': {'sources': 1, 'participants': 20, 'places': 6, 'events': 15, 'statements': 12},
                  'changes': {'event': {'added': 15, 'changed': 0, 'removed': 0}}},
         'meta': {'release': 1}},
    ),
    '/v1/changes': (
        {'since': '0', 'limit': '2'},
        {'data': [{'kind': 'event',
                   'id': 'astana-talks-planned',
                   'change': 'added',
                   'release': 1,
                   'record': {'id': 'astana-talks-planned',
                              'title_en': 'Syrian-Syrian talks in Astana scheduled under Russian-Turkish-Iranian '
                                          'sponsorship',
                              'first_release': 1,
                              'last_release': 1}}],
         'meta': {'release': 1, 'since': 0, 'limit': 2}},
    ),
    '/v1/stats/dyads': (
        {'source_actor': 'imad-khamis', 'limit': '2'},
        {'data': [{'source': 'imad-khamis',
                   'target': 'ali-akbar-velayati',
                   'source_label': 'Imad Khamis',
                   'target_label': 'Ali Akbar Velayati',
                   'count': 1,
                   'goldstein_sum': 1.0,
                   'goldstein_mean': 1.0},
                  {'source': 'imad-khamis',
                   'target': 'eshaq-jahangiri',
                   'source_label': 'Imad Khamis',
                   'target_label': 'Eshaq Jahangiri',
                   'count': 1,
                   'goldstein_sum': 1.0,
                   'goldstein_mean': 1.0}],
         'meta': {'release': 1, 'dyads': 6, 'limit': 2, 'truncated': True, 'interval': None}},
    ),
}


def example_url(path: str, params: dict) -> str:
    """The example's request: its path parameters in the path, the others in the query."""
    query = []
    for name, value in params.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", quote(value))
        else:
            query.append((name, value))
    return path + ("?" + urlencode(query) if query else "")


def whole(path: str, params: dict, answer: dict, links: bool) -> dict:
    """``answer`` with the envelope members an abbreviation may not leave out: ``meta``'s dataset
    version and release, and (``links``: a collection) ``links``, whose next link is there when
    the page does not hold every record (a feed, which has no total, always has one)."""
    meta = {"dataset_version": DATASET_VERSION, "release": 1, **answer.get("meta", {})}
    completed = {**answer, "meta": meta}
    if links and "links" not in answer:
        url = example_url(path, params)
        more = meta["total"] > meta["limit"] if "total" in meta else True
        completed["links"] = {"self": url, "next": f"{url}&cursor={CURSOR}" if more else None}
    return completed
