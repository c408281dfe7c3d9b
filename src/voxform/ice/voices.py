"""ICE's voice ids (lower case, as in its voice tables) and the gender each speaks with."""

from __future__ import annotations

from typing import Literal

Gender = Literal["female", "male"]

# ICE voice ids whose gender we know; any other id (or a cloned voice) speaks as female.
_FEMALE_VOICES = """
xiaoyun ruoxi siqi sijia aiqi aijia ninger ruilin siyue aiya aixia aimei aiyu aiyue
aijing xiaomei aina yina sijing sitong xiaobei aitong aiwei aibao abby emily luna wendy
olivia annie ava lydia shanshan jiajia taozi kelly chuangirl qingqing cuijie tomoka
indah farah tala tien kyong masha camila perla clara hanna waan betty beth cally cindy
donna eva guijie stella rosa xiaoxian yuer maoxiaomei yaqun qiaowei laomei zhitian_emo
zhiyan_emo zhimiao_emo zhibei_emo
""".split()  # noqa: SIM905  (a table, easier to read as text)
_MALE_VOICES = """
xiaogang sicheng aicheng aida aishuo harry andy eric luca william brian david xiaoze
tomoya stanley kenny mashu aifei ailun dahu laotie aikan zhishuo
""".split()  # noqa: SIM905
ICE_VOICES: dict[str, Gender] = {
    **dict.fromkeys(_FEMALE_VOICES, "female"),
    **dict.fromkeys(_MALE_VOICES, "male"),
}
