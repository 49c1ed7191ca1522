#!/usr/bin/env python3
"""Strict checker for an Autobahn|Testsuite report directory.

    python3 autobahn/check.py REPORT_DIR AGENT [--expected N] [--allow BEHAVIOR]...

Reads REPORT_DIR/index.json, written by `wstest -m fuzzingclient` (server
role) or by `wstest -m fuzzingserver` on /updateReports (client role):

    {agent: {case_id: {"behavior": ..., "behaviorClose": ..., "duration": ...,
                       "reportfile": ...}}}

Exits 0 only if AGENT has at least EXPECTED_CASES cases and every case's
behavior and behaviorClose is OK or INFORMATIONAL (plus any --allow'ed
behaviour, e.g. --allow UNIMPLEMENTED while permessage-deflate is missing).
Other behaviours the suite reports: NON-STRICT, FAILED, UNIMPLEMENTED,
WRONG CODE, UNCLEAN.  Exits 1 on any failure, 2 on bad usage.
"""

import argparse
import json
import os
import sys
from collections import Counter

# Number of cases `wstest` 25.10.1 runs for cases ["*"], exclude-cases []:
# len(CaseSet.parseSpecCases(...)) over autobahntestsuite.case.Cases, which is
# 1.*: 16, 2.*: 11, 3.*: 7, 4.*: 10, 5.*: 20, 6.*: 145, 7.*: 37, 9.*: 54,
# 10.*: 1, 12.*: 90, 13.*: 126  (12.* and 13.* are permessage-deflate).
EXPECTED_CASES = 517

PASSING = ("OK", "INFORMATIONAL")


def case_key(case_id):
    """Sort "1.1.10" after "1.1.9"."""
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def fmt_counts(counter):
    order = ["OK", "INFORMATIONAL", "NON-STRICT", "UNIMPLEMENTED", "WRONG CODE",
             "UNCLEAN", "FAILED"]
    keys = sorted(counter, key=lambda k: (order.index(k) if k in order else len(order), k))
    return ", ".join("%s %d" % (k, counter[k]) for k in keys) or "none"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report_dir")
    ap.add_argument("agent")
    ap.add_argument("--expected", type=int, default=EXPECTED_CASES,
                    help="minimum number of cases (default %(default)s)")
    ap.add_argument("--allow", action="append", default=[], metavar="BEHAVIOR",
                    help="also accept this behaviour (repeatable); default: only OK, INFORMATIONAL")
    ap.add_argument("--role", help="label for the summary (default: REPORT_DIR's basename)")
    args = ap.parse_args(argv)

    role = args.role or os.path.basename(os.path.normpath(args.report_dir))
    accepted = set(PASSING) | {a.upper() for a in args.allow}
    index_path = os.path.join(args.report_dir, "index.json")

    def fail(msg):
        print("%s: FAIL: %s" % (role, msg))
        return 1

    try:
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
    except FileNotFoundError:
        return fail("%s not found (wstest wrote no report: did the run start, "
                    "and for the client role did the client call /updateReports?)" % index_path)
    except (OSError, ValueError) as e:
        return fail("cannot read %s: %s" % (index_path, e))

    if not isinstance(index, dict) or args.agent not in index:
        agents = sorted(index) if isinstance(index, dict) else []
        return fail("agent %r not in %s (agents present: %s)"
                    % (args.agent, index_path, ", ".join(map(repr, agents)) or "none"))

    cases = index[args.agent]
    ids = sorted(cases, key=case_key)
    behavior = Counter(cases[c].get("behavior") for c in ids)
    behavior_close = Counter(cases[c].get("behaviorClose") for c in ids)

    print("%s: %d cases: %s" % (role, len(ids), fmt_counts(behavior)))
    print("%s: behaviorClose: %s" % (role, fmt_counts(behavior_close)))

    failing, informational = [], []
    for c in ids:
        b, bc = cases[c].get("behavior"), cases[c].get("behaviorClose")
        if b == "OK" and bc == "OK":
            continue
        line = "  %-8s behavior=%-13s behaviorClose=%-13s %s" % (
            c, b, bc, os.path.join(args.report_dir, (cases[c].get("reportfile") or "").replace(".json", ".html")))
        (informational if b in accepted and bc in accepted else failing).append(line)

    if informational:
        print("%s: %d case(s) not OK but accepted:" % (role, len(informational)))
        print("\n".join(informational))
    if failing:
        print("%s: %d FAILING case(s):" % (role, len(failing)))
        print("\n".join(failing))

    status = 0
    if len(ids) < args.expected:
        status = fail("only %d cases in the report, expected %d (the run stopped early: "
                      "crash, dropped connection or timeout?)" % (len(ids), args.expected))
    elif len(ids) > args.expected:
        print("%s: note: %d cases, more than the expected %d (update EXPECTED_CASES in %s?)"
              % (role, len(ids), args.expected, os.path.relpath(__file__)))
    if failing:
        status = fail("%d case(s) with a behavior other than %s"
                      % (len(failing), "/".join(sorted(accepted))))
    if status == 0:
        print("%s: PASS (HTML report: %s)" % (role, os.path.join(args.report_dir, "index.html")))
    else:
        print("%s: HTML report: %s" % (role, os.path.join(args.report_dir, "index.html")))
    return status


if __name__ == "__main__":
    sys.exit(main())
