"""Facts taken from the five news seeds (``/work/shared/seeds/``), as plain Python data.

Everything here is quoted or read directly from a seed; each record names the seed it comes
from. Where a seed does not state something (most often the district of a community), the
record holds our best reading and says so (``district_inferred=True``) with the reasoning in
``note``. The demo scenario (:mod:`data.demo`) draws its real names, outbreak cities and the
one real daily report from here; everything else in the demo is generated.

Seeds
-----
- seed 000 (2022-02-08 paper): provincial community-control notice; 2022-02-07 Taiyuan daily report.
- seed 001 (2021-12-08): Zhejiang outbreak (Hangzhou/Ningbo/Shaoxing), 53 risk areas in 6 provinces
  9 cities; 御德苑 community canteen, 西峪 community, 阳曲县 南坡街 community.
- seed 002 (2022-10-31): provincial meeting; 光华街, 公园路, 西矿街南 communities; 交城 close contacts.
- seed 003 (2022-01-12): 晋中市榆次区 高村 cases from Hebei; 并州路一社区.
- seed 004 (2022-03-28): "11 places" notice and the classification rules; 小店街道 通达街社区;
  尖草坪区 quarantine-hotel training.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.divisions import TAIYUAN_DISTRICTS as _DIVISIONS

__all__ = [
    "SEED_FILES",
    "TAIYUAN_DISTRICTS",
    "Community",
    "Street",
    "Place",
    "OutbreakPlace",
    "COMMUNITIES",
    "STREETS",
    "PLACES",
    "OUTBREAKS",
    "CASE_PROVINCES_2022_03_27",
    "NATIONAL_LIST_2021_12_08",
    "DAILY_REPORT_2022_02_07",
    "DAILY_REPORT_2022_02_07_EXTRA",
    "OTHER_FIGURES",
    "outbreaks_on",
]

#: Seed id → file name under ``/work/shared/seeds/``.
SEED_FILES: dict[str, str] = {
    "seed 000": "000_ce34bb3450e2f045.txt",
    "seed 001": "001_093eea697a505d6d.txt",
    "seed 002": "002_45fdff6c98f5bab5.txt",
    "seed 003": "003_273fa9f05efffd87.txt",
    "seed 004": "004_09eccd75828fcdac.txt",
}

#: Taiyuan's ten county-level divisions (GB/T 2260), urban districts first (one table, kept by the
#: boundary extraction).
TAIYUAN_DISTRICTS: dict[str, str] = dict(_DIVISIONS)


@dataclass(frozen=True)
class Community:
    """A real Taiyuan community 社区 named in a seed.

    Attributes
    ----------
    name : str
        The community name as printed, e.g. ``"御德苑社区"``.
    district, district_adcode : str
        The county-level division (stated in the seed, or our reading: see ``district_inferred``).
    street : str or None
        The street 街道/乡镇 when the seed names it; ``None`` when it does not.
    seed : str
        The seed the name comes from (``"seed 001"``; several seeds joined by ``", "``).
    district_inferred : bool
        True when the seed does not state the district and ``district`` is our reading.
    note : str
        The words in the seed that place it, and the reasoning for an inferred district.
    """

    name: str
    district: str
    district_adcode: str
    street: str | None
    seed: str
    district_inferred: bool
    note: str


@dataclass(frozen=True)
class Street:
    """A real street 街道 named in a seed, with its district."""

    name: str
    district: str
    district_adcode: str
    seed: str
    district_inferred: bool
    note: str


@dataclass(frozen=True)
class Place:
    """Another named place in Taiyuan (a compound, a road, a station, a hospital).

    ``used_in_demo`` says whether :mod:`data.demo` puts the name anywhere (only where its
    location does not matter, e.g. in an address inside the community the seed names).
    """

    name: str
    kind: str
    district: str | None
    community: str | None
    seed: str
    used_in_demo: bool
    note: str


@dataclass(frozen=True)
class OutbreakPlace:
    """A place outside Taiyuan named as an outbreak / risk place on a date.

    Attributes
    ----------
    date : str
        ISO date of the notice in the seed.
    province : str
        Full province name, e.g. ``"浙江省"``.
    city : str or None
        Full prefecture name, ``None`` when only the province is named (e.g. "河北").
    county : str or None
        Full county name when named (e.g. ``"榆次区"``).
    area : str or None
        A place below county level when named (e.g. ``"高村"``).
    history_since : str or None
        Start of the travel-history window the notice asks about (e.g. "11月23日以来").
    seed : str
        Source seed.
    note : str
        The wording in the seed.
    """

    date: str
    province: str
    city: str | None
    county: str | None
    area: str | None
    history_since: str | None
    seed: str
    note: str


COMMUNITIES: tuple[Community, ...] = (
    Community(
        "御德苑社区", "万柏林区", "140109", "小井峪街道", "seed 001", False,
        "“万柏林社区食堂添‘新丁’，小井峪街道的御德苑社区食堂开业了”",
    ),
    Community(
        "光华街社区", "万柏林区", "140109", "小井峪街道", "seed 002", False,
        "“10月31日万柏林消息，连日来小井峪街道光华街社区的网格员……”（辖区6个网格、40余家商户）",
    ),
    Community(
        "公园路社区", "万柏林区", "140109", "千峰街道", "seed 002", False,
        "“10月31日万柏林消息……千峰街道公园路社区的网格员”（district from the 万柏林 dateline）",
    ),
    Community(
        "西矿街南社区", "万柏林区", "140109", None, "seed 002", True,
        "“西矿街南社区‘防疫好姐妹’”; no district or street in the text. Read as 万柏林区 "
        "(西矿街 is a 万柏林区 road); its residents include 建工小区.",
    ),
    Community(
        "西峪社区", "万柏林区", "140109", None, "seed 001", True,
        "“西峪社区有了‘红色驿站’……设立了4个网格党支部”; no district in the text. Read as "
        "万柏林区: same reporter/correspondent (李涛, 郭瑶) as the 万柏林 stories in seeds 000/001.",
    ),
    Community(
        "南坡街社区", "阳曲县", "140122", None, "seed 001", False,
        "“阳曲县南坡街社区网格员刘素卿与李焕香……泽秀巷红楼二单元”",
    ),
    Community(
        "通达街社区", "小店区", "140105", "小店街道", "seed 004", True,
        "“小店街道‘扫街行动’……通达街社区网格员康小军”; the district is not printed. "
        "Read as 小店区, the district 小店街道 belongs to.",
    ),
    Community(
        "并州路一社区", "迎泽区", "140106", None, "seed 003", True,
        "“1月12日，并州路一社区和太原市城镇集体工业联合社的爱心志愿者……”; no district in "
        "the text. Read as 迎泽区, which 并州路 (并州南路/并州北路) runs through.",
    ),
)

STREETS: tuple[Street, ...] = (
    Street("小井峪街道", "万柏林区", "140109", "seed 001, seed 002", False, "御德苑社区 and 光华街社区 (万柏林 stories)"),
    Street("千峰街道", "万柏林区", "140109", "seed 002", False, "公园路社区 (10月31日万柏林消息)"),
    Street("小店街道", "小店区", "140105", "seed 004", True, "通达街社区; 14 joint teams checking 2,000+ shops"),
)

PLACES: tuple[Place, ...] = (
    Place("建工小区", "residential compound", "万柏林区", "西矿街南社区", "seed 002", True,
          "3 workers, close contacts of a 交城 case, collected here on 2022-10-28"),
    Place("泽秀巷红楼", "residential building", "阳曲县", "南坡街社区", "seed 001", True,
          "heating pipe leak in 二单元, handled by the grid workers"),
    Place("通达街", "road", "小店区", "通达街社区", "seed 004", False, "red/green cards on shops"),
    Place("光华街", "road", "万柏林区", "光华街社区", "seed 002", False, "restaurant checking codes"),
    Place("太原南站", "railway station", None, None, "seed 003", False, "太原南站客运车间; location not modelled"),
    Place("省人民医院", "hospital", None, None, "seed 004", False, "experts at the 尖草坪区 hotel training"),
    Place("太钢总医院", "hospital", None, None, "seed 004", False, "infection-control experts at the training"),
    Place("太原中西医结合医院", "hospital", None, None, "seed 004", False, "nursing team examined the trainees"),
    Place("幸福汇", "community service (unclear)", None, None, "seed 001", False,
          "“幸福汇‘长者志愿服务队’在社区食堂”: not clearly a community name, so not used"),
    Place("尖草坪区", "district", "尖草坪区", None, "seed 004", True,
          "quarantine-hotel infection-control training; certificates 上岗证 for those who passed"),
)

OUTBREAKS: tuple[OutbreakPlace, ...] = (
    # seed 001, 2021-12-08: Zhejiang 19 local infections; "浙江5地调整为中风险区"; 53 areas, 6 provinces 9 cities.
    OutbreakPlace("2021-12-08", "浙江省", "杭州市", None, None, "2021-11-23", "seed 001",
                  "11月23日以来有浙江省杭州市、宁波市、绍兴市旅居史的人员要报备"),
    OutbreakPlace("2021-12-08", "浙江省", "宁波市", None, None, "2021-11-23", "seed 001", "同上"),
    OutbreakPlace("2021-12-08", "浙江省", "绍兴市", None, None, "2021-11-23", "seed 001", "同上"),
    OutbreakPlace("2021-12-08", "内蒙古自治区", "呼伦贝尔市", None, None, None, "seed 001",
                  "53个中高风险区共涉及内蒙古呼伦贝尔、黑龙江哈尔滨、浙江杭州、宁波等6省9市"),
    OutbreakPlace("2021-12-08", "黑龙江省", "哈尔滨市", None, None, None, "seed 001", "同上"),
    # seed 003, 2022-01-12
    OutbreakPlace("2022-01-12", "河北省", None, None, None, None, "seed 003",
                  "由冀返晋无症状感染者; 密切接触河北等中高风险地区来(返)晋人员"),
    OutbreakPlace("2022-01-12", "山西省", "晋中市", "榆次区", "高村", None, "seed 003",
                  "晋中市榆次区发现2例由冀返晋无症状感染者; 榆次区高村等重点区域实行封闭管控"),
    # seed 004, 2022-03-28: "十一地"
    *(
        OutbreakPlace("2022-03-28", prov, city, None, None, "2022-03-13", "seed 004",
                      "3月13日以来有……旅居史的返(抵)并人员要主动报备")
        for prov, city in (
            ("广东省", "肇庆市"),
            ("安徽省", "淮南市"),
            ("安徽省", "淮北市"),
            ("安徽省", "阜阳市"),
            ("浙江省", "台州市"),
            ("广东省", "佛山市"),
            ("黑龙江省", "鹤岗市"),
            ("甘肃省", "甘南藏族自治州"),
            ("河南省", "南阳市"),
            ("湖北省", "鄂州市"),
            ("湖北省", "黄冈市"),
        )
    ),
    OutbreakPlace("2022-03-28", "吉林省", None, None, None, None, "seed 004",
                  "忻州市在援建吉林方舱医院返回人员中发现确诊病例; 吉林 first of the 18 provinces"),
    OutbreakPlace("2022-03-28", "上海市", None, None, None, None, "seed 004",
                  "上海 second of the 18 provinces with new local cases on 3月27日"),
    OutbreakPlace("2022-03-28", "山西省", "忻州市", None, None, None, "seed 004",
                  "忻州市在援建吉林方舱医院返回人员中发现确诊病例; 忻州市要提级指挥"),
    # seed 002, 2022-10-31 (the events it reports happened on 2022-10-28)
    OutbreakPlace("2022-10-31", "山西省", "吕梁市", "交城县", None, None, "seed 002",
                  "10月28日傍晚……有3名工人是交城确诊病例密接的同乘人员，需要即刻隔离观察"),
)

#: seed 004: the 18 provinces reporting 1,219 new local cases in 50 cities on 2022-03-27.
CASE_PROVINCES_2022_03_27: tuple[str, ...] = (
    "吉林省", "上海市", "辽宁省", "黑龙江省", "福建省", "河南省", "天津市", "山东省", "河北省",
    "广东省", "陕西省", "江苏省", "安徽省", "浙江省", "江西省", "广西壮族自治区", "云南省", "甘肃省",
)

#: seed 001: the national list as of 2021-12-08 06:00.
NATIONAL_LIST_2021_12_08: dict[str, int] = {
    "areas": 53,
    "provinces": 6,
    "cities": 9,
    "zhejiang_medium_areas": 5,
    "zhejiang_local_infections_2021_12_07": 19,
}

#: seed 000: Taiyuan's daily report for 2022-02-07 (0–24 h), in ``layers.daily_reports`` columns.
DAILY_REPORT_2022_02_07: dict[str, int] = {
    "new_local_confirmed": 0,  # 本地无新增确诊病例
    "new_suspected": 0,  # 无新增疑似病例
    "new_local_asymptomatic": 0,  # 无新增无症状感染者
    "new_imported_confirmed": 0,  # 无新增境外输入确诊病例
    "new_imported_asymptomatic": 2,  # 新增境外输入无症状感染者2例
    "recovered": 1,  # 当日治愈出院境外输入确诊病例1例
    "returnees_key_regions": 0,  # 当日无重点地区返(抵)并人员
    "tests": 17012,  # 当日核酸检测应检尽检、愿检尽检17012人次
    "cum_confirmed": 21,  # 累计报告新冠肺炎确诊病例21例，已全部治愈出院 (local)
    "cum_imported_confirmed": 99,  # 累计报告境外输入确诊病例99例
    "cum_imported_asymptomatic": 24,  # 累计报告24例境外输入无症状感染者
    "cum_tests": 2193207,  # 累计核酸检测应检尽检、愿检尽检2193207人次
}

#: seed 000: the other figures of the same report (not columns of the layer).
DAILY_REPORT_2022_02_07_EXTRA: dict[str, int] = {
    "cum_local_confirmed_recovered": 21,
    "cum_local_suspected": 232,
    "cum_local_suspected_excluded": 219,
    "cum_local_suspected_to_confirmed": 13,
    "current_local_suspected": 0,
    "cum_imported_confirmed_recovered": 93,
    "current_imported_confirmed": 6,
    "cum_tests_voluntary": 2090767,
    "cum_tests_required": 102440,
    "cum_vaccine_doses_key_groups": 219280,
}

#: Other numbers the seeds give.
OTHER_FIGURES: dict[str, tuple[int, str]] = {
    "shanxi_public_testing_institutions": (217, "seed 000"),
    "wanbailin_cinemas_inspected": (10, "seed 000"),
    "cinema_max_occupancy_percent": (70, "seed 000"),
    "xiyu_grid_party_branches": (4, "seed 001"),
    "yudeyuan_canteen_m2": (200, "seed 001"),
    "guanghuajie_grids": (6, "seed 002"),
    "guanghuajie_shops": (40, "seed 002"),
    "theatre_max_occupancy_percent": (75, "seed 003"),
    "xiaodian_joint_teams": (14, "seed 004"),
    "xiaodian_shops": (2000, "seed 004"),
    "new_local_cases_2022_03_27": (1219, "seed 004"),
    "cities_with_cases_2022_03_27": (50, "seed 004"),
}


def outbreaks_on(date: str) -> tuple[OutbreakPlace, ...]:
    """The outbreak places a seed names for a notice date (ISO ``YYYY-MM-DD``).

    Parameters
    ----------
    date : str
        The notice date, e.g. ``"2022-03-28"``.

    Returns
    -------
    tuple of OutbreakPlace
        In seed order; empty when no seed has a notice of that date.
    """
    return tuple(o for o in OUTBREAKS if o.date == date)
