"""The standard exports of a published advisory: OSV, CVE JSON 5.1, CSAF 2.0 (and its VEX
profile) and OpenVEX, each a plain function of an ``AdvisoryDocument`` and an ``ExportContext``."""

# The formats' names, importable before Django is set up (the CLI's parser offers them).
FORMAT_NAMES = ("osv", "cve", "csaf", "csaf-vex", "openvex")
