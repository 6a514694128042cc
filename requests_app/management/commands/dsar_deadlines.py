"""Print every legal clock that applies to a request (the engine of requests_app.deadlines)."""
import json

from django.core.management.base import BaseCommand, CommandError

from requests_app import regimes as R
from requests_app.deadlines import calculate, explain_text


class Command(BaseCommand):
    help = "Compute the legal deadlines of a request: dsar_deadlines --jurisdiction US-CA --type access --received 2026-03-02"

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction", required=True, help="ISO 3166-1 alpha-2 or US state (US-CA)")
        parser.add_argument("--type", required=True, dest="request_type", help="request type code of the regime")
        parser.add_argument("--received", required=True,
                            help="date (local to the jurisdiction) or ISO datetime with offset; lfpdppp: "
                                 "the complete request; nrs603a: the verified request")
        parser.add_argument("--decision-sent", help="date the decision was sent (appeal window)")
        parser.add_argument("--appeal-received", help="date the appeal was received (appeal decision clock)")
        parser.add_argument("--communicated", help="lfpdppp: date admissibility was communicated (effective clock)")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON object (each clock with its derivation)")
        parser.add_argument("--explain", action="store_true",
                            help="show how each date was reached, step by step, with the law's source")

    def handle(self, *args, **opts):
        try:
            result = calculate(opts["jurisdiction"], opts["request_type"], opts["received"],
                               decision_sent=opts["decision_sent"], appeal_received=opts["appeal_received"],
                               communicated=opts["communicated"])
        except (R.RegimeError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        clocks = result["clocks"]
        if opts["json"]:
            self.stdout.write(json.dumps({
                "regime": result["regime"], "request_type": result["request_type"],
                "jurisdiction": result["jurisdiction"], "calendar": result["calendar"],
                "clocks": {name: c.as_json() for name, c in clocks.items()},
            }, ensure_ascii=False))
            return
        regime = R.regime(result["regime"])
        self.stdout.write(f"{result['jurisdiction']} → {regime.code} ({regime.law}), request type "
                          f"{result['request_type']}, time zone {result['timezone']}")
        if not clocks:
            self.stdout.write("No clock starts from the dates given.")
        for name, c in clocks.items():
            ext = f"; extendable to {c.extended_due:%a %Y-%m-%d}" if c.extended_due else "; no extension"
            self.stdout.write(f"  {name:<20} due {c.due:%a %Y-%m-%d} (start {c.start}, {c.rule.period}"
                              f"{', rolled to a working day' if c.rule.roll_forward else ''}){ext}  [{c.rule.source}]")
            if opts["explain"]:
                self.stdout.write(_indent(explain_text(c.derivation)))
                if c.extended_derivation:
                    self.stdout.write(f"  {name} if extended:")
                    self.stdout.write(_indent(explain_text(c.extended_derivation)))


def _indent(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.splitlines())
