"""Fictional names from Faker across locales, filtered against names of well-known real people.

A name is dropped when the full name, or its surname alone for the most famous surnames, is in the
lists below (compared case- and accent-insensitively). Chinese names must have a two-character
given name, which keeps clear of most famous two-character names such as 李娜 or 王菲.
"""

from __future__ import annotations

import unicodedata

from faker import Faker

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "pl_PL", "nl_NL", "sv_SE")
ZH_LOCALE = "zh_CN"

FAMOUS_FULL = {
    # politics and history
    "george washington", "john adams", "thomas jefferson", "james madison", "james monroe", "john quincy adams",
    "andrew jackson", "abraham lincoln", "andrew johnson", "james garfield", "william mckinley",
    "theodore roosevelt", "franklin roosevelt", "harry truman", "john kennedy", "lyndon johnson",
    "richard nixon", "gerald ford", "jimmy carter", "ronald reagan", "george bush", "bill clinton",
    "barack obama", "donald trump", "joe biden", "kamala harris", "hillary clinton", "winston churchill",
    "margaret thatcher", "tony blair", "boris johnson", "theresa may", "david cameron", "gordon brown",
    "charles de gaulle", "emmanuel macron", "angela merkel", "helmut kohl", "olaf scholz", "otto von bismarck",
    "nelson mandela", "mahatma gandhi", "vladimir putin", "joseph stalin", "vladimir lenin", "mao zedong",
    "john smith", "james cook", "francis drake", "walter raleigh", "martin luther", "martin luther king",
    "john lennon", "paul mccartney", "george harrison", "ringo starr", "elvis presley", "michael jackson",
    "david bowie", "freddie mercury", "elton john", "bob dylan", "bob marley", "taylor swift", "james brown",
    "tom hanks", "tom cruise", "brad pitt", "johnny depp", "will smith", "chris evans", "chris brown",
    "michael jordan", "michael johnson", "david beckham", "lionel messi", "cristiano ronaldo", "roger federer",
    "rafael nadal", "serena williams", "usain bolt", "tiger woods", "carlos alcaraz", "michael phelps",
    "albert einstein", "isaac newton", "charles darwin", "marie curie", "nikola tesla", "thomas edison",
    "stephen hawking", "galileo galilei", "alan turing", "ada lovelace", "leonardo da vinci", "pablo picasso",
    "vincent van gogh", "william shakespeare", "jane austen", "charles dickens", "mark twain", "ernest hemingway",
    "steve jobs", "bill gates", "elon musk", "jeff bezos", "mark zuckerberg", "larry page", "sergey brin",
    "john williams", "john wayne", "james dean", "james bond", "harry potter", "sherlock holmes",
    "david smith", "james smith", "michael smith", "robert smith", "maria garcia", "jose garcia",
    "thomas müller", "manuel neuer", "michael schumacher", "karl marx", "friedrich nietzsche",
    "johann sebastian bach", "wolfgang amadeus mozart", "ludwig van beethoven", "frédéric chopin",
    "victor hugo", "jules verne", "napoleon bonaparte", "louis pasteur", "claude monet", "edith piaf",
    "pedro almodóvar", "miguel de cervantes", "antonio banderas", "penélope cruz",
    "dante alighieri", "sophia loren", "luciano pavarotti", "giuseppe verdi", "enzo ferrari",
    "pelé", "neymar", "ayrton senna", "paulo coelho", "gisele bündchen", "lech wałęsa", "robert lewandowski",
    "marie skłodowska", "karol wojtyła", "johan cruijff", "rembrandt van rijn", "greta garbo", "ingrid bergman",
    "alfred nobel", "astrid lindgren", "zlatan ibrahimović", "björn borg", "anders celsius", "carl linnaeus",
}
FAMOUS_SURNAMES = {
    "einstein", "newton", "curie", "darwin", "shakespeare", "picasso", "mozart", "beethoven", "lincoln",
    "washington", "obama", "trump", "biden", "clinton", "kennedy", "churchill", "gandhi", "mandela", "napoleon",
    "tesla", "edison", "musk", "zuckerberg", "bezos", "hawking", "galilei", "turing", "lovelace", "dickens",
    "tolkien", "rowling", "hemingway", "bonaparte", "stalin", "lenin", "hitler", "merkel", "macron", "putin",
    "nobel", "chopin", "bach", "verdi", "pavarotti", "messi", "ronaldo", "federer", "nadal", "jordan",
    # the commonest English surnames: "Michael Brown" or "James Wilson" is somebody real
    "smith", "johnson", "williams", "brown", "jones", "miller", "davis", "wilson", "taylor", "anderson",
}
FAMOUS_ZH = {
    "毛泽东", "周恩来", "邓小平", "孙中山", "蒋介石", "习近平", "胡锦涛", "江泽民", "李白", "杜甫", "鲁迅",
    "孔子", "老子", "孟子", "屠呦呦", "钱学森", "袁隆平", "杨利伟", "李娜", "王菲", "刘洋", "张伟", "王伟",
    "成龙", "李小龙", "周杰伦", "刘德华", "张学友", "梁朝伟", "巩俐", "章子怡", "范冰冰", "姚明", "刘翔",
    "郎平", "马云", "马化腾", "李彦宏", "任正非", "雷军", "张一鸣", "莫言", "金庸", "余华", "曹雪芹", "王羲之",
    "诸葛亮", "曹操", "刘备", "关羽", "秦始皇", "李世民", "武则天", "郑和", "张衡", "祖冲之", "司马迁",
    "钱钟书", "杨振宁", "李政道", "丁肇中", "吴健雄", "邓稼先", "华罗庚", "陈景润", "林徽因", "梁思成",
    "张艺谋", "陈凯歌", "冯小刚", "王力宏", "林俊杰", "邓丽君", "张国荣", "梅兰芳", "齐白石", "徐悲鸿",
    "张爱玲", "巴金", "老舍", "沈从文", "胡适", "梁启超", "康有为", "李鸿章", "林则徐", "朱熹", "王阳明",
    "刘慈欣", "韩寒", "郭敬明", "李宁", "邓亚萍", "孙杨", "谷爱凌", "朱婷", "丁俊晖", "易建联", "王治郅",
    "李连杰", "甄子丹", "周星驰", "赵本山", "宋丹丹", "王俊凯", "易烊千玺", "杨幂", "赵丽颖", "刘亦菲",
}


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


_FULL = {_fold(n) for n in FAMOUS_FULL}


def is_famous(name: str, surname: str = "") -> bool:
    if name in FAMOUS_ZH:
        return True
    folded = _fold(name)
    return folded in _FULL or _fold(surname) in FAMOUS_SURNAMES or any(
        part in FAMOUS_SURNAMES for part in folded.split())


def _city(fake: Faker) -> str:
    """A city name; drawn from the locale's sorted list when it has one (it_IT's `city()` depends on set order)."""
    provider = fake.provider("faker.providers.address")
    cities = getattr(provider, "cities", None)
    if isinstance(cities, (list, tuple)) and cities:
        return str(fake.random_element(sorted(set(cities))))
    return str(fake.city())


def western_names(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(full name, city, locale) from the Western locales in rotation, unique and not famous."""
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for k, loc in enumerate(LOCALES):
        fakers[loc].seed_instance(seed + k)
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    k = 0
    while len(out) < n:
        loc = LOCALES[k % len(LOCALES)]
        k += 1
        fake = fakers[loc]
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last}"
        if name in seen or is_famous(name, last):
            continue
        seen.add(name)
        out.append((name, _city(fake), loc))
    return out


def chinese_names(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(name, city, locale) from zh_CN: surname + two-character given name, unique and not famous."""
    fake = Faker(ZH_LOCALE)
    fake.seed_instance(seed)
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    while len(out) < n:
        surname = fake.last_name()
        given = fake.first_name()
        if len(given) != 2 or len(surname) != 1:
            continue
        name = surname + given
        if name in seen or is_famous(name):
            continue
        seen.add(name)
        out.append((name, fake.city_name(), ZH_LOCALE))
    return out
