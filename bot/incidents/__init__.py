"""Incidents at a contractor (委託先での漏えい等): the facts as a model, whether APPI Art. 26 and
PPC Rule 7 require a report to the PPC, the report's deadlines under PPC Rule 8 with Japanese
holidays, and a draft of the report's nine items. Core: no platform is imported here; the
terminal, Slack and Teams render what these modules return."""
