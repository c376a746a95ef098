"""Word lists for the synthetic demo county: surnames, given-name characters, places and firm names.

Names are built from a surname and one or two given-name characters drawn at random, so they are
synthetic by construction; nothing here is a record of a real person. Phone numbers use the
``19900`` block and ID numbers the fictitious county code 339901 (see ``app.seed.demo``).
"""

from __future__ import annotations

# Common surnames, most frequent first (the weights in demo.py fall off with the rank).
SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
    "莫孔向汤柴应楼舒施童裘俞留娄"
)

# Given-name characters by sex and generation (born before 1975: "old", after: "new").
GIVEN_MALE_OLD: tuple[str, ...] = tuple("建国华明军伟强平文志勇林海峰波东刚德福根富贵荣生祥水金春永忠兴卫新成立学振家庆民发顺才宝全友")
GIVEN_MALE_NEW: tuple[str, ...] = tuple("杰涛斌辉磊超鹏宇浩俊晨子轩睿博宏航凯帆哲铭扬诚昊天恒毅晟豪锋嘉瑞泽楷翔阳逸锦程")
GIVEN_FEMALE_OLD: tuple[str, ...] = tuple("秀英兰芳玉珍凤梅华丽红霞燕娟菊桂翠金月淑春云香彩琴素仙爱莲花荷妹娥琼美萍")
GIVEN_FEMALE_NEW: tuple[str, ...] = tuple("敏静婷雪琳欣怡艳丹慧颖晓佳雨琪思梦诗悦蕾薇璐倩洁妍馨瑶涵可菲萱芸岚")

# Where people moved to (迁往地): places outside the demo county.
DESTINATIONS: tuple[str, ...] = (
    "浙江省杭州市", "浙江省宁波市", "浙江省温州市", "浙江省金华市义乌市", "浙江省绍兴市",
    "上海市", "江苏省苏州市", "江苏省南京市", "广东省深圳市", "广东省广州市", "福建省厦门市",
    "北京市", "安徽省合肥市", "江西省南昌市", "示范市城区",
)

# Words for synthetic organisation names.
FIRM_WORDS: tuple[str, ...] = tuple("恒泰丰源鑫隆兴盛宏达永安金峰瑞祥信诚和顺天成华茂嘉禾绿野青山")
FIRM_TRADES: tuple[tuple[str, str], ...] = (
    ("C", "竹木制品有限公司"), ("C", "食品有限公司"), ("C", "机械配件厂"), ("E", "建筑工程有限公司"),
    ("F", "农资经营部"), ("G", "物流有限公司"), ("H", "农家乐"), ("O", "家政服务有限公司"), ("C", "茶叶加工厂"),
)
SHOP_TRADES: tuple[tuple[str, str], ...] = (
    ("F", "便民超市"), ("F", "五金店"), ("H", "小吃店"), ("O", "理发店"), ("O", "摩托车修理部"), ("F", "农资店"),
)
COOP_PRODUCTS: tuple[str, ...] = ("茶叶", "水果", "蔬菜", "毛竹", "食用菌", "中药材", "生猪", "水稻", "蜂蜜", "油茶")
RISKS: tuple[str, ...] = ("因病", "因残", "因学", "因灾", "缺劳动力", "意外事故", "产业项目失败", "务工就业不稳")
