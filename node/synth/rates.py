# SPDX-License-Identifier: Apache-2.0
"""The figures the generator draws from (domain.md section 6), in one place.

National figures from the NBS bulletins and the 7th census, rounded; a county varies
around them. Keeping them together makes a reviewer's question "where does 6.8 come
from?" a one-file answer, and lets a benchmark or a test quote the same constants.
"""

from __future__ import annotations

# Vital events per 1,000 residents a year.
BIRTHS_PER_1000 = 6.8
DEATHS_PER_1000 = 7.8
MARRIAGES_PER_1000 = 5.0
# Floating (流动): people leaving to live elsewhere with the hukou staying, and people
# arriving from elsewhere with their hukou there.
FLOATING_OUT_PER_1000 = 12.0
FLOATING_IN_PER_1000 = 12.0
# Hukou moves (户籍迁移), mostly brides moving their hukou to the husband's place, some
# students and workers settling: far rarer than floating.
HUKOU_MOVES_OUT_PER_1000 = 3.0
HUKOU_MOVES_IN_PER_1000 = 3.0
COMPLAINTS_PER_1000 = 2.0
SPECIAL_SUPPORT_PER_1000 = 0.3

# Birth order of births in the span: first, second, third or later.
BIRTH_ORDER_WEIGHTS = (0.45, 0.40, 0.15)
# Sex ratio at birth, boys per 100 girls.
SEX_RATIO_AT_BIRTH = 111.0
P_BOY = SEX_RATIO_AT_BIRTH / (SEX_RATIO_AT_BIRTH + 100.0)

WOMEN_15_49_SHARE = 0.23
# Women's mean age at first marriage: about 28 for marriages now (section 6); the
# married women already in the village married younger, around 26, as their cohorts did.
MEAN_FIRST_MARRIAGE_AGE = 28.0
COHORT_FIRST_MARRIAGE_AGE = 26.0
LEGAL_MARRIAGE_AGE = {"F": 20, "M": 22}

# Floating share per village: coastal industrial villages far above the 26.6 % national
# figure, inland ones below; each village draws its own share from this band.
FLOATING_BAND = (0.10, 0.40)

# 5-year age bands 0-4 ... 80-84, 85+ (7th census, % of residents, both sexes).
AGE_BANDS = (
    5.5,
    6.4,
    6.3,
    5.2,
    5.3,
    6.5,
    8.8,
    7.0,
    6.6,
    8.3,
    8.7,
    7.1,
    5.2,
    5.1,
    3.5,
    2.2,
    1.5,
    1.0,
)
OLDEST = 95

# Share ever married among women 15-49, by 5-year band 15-19 ... 45-49; with about 5 %
# of them divorced or widowed this gives the ~70 % currently married of section 6.
EVER_MARRIED_BY_BAND = (0.02, 0.28, 0.65, 0.90, 0.96, 0.97, 0.98)
EVER_MARRIED_STATUS: tuple[tuple[str, float], ...] = (
    ("married", 0.92),
    ("remarried", 0.03),
    ("divorced", 0.04),
    ("widowed", 0.01),
)

# Children already born to a married woman (before duration and age limits apply).
CHILDREN_WEIGHTS = ((0, 0.08), (1, 0.42), (2, 0.40), (3, 0.10))

# Contraceptive method in use among married women 15-49 (Table 3 categories). Section 6
# gives, among users: IUD about half, female sterilisation a quarter, condoms ~15 %, male
# sterilisation a few per cent, implants, pills and injections the rest. Long-acting
# methods follow a first child, so childless wives (about a fifth of married women here)
# draw from their own mix, and mothers from one that makes up the national shares.
NONE_SHARE = 0.12
METHOD_MIX_MOTHERS = (
    ("iud", 0.60),
    ("female_sterilisation", 0.30),
    ("condom", 0.03),
    ("male_sterilisation", 0.03),
    ("implant", 0.02),
    ("pill_injection", 0.01),
    ("other", 0.01),
)
METHOD_MIX_CHILDLESS = (("condom", 0.75), ("pill_injection", 0.25))

# Yearly shares of people 60+ enrolled in the reward-support programme.
REWARD_SUPPORT_SHARE = 0.12
BENEFIT_AGE = 60
# Yuan per person and year: the national reward-support standard, and a special-support
# amount of the order counties pay (both vary by county).
ANNUAL_AMOUNTS = {"reward_support": 960, "special_support": 5400}
# The in-person check of every recipient, twice a year (篇4 第16条).
BENEFIT_CHECK_MONTHS = 6

# Monthly probabilities of routine services, per eligible woman.
GYNAECOLOGICAL_CHECK_MONTHLY = 0.002
REPRODUCTIVE_CHECK_CYCLE_MONTHS = 24
CHECK_TAKEN_UP = 0.85
PRE_PREGNANCY_CHECK_SHARE = 0.6
FOLLOW_UP_DAYS = (30, 90, 180, 365)
METHOD_SWITCH_MONTHLY = 0.003
IUD_REMOVAL_45_MONTHLY = 0.003
IMPLANT_REMOVAL_MONTHLY = 0.002
ONLY_CHILD_CERTIFICATE_MONTHLY = 0.004
BIRTH_REGISTERED_SHARE = 0.92
