"""serialization = "advanced" against Node's setupPrimary({serialization:
'advanced'}) (docs/compatibility.md, "the channel"): the same worker script
(workers/advanced.js) sends its primary a message holding a Buffer, a Map, a
Set, a Date, a BigInt, undefined, a typed array and a cycle; the primary
sends it back; what the worker then holds inspects the same under both.
Under musterd the way back is the operator's: the `message` event's JSON
rendering, given to `musterctl send` as it is. The cluster events of a
worker (online, listening, disconnect, exit) are those of json mode."""

import json
import os
import unittest

import compat_support as cs
from compat_support import harness, ns

SCRIPT = os.path.join(cs.HERE, "workers", "advanced.js")
CHECKS = {"buffer": True, "map": True, "set": True, "date": True, "bigint": True,
          "undef": True, "cycle": True, "u16": True}


def with_key(key):
    return lambda e: isinstance(e.get("message"), dict) and key in e["message"]


class AdvancedSerialization(cs.TestCase):
    def under_node(self):
        p = self.node_primary(SCRIPT, instances=1, env={"COMPAT_SERIALIZATION": "advanced"})
        p.wait_events("listening", 1)
        sent = p.wait_events("message", 1)[0]
        p.command(cmd="echo", id=1)
        report = p.wait_events("message", 1, where=with_key("report"))[0]["message"]
        p.command(cmd="disconnect", id=1)
        p.wait_events("exit", 1)
        kinds = [e["event"] for e in p.events if e["event"] != "message"]
        exit_event = [e for e in p.events if e["event"] == "exit"][0]
        return sent, report, kinds, exit_event

    def under_musterd(self):
        d = self.daemon()
        d.start(harness.app("adv", ns.NODE, args=[SCRIPT], protocol="node",
                            serialization="advanced"))
        (w,) = ns.wait_listening(d, "adv", 1)
        (sent,) = ns.wait_messages(d, "payload", 1, app="adv")
        rc, out, err = d.ctl("send", w["id"], "-", input=json.dumps(sent))
        self.assertEqual((rc, err), (0, ""), out)
        (report,) = ns.wait_messages(d, "report", 1, app="adv")
        rc, _, err = d.ctl("disconnect", w["id"])
        self.assertEqual((rc, err), (0, ""))
        ns.wait_event(d, event="exit", app="adv")
        kinds = [e["event"] for e in d.events(app="adv", id=w["id"])
                 if e["event"] in ("online", "listening", "disconnect", "exit")]
        exit_event = d.events(event="exit", app="adv")[0]
        return sent, report, kinds, exit_event

    def test_a_message_json_cannot_hold_round_trips_identically_under_both(self):
        _, node_report, _, _ = self.under_node()
        sent, report, _, _ = self.under_musterd()
        self.assertEqual(node_report["checks"], CHECKS)
        self.assertEqual(report["checks"], CHECKS)
        self.assertEqual(report["report"], node_report["report"])
        # What the operator saw: the documented rendering.
        payload = sent["payload"]
        self.assertEqual(payload["buf"], {"$buffer": "AAEC/w=="})
        self.assertEqual(payload["map"], {"$map": [["k", 1], [2, "two"]]})
        self.assertEqual(payload["set"], {"$set": ["a", 3]})
        self.assertEqual(payload["date"], {"$date": 1700000000000})
        self.assertEqual(payload["big"], {"$bigint": "12345678901234567890"})
        self.assertEqual(payload["undef"], {"$undefined": True})
        self.assertEqual(payload["list"], [1, {"$undefined": True}, "x"])
        self.assertEqual(payload["u16"], {"$typedarray": "Uint16Array", "base64": "AQD//w=="})
        self.assertEqual(payload["self"], {"$ref": 1})

    def test_the_cluster_events_are_those_of_json_mode(self):
        _, _, node_kinds, node_exit = self.under_node()
        _, _, kinds, exit_event = self.under_musterd()
        expected = ["online", "listening", "disconnect", "exit"]
        self.assertEqual([k for k in node_kinds if k in expected], expected)
        self.assertEqual(kinds, expected)
        self.assertTrue(node_exit["exitedAfterDisconnect"])
        self.assertEqual(exit_event.get("exitedAfterDisconnect"), True, exit_event)
        self.assertEqual((exit_event.get("code"), node_exit["code"]), (0, 0))

    def test_musterctl_send_refuses_a_rendering_it_cannot_convert(self):
        d = self.daemon()
        d.start(harness.app("adv", ns.NODE, args=[SCRIPT], protocol="node",
                            serialization="advanced"))
        (w,) = ns.wait_listening(d, "adv", 1)
        rc, _, err = d.ctl("send", w["id"], "-", input='{"$nope": 1}')
        self.assertNotEqual(rc, 0)
        self.assertIn('unknown "$nope"', err)
        # The worker's channel is untouched: a good message still goes.
        rc, _, err = d.ctl("send", w["id"], "-", input='{"payload": {"$set": [1]}}')
        self.assertEqual((rc, err), (0, ""))
        ns.wait_messages(d, "report", 1, app="adv")


class ByteExactRelay(cs.TestCase):
    def test_a_relayed_message_passes_between_advanced_workers_as_it_came(self):
        # An Error is a value muster does not read: only the bytes as they
        # came can bring it to the other worker as an Error.
        d = self.daemon()
        d.start(harness.app("adv", ns.NODE, args=[SCRIPT], protocol="node", instances=2,
                            relay=True, serialization="advanced"))
        a, b = ns.wait_listening(d, "adv", 2)
        rc, _, err = d.ctl("send", a["id"], "-", input='{"cmd": "send-error"}')
        self.assertEqual((rc, err), (0, ""))
        (got,) = ns.wait_messages(d, "got", 1, app="adv")
        self.assertEqual(got, {"got": {"isError": True, "message": "boom"}, "worker": b["id"]})
        # The operator sees what it is, by name.
        (shown,) = ns.wait_messages(d, "$unsupported", 1, app="adv")
        self.assertEqual(shown, {"$unsupported": "unsupported V8 value: tag 'r' (0x72, Error)"})


if __name__ == "__main__":
    unittest.main()
