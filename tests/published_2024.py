"""The published all-Wales figures of the 2024 cluster self-reflection report (Tables 1-9), typed in
from the report for the tests to compare against. Order: pre-foundation, foundation, developing, mature."""

MATURITY = {
    "pcmw-1": (3, 17, 21, 5), "pcmw-2": (6, 21, 14, 5), "pcmw-3": (0, 11, 26, 9), "pcmw-4": (1, 8, 23, 14),
    "pcmw-5": (4, 15, 20, 7), "pcmw-6": (9, 14, 13, 10), "pcmw-7": (23, 10, 5, 7), "pcmw-8": (6, 6, 19, 15),
    "pcmw-9": (3, 6, 23, 14), "pcmw-10": (12, 19, 9, 6), "pcmw-11": (7, 22, 12, 5), "pcmw-12": (24, 9, 8, 5),
    "pcmw-13": (11, 16, 10, 7),
    "acd-1": (11, 17, 16, 2), "acd-2": (4, 9, 22, 10), "acd-3": (4, 20, 21, 1), "acd-4": (10, 22, 11, 3),
    "acd-5": (7, 11, 21, 7), "acd-6": (14, 15, 15, 2), "acd-7": (17, 14, 10, 4),
}
TEAM_STAGES = {"forming": 11, "storming": 5, "norming": 26, "performing": 4}
LEVELS = ("pre_foundation", "foundation", "developing", "mature")
