"""A labelled evaluation corpus for relatedness, built in code (deterministic).

Six Chinese and six English categories; every item is a title plus sentences drawn from its category's pool,
mixed with boilerplate sentences every category shares (as real 公文 pages are). Titles deliberately share
words across categories ("关于做好2024年…工作的通知", "Apple", "Star"), and the corpus holds near-duplicate
pairs: the same text under a second URL, and reposts with a tiny title change. Two items that share a
template body but differ in the year of their title are *not* duplicates (different editions).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from feedsvc.related.boilerplate import remove_boilerplate
from feedsvc.related.docs import Doc
from feedsvc.related.index import RelatedIndex
from feedsvc.related.tokens import TokenMode

ZH_SHARED = [
    "会议强调，要提高政治站位，狠抓工作落实，确保各项任务按时完成。",
    "各单位要高度重视，加强组织领导，明确责任分工，认真抓好贯彻落实。",
    "本文仅供学习参考，转载请注明出处。",
    "会上，与会同志结合各自分管工作作了发言，大家一致表示要进一步统一思想。",
]
EN_SHARED = [
    "Readers can sign up for our weekly newsletter to get more stories like this.",
    "The report was first published on Monday and has been updated since.",
    "Officials said further details would be announced later this week.",
]

ZH: dict[str, tuple[list[str], list[str]]] = {
    "party": (
        ["支部党员大会会议记录", "关于做好2024年发展党员工作的通知", "党支部组织生活会情况报告", "三会一课制度落实情况",
         "主题党日活动方案", "党员民主评议工作总结", "入党积极分子培养考察办法", "党支部书记述职报告",
         "党风廉政建设责任书", "党员先锋岗评选结果公示"],
        ["支部委员会讨论确定入党积极分子和发展对象名单。", "全体党员参加组织生活会，开展批评与自我批评。",
         "严格落实三会一课制度，按时召开支部党员大会。", "发展党员要坚持标准，严格程序，确保新党员质量。",
         "入党积极分子应当参加党课学习并接受培养考察。", "支部书记带头讲党课，党员交流学习心得体会。",
         "开展民主评议党员，按优秀、合格、基本合格、不合格评定等次。", "党员要按时足额缴纳党费，主动亮明党员身份。",
         "预备党员转正须经支部党员大会讨论表决。", "主题党日活动组织党员重温入党誓词。",
         "加强党风廉政建设，落实全面从严治党主体责任。", "党小组会议认真学习党章党规和系列讲话精神。"],
    ),
    "flood": (
        ["防汛工作部署会议讲话", "关于做好2024年防汛工作的通知", "汛期防汛抢险应急预案", "防汛物资储备情况检查通报",
         "水库安全度汛工作方案", "山洪灾害防御演练总结", "防汛值班值守制度", "城市内涝防治工作报告",
         "堤防巡查责任人名单公示", "抗旱保供水工作简报"],
        ["主汛期来临，各地要全面进入防汛应急状态。", "加强水库堤防巡查，发现险情及时报告和处置。",
         "防汛抗旱指挥部实行二十四小时值班制度。", "提前储备编织袋、救生衣、抽水泵等防汛物资。",
         "山洪地质灾害危险区群众要提前转移避险。", "密切关注雨情水情汛情，及时发布预警信息。",
         "城市低洼易涝点要安排专人值守并设置警示标志。", "抢险队伍要做到召之即来、来之能战、战之能胜。",
         "病险水库一律空库度汛，严禁超汛限水位运行。", "组织开展防汛应急演练，提高群众自救互救能力。",
         "持续干旱导致部分地区出现人畜饮水困难。", "河道行洪障碍要在汛前全部清除。"],
    ),
    "school": (
        ["新学期开学工作安排", "关于做好2024年招生工作的通知", "教师队伍建设实施方案", "校园安全隐患排查报告",
         "期末考试组织工作方案", "义务教育课后服务工作总结", "家长会校长讲话稿", "学生综合素质评价办法",
         "教学质量分析会议纪要", "寒假学生安全教育告家长书"],
        ["学校要严格落实义务教育阶段免试就近入学政策。", "教师要认真备课上课，批改作业，关爱每一位学生。",
         "课后服务时间原则上不早于当地正常下班时间。", "期末考试要严肃考风考纪，杜绝考试作弊现象。",
         "家长要配合学校做好孩子的学习习惯培养。", "开展教研活动，提高课堂教学效率和教学质量。",
         "招生工作要公开透明，严禁以各种考试方式选拔学生。", "加强师德师风建设，严禁教师有偿补课。",
         "学生每天校内体育活动时间不少于一小时。", "班主任要及时了解学生思想动态和心理健康状况。",
         "寒假期间学生要注意交通安全、防溺水和用火用电安全。", "学校食堂要保证学生用餐安全和营养均衡。"],
    ),
    "health": (
        ["基层医疗卫生服务能力提升方案", "关于做好2024年疫苗接种工作的通知", "医院院感防控工作总结",
         "家庭医生签约服务工作报告", "无偿献血工作动员讲话", "医疗机构药品采购管理办法", "传染病疫情报告制度",
         "卫生院绩效考核实施细则", "健康教育宣传活动方案", "医疗纠纷处理工作流程"],
        ["家庭医生团队为签约居民提供基本医疗和健康管理服务。", "医院要严格执行消毒隔离制度，防止院内感染。",
         "适龄儿童要按照免疫程序及时接种疫苗。", "发现传染病疫情要在规定时限内网络直报。",
         "无偿献血者及其家属用血可按规定报销费用。", "乡镇卫生院负责辖区内慢性病患者的随访管理。",
         "药品实行集中带量采购，降低患者医药费用负担。", "医务人员要规范书写病历，合理检查、合理用药。",
         "开展高血压、糖尿病等慢性病健康知识讲座。", "医疗纠纷应当通过协商、调解或诉讼途径解决。",
         "发热门诊实行二十四小时接诊制度。", "血站要保障临床用血安全，做好血液库存管理。"],
    ),
    "tax": (
        ["小微企业税收优惠政策解读", "关于做好2024年个人所得税汇算工作的通知", "增值税发票管理办法",
         "财政预算执行情况报告", "税务稽查工作总结", "减税降费政策落实情况汇报", "非税收入征收管理规定",
         "财政资金绩效评价办法", "纳税信用等级评定结果", "政府采购工作自查报告"],
        ["小规模纳税人增值税起征点提高到月销售额十万元。", "个人所得税综合所得年度汇算须在规定期限内办理。",
         "税务机关依法开展税务稽查，打击虚开发票行为。", "财政收入完成年度预算的百分之九十八。",
         "落实减税降费政策，切实减轻企业税费负担。", "增值税专用发票要按规定开具和认证抵扣。",
         "纳税人可以通过电子税务局在线申报纳税。", "财政资金使用要开展绩效评价，提高资金使用效益。",
         "政府采购要严格执行集中采购目录和限额标准。", "非税收入全部缴入国库，实行收支两条线管理。",
         "纳税信用等级为A级的纳税人可享受激励措施。", "专项附加扣除包括子女教育、住房贷款利息等项目。"],
    ),
    "safety": (
        ["安全生产月活动方案", "关于做好2024年安全生产工作的通知", "危险化学品企业安全检查报告",
         "建筑施工安全专项整治总结", "消防安全培训讲话稿", "生产安全事故应急预案", "特种作业人员管理规定",
         "安全隐患排查治理台账", "道路交通安全整治工作方案", "燃气安全专项检查通报"],
        ["企业是安全生产责任主体，主要负责人是第一责任人。", "危险化学品储存场所要设置防爆、防静电设施。",
         "建筑施工现场作业人员必须佩戴安全帽、系好安全带。", "特种作业人员必须持证上岗，严禁无证操作。",
         "开展消防安全培训，会报警、会使用灭火器、会逃生。", "对排查出的安全隐患建立台账，限期整改销号。",
         "发生生产安全事故要立即启动应急预案并如实上报。", "严厉打击酒驾醉驾、超速超载等交通违法行为。",
         "餐饮场所燃气管道要安装可燃气体报警装置。", "深入开展安全生产月和安全生产万里行活动。",
         "矿山企业要严格落实入井人员登记检查制度。", "高处作业和有限空间作业要严格审批。"],
    ),
}

EN: dict[str, tuple[list[str], list[str]]] = {
    "economy": (
        ["Apple shares fall as tax probe widens", "Central bank raises interest rates again", "Inflation eases for a third month",
         "Small businesses get income tax relief", "Stock markets rally on rate cut hopes", "Budget deficit widens as spending grows",
         "Star investor bets on bank stocks", "Housing prices slip as mortgage rates climb", "Corporate tax reform passes the senate",
         "Unemployment falls to a record low"],
        ["The central bank raised its benchmark interest rate by a quarter point.", "Inflation slowed as energy prices fell.",
         "Investors sold bank shares after weak quarterly earnings.", "The tax bill cuts corporate tax rates and closes loopholes.",
         "Mortgage rates climbed to their highest level in a decade.", "Economists expect growth to slow next year.",
         "The stock index closed higher after the inflation report.", "Small businesses will pay lower income tax under the plan.",
         "The government deficit widened as tax revenue fell short.", "Bond yields rose as traders priced in further rate hikes.",
         "Consumer spending held up despite higher prices.", "The jobless rate fell as employers added workers."],
    ),
    "football": (
        ["Club wins the league final on penalties", "Star striker signs a new contract", "Coach sacked after derby defeat",
         "Goalkeeper saves two penalties in cup tie", "Transfer window: the biggest deals", "Captain injured before the final",
         "Promoted side stuns the champions", "Referee decision sparks fury", "Young winger scores a hat trick",
         "Fans celebrate a first title in decades"],
        ["The striker scored twice in the second half.", "The goalkeeper saved a late penalty to seal the win.",
         "The coach praised his players after the derby.", "The club agreed a transfer fee with the rival team.",
         "Fans filled the stadium for the cup final.", "The referee awarded a controversial penalty in stoppage time.",
         "The winger dribbled past three defenders before scoring.", "The captain limped off with a hamstring injury.",
         "The league title race goes down to the final match.", "The midfielder signed a four year contract.",
         "Supporters sang throughout the match despite the rain.", "The team trained behind closed doors before the final."],
    ),
    "programming": (
        ["Python 3.13 release brings a faster interpreter", "How to write unit tests with pytest", "Rust adoption grows in the kernel",
         "Refactoring legacy code safely", "A guide to async programming in Python", "Database indexes explained for developers",
         "Apple releases new developer tools", "Debugging memory leaks in long running services", "Code review habits of effective teams",
         "Type hints make large codebases easier to maintain"],
        ["The new interpreter runs most benchmarks noticeably faster.", "Write small unit tests that exercise one behaviour each.",
         "Developers use type hints to catch bugs before runtime.", "An index lets the database find rows without scanning the table.",
         "Async functions let one thread serve many network connections.", "Refactor in small steps and keep the test suite green.",
         "The compiler rejects code that could cause a data race.", "A profiler shows which functions allocate the most memory.",
         "Reviewers should focus on design before style.", "The package manager resolves dependencies from a lock file.",
         "Continuous integration runs the tests on every commit.", "The library exposes a simple API for parsing source code."],
    ),
    "cooking": (
        ["Apple tart recipe for autumn", "How to bake sourdough bread at home", "Quick weeknight pasta dinners",
         "The secret to crispy roast potatoes", "Slow cooker beef stew", "Five soups for cold evenings",
         "Star anise and cinnamon in winter baking", "A beginner guide to knife skills", "Vegetarian curry in thirty minutes",
         "Homemade dumplings step by step"],
        ["Preheat the oven and line a baking tray with parchment.", "Knead the dough until smooth and let it rise for an hour.",
         "Simmer the sauce gently and season with salt and pepper.", "Roast the potatoes until golden and crisp.",
         "Slice the apples thinly and arrange them on the pastry.", "Brown the beef in batches before adding the stock.",
         "Stir in the spices and cook until fragrant.", "Serve the curry with rice and fresh coriander.",
         "Fold the dumplings and steam them for ten minutes.", "Whisk the eggs with sugar until pale and fluffy.",
         "Chop the onions finely with a sharp knife.", "Let the bread cool on a rack before slicing."],
    ),
    "space": (
        ["Telescope captures star formation in a distant galaxy", "Rover finds signs of ancient water on Mars",
         "Rocket launch delayed by weather", "Astronauts return from the space station", "New exoplanet found in habitable zone",
         "Solar eclipse visible across the continent", "Black hole image sharpened", "Moon mission lands near the south pole",
         "Comet makes its closest approach", "Satellite constellation raises astronomy concerns"],
        ["The telescope observed clouds of gas where new stars are forming.", "The rover drilled into rock that formed in water.",
         "The rocket launch was postponed because of high winds.", "The crew spent six months aboard the space station.",
         "The planet orbits its star at a distance where liquid water could exist.", "Astronomers measured the mass of the black hole.",
         "The lander touched down near a crater at the lunar south pole.", "The comet will be visible with binoculars before dawn.",
         "Bright satellites leave streaks across telescope images.", "The spacecraft entered orbit after a seven month journey.",
         "The eclipse will darken the sky for about four minutes.", "The mission will return samples of lunar soil to Earth."],
    ),
    "medicine": (
        ["New vaccine shows strong results in trial", "Hospitals struggle with winter flu surge", "Study links sleep to heart health",
         "Blood donors urgently needed", "Drug prices cut under new scheme", "Doctors warn about antibiotic resistance",
         "Star surgeon pioneers robotic operation", "Diabetes cases rise among young adults", "Mental health services expand",
         "Nurses call for safer staffing"],
        ["The vaccine reduced infections by ninety percent in the clinical trial.", "Hospital wards are full as flu cases rise.",
         "Patients who slept less had a higher risk of heart disease.", "Blood banks asked donors to book appointments.",
         "The scheme lowers the price patients pay for common drugs.", "Overuse of antibiotics breeds resistant bacteria.",
         "Surgeons used a robot to perform the operation.", "Doctors recommend regular exercise to prevent diabetes.",
         "Nurses said staff shortages put patients at risk.", "Therapy waiting times fell after new clinics opened.",
         "The study followed thousands of patients for ten years.", "General practitioners will offer the vaccine from next month."],
    ),
}


@dataclass(frozen=True, slots=True)
class Labelled:
    doc: Doc
    lang: str
    category: str


@dataclass(frozen=True, slots=True)
class Corpus:
    items: list[Labelled]
    duplicate_pairs: list[tuple[int, int]]  # (original id, duplicate id)
    not_duplicates: list[tuple[int, int]]  # look alike, must not be caught


def build_corpus(per_category: int = 10, seed: int = 7, sentences: int = 4, boilerplate: int = 1) -> Corpus:
    rng = random.Random(seed)
    items: list[Labelled] = []
    for lang, pools, shared, joiner in (("zh", ZH, ZH_SHARED, ""), ("en", EN, EN_SHARED, " ")):
        for category, (titles, pool) in pools.items():
            for n in range(per_category):
                body = rng.sample(pool, sentences) + rng.sample(shared, boilerplate)
                rng.shuffle(body)
                doc_id = len(items) + 1
                items.append(Labelled(Doc(doc_id, titles[n % len(titles)], joiner.join(body), float(doc_id)),
                                      lang, category))
    pairs: list[tuple[int, int]] = []
    changes = {"zh": [("", "（转载）"), ("", " "), ("", "。"), ("【", "】")], "en": [("", " (updated)"), ("", "!"),
                                                                          ("Updated: ", ""), ("", " ")]}
    for lang in ("zh", "en"):
        originals = [it for it in items if it.lang == lang][3::13][:4]
        for k, original in enumerate(originals):
            prefix, suffix = changes[lang][k]
            title = original.doc.title if k == 1 else prefix + original.doc.title + suffix
            doc_id = len(items) + 1
            items.append(Labelled(Doc(doc_id, title, original.doc.text, float(doc_id)), lang, original.category))
            pairs.append((original.doc.id, doc_id))
    # Same template body, a different year in the title: a new edition, related but not a duplicate.
    look_alikes: list[tuple[int, int]] = []
    for lang in ("zh", "en"):
        base = next(it for it in items if it.lang == lang and it.doc.id not in {p for pr in pairs for p in pr})
        title = ("2023年" + base.doc.title) if lang == "zh" else base.doc.title + " (2023 edition)"
        title_new = title.replace("2023", "2024")
        a = Labelled(Doc(len(items) + 1, title, base.doc.text, float(len(items) + 1)), lang, base.category)
        items.append(a)
        b = Labelled(Doc(len(items) + 1, title_new, base.doc.text, float(len(items) + 1)), lang, base.category)
        items.append(b)
        look_alikes.append((a.doc.id, b.doc.id))
    return Corpus(items, pairs, look_alikes)


@dataclass(frozen=True, slots=True)
class Quality:
    precision_at_5: dict[str, float]  # per language
    duplicate_recall: float
    duplicates_recommended: int  # near-duplicate pairs shown as "related" (must be 0)
    false_duplicates: int  # pairs flagged as duplicates that are not labelled as such


def evaluate(corpus: Corpus, mode: TokenMode = "bigram", k: int = 5) -> Quality:
    """precision@k (a related item shares the category), near-duplicate recall, and the two error counts;
    the documents go through what production does before indexing (boilerplate removal)."""
    docs = [it.doc for it in corpus.items]
    remove_boilerplate(docs)
    index = RelatedIndex(docs, mode, shared_slots=True)  # as compute_related indexes a collection
    label = {it.doc.id: it for it in corpus.items}
    dup_ids = {d for _, d in corpus.duplicate_pairs}
    labelled = {frozenset(p) for p in corpus.duplicate_pairs}
    hits: dict[str, list[float]] = {"zh": [], "en": []}
    caught: set[frozenset[int]] = set()
    recommended = false_dups = 0
    for doc, rel, dups in index.neighbours(k + len(dup_ids)):
        for d in dups:
            pair = frozenset((doc.id, d.id))
            if pair in labelled:
                caught.add(pair)
            else:
                false_dups += 1
        shown = [s for s in rel if s.id not in dup_ids][:k]
        recommended += sum(1 for s in shown if frozenset((doc.id, s.id)) in labelled)
        if doc.id in dup_ids or not shown:
            continue
        me = label[doc.id]
        hits[me.lang].append(sum(label[s.id].category == me.category for s in shown) / k)
    return Quality({lang: sum(v) / len(v) for lang, v in hits.items()}, len(caught) / len(labelled),
                   recommended, false_dups // 2)
