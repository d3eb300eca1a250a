#!/usr/bin/env python3
"""Independent ledger verifier, written from docs/ledger-format.md alone (Python 3 standard library only).

Usage:
  verify.py chain FILE.jsonl [--head HEIGHT:HASH]   verify a JSON Lines export (doc sections 5 and 6)
  verify.py proof FILE.json                           verify a transaction proof (doc section 8)
  verify.py consistency OLD.json NEW.json PROOF.json  verify digest consistency (doc section 7); PROOF.json
                                                      is a list of hashes or a served {from, to, proof}
  verify.py signed-digest FILE.json KEY.pem           check a signed digest (doc section 10)
  verify.py --version                                 the ledger format version this verifier implements

Prints one JSON object on stdout; exit status 0 when valid, 1 when not, 2 on usage errors.
"""
import base64
import hashlib
import json
import math
import re
import sys
from decimal import Decimal

FORMAT_VERSION = 3
MAX_INT = 2 ** 53 - 1

# --- RFC 8785 canonical JSON (doc section 1) ---------------------------------------------------------


def es_number(x):
    """ECMAScript Number::toString of a finite double (RFC 8785 section 3.2.2.3)."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number")
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("non-finite number")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + es_number(-x)
    # repr() gives the shortest digits that round-trip, as ECMAScript requires.
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    s = "".join(map(str, digits))
    k = len(s)
    n = exponent + k
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return mantissa + "e" + ("+" if e > 0 else "-") + str(abs(e))


def canonical_text(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return es_number(v)
    if isinstance(v, str):
        # json.dumps escapes exactly ", \, \b \f \n \r \t and other controls as lowercase \u00xx.
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canonical_text(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))  # UTF-16 code unit order
        return "{" + ",".join(canonical_text(k) + ":" + canonical_text(v[k]) for k in keys) + "}"
    raise TypeError("not JSON: %r" % (v,))


def canonical(v):
    return canonical_text(v).encode("utf-8")


# --- RFC 9162 Merkle trees (doc section 4) -----------------------------------------------------------


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaf_hashes):
    """Tree head from leaf hashes, by the RFC's recursive definition (split at the largest power of 2 < n)."""
    n = len(leaf_hashes)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


class CompactTree:
    """Roots of the perfect subtrees of the leaves seen so far; the same MTH in O(log n) memory."""

    def __init__(self):
        self.stack = []  # (size, hash), largest first
        self.size = 0

    def append(self, h):
        node, size = h, 1
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            node, size = node_hash(left, node), size * 2
        self.stack.append((size, node))
        self.size += 1

    def root(self):
        if not self.stack:
            return sha256(b"")
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 section 2.1.4.2, with the equal-size and empty-tree cases of doc section 7."""
    if first > second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof and first_hash == sha256(b"")
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_hash and sr == second_hash


# --- Structure (doc sections 2 and 3) ----------------------------------------------------------------

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")
HEADER = ("height", "timestamp", "previous_hash", "merkle_root", "transaction_count")
BLOCK = set(HEADER) | {"block_hash", "transactions"}
TX = {"transaction_id", "timestamp", "task_id", "vm_id", "status", "algorithm", "score", "reason",
      "task_requirements", "vm_state_before", "vm_state_after"}
GENESIS = {
    "height": 0, "timestamp": "1970-01-01T00:00:00.000Z", "previous_hash": "0" * 64,
    "merkle_root": hashlib.sha256(b"").hexdigest(), "transaction_count": 0, "transactions": [],
}


def reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def unique_members(pairs):
    """Doc section 6.1: a repeated member name makes the text malformed (Python would keep the last)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate member name %s" % json.dumps(k))
        out[k] = v
    return out


def loads(text):
    return json.loads(text, parse_constant=reject_constant, object_pairs_hook=unique_members)


def is_int(v):
    """Doc section 1.1: a whole number 0..2^53-1, however written (1, 1.0 and 1e0 are the same number)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return 0 <= v <= MAX_INT
    return isinstance(v, float) and v.is_integer() and 0 <= v <= MAX_INT


def is_num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def is_str(v):
    return isinstance(v, str)


def utf16_len(s):
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def text_ok(v, lo, hi):
    return is_str(v) and lo <= utf16_len(v) <= hi


DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def timestamp_ok(v):
    """Doc section 2: YYYY-MM-DDTHH:MM:SS.mmmZ, a real instant of the proleptic Gregorian calendar, years
    0000-9999 (0000 is a leap year), seconds 00-59 (no leap second). Not datetime: it has no year 0."""
    if not (is_str(v) and TIMESTAMP.match(v)):
        return False
    year, month, day = int(v[0:4]), int(v[5:7]), int(v[8:10])
    if not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = 29 if month == 2 and leap else DAYS[month - 1]
    return day <= days and int(v[11:13]) <= 23 and int(v[14:16]) <= 59 and int(v[17:19]) <= 59


def vector_ok(v):
    return isinstance(v, dict) and "__proto__" not in v and all(is_num(x) for x in v.values())


def int_list_ok(v, lo, hi):
    """Doc section 2.4: devices and gpus are arrays of 1-64 integers in [lo, hi]."""
    return isinstance(v, list) and 1 <= len(v) <= 64 and all(is_int(x) and lo <= x <= hi for x in v)


def snapshot_ok(v):
    if v is None:
        return True
    base = {"reserved", "usage", "active_tasks"}
    if not isinstance(v, dict) or set(v) not in (base, base | {"gpus"}):
        return False
    if "gpus" in v and not int_list_ok(v["gpus"], 0, 1000):
        return False
    return vector_ok(v["reserved"]) and vector_ok(v["usage"]) and is_int(v["active_tasks"])


SIGNAL = re.compile(r"SIG[A-Z0-9]{1,14}\Z")
OPTIONAL_TX = {"devices", "format_version", "outcome"}


def outcome_ok(v):
    """Doc section 2.5: exactly the four members, each of its type."""
    if not isinstance(v, dict) or set(v) != {"exit_code", "signal", "duration_ms", "output_sha256"}:
        return False
    return (
        (v["exit_code"] is None or (is_int(v["exit_code"]) and v["exit_code"] <= 255))
        and (v["signal"] is None or (is_str(v["signal"]) and SIGNAL.match(v["signal"]) is not None))
        and is_int(v["duration_ms"])
        and is_str(v["output_sha256"])
        and re.fullmatch(r"[0-9a-f]{64}", v["output_sha256"]) is not None
    )


def transaction_problem(t):
    if not isinstance(t, dict) or not TX <= set(t) or not set(t) <= TX | OPTIONAL_TX:
        return "transaction members"
    checks = {
        "transaction_id": is_str(t["transaction_id"]) and HEX32.match(t["transaction_id"]),
        "timestamp": timestamp_ok(t["timestamp"]),
        "task_id": is_str(t["task_id"]) and TASK_ID.match(t["task_id"]),
        "vm_id": t["vm_id"] is None or text_ok(t["vm_id"], 1, 256),
        "status": t["status"] in ("assigned", "rejected", "completed", "failed", "expired"),
        "algorithm": text_ok(t["algorithm"], 1, 128),
        "score": t["score"] is None or is_num(t["score"]),
        "reason": text_ok(t["reason"], 0, 4096),
        "task_requirements": vector_ok(t["task_requirements"]),
        "vm_state_before": snapshot_ok(t["vm_state_before"]),
        "vm_state_after": snapshot_ok(t["vm_state_after"]),
        "devices": "devices" not in t or int_list_ok(t["devices"], 0, 63),
        "format_version": "format_version" not in t or (is_int(t["format_version"]) and t["format_version"] == 3),
        "outcome": "outcome" not in t or outcome_ok(t["outcome"]),
    }
    bad = [k for k, ok in checks.items() if not ok]
    return bad[0] if bad else None


def relation_problem(t):
    """Doc section 2.2: which members a rejection, an assignment and a closing must (not) have."""
    st = t["status"]
    if st == "rejected":
        for k in ("vm_id", "score", "vm_state_before", "vm_state_after"):
            if t[k] is not None:
                return k
    elif st == "assigned":
        for k in ("vm_id", "vm_state_before", "vm_state_after"):
            if t[k] is None:
                return k
    else:
        if t["vm_id"] is None:
            return "vm_id"
        if t["score"] is not None:
            return "score"
        if (t["vm_state_before"] is None) != (t["vm_state_after"] is None):
            return "vm_state_after"
    return outcome_problem(t) or device_problem(t)


def outcome_problem(t):
    """Doc section 2.5: failed and outcome need format_version 3; outcome only on completed/failed,
    always on failed; exactly one of exit_code and signal; completed exits 0, failed does not."""
    st, o = t["status"], t.get("outcome")
    if "format_version" not in t:
        return "status" if st == "failed" else ("outcome" if o is not None else None)
    if o is None:
        return "outcome" if st == "failed" else None
    if st not in ("completed", "failed"):
        return "outcome"
    if (o["exit_code"] is None) == (o["signal"] is None):
        return "outcome.signal"
    if st == "completed" and o["exit_code"] != 0:
        return "outcome.exit_code"
    if st == "failed" and o["exit_code"] == 0:
        return "outcome.exit_code"
    return None


def device_problem(t):
    """Doc section 2.4: gpus in both snapshots or neither; devices on an assignment or its closing,
    and then the task's gpu spread evenly over them is added to (assigned) or taken from (completed,
    expired) exactly those devices, each staying from 0 to 1000."""
    before = (t["vm_state_before"] or {}).get("gpus")
    after = (t["vm_state_after"] or {}).get("gpus")
    if (before is None) != (after is None) or (before is not None and len(before) != len(after)):
        return "vm_state_after.gpus"
    devices = t.get("devices")
    if devices is None:
        return "vm_state_after.gpus" if before is not None and before != after else None
    if t["status"] == "rejected":
        return "devices"
    if t["vm_state_before"] is not None and before is None:
        return "vm_state_before.gpus"
    for k, d in enumerate(devices):
        if (before is not None and d >= len(before)) or (k > 0 and d <= devices[k - 1]):
            return "devices.%d" % k
    gpu = t["task_requirements"].get("gpu", 0)
    milli = gpu / len(devices)
    if not (milli == int(milli) and 0 < milli <= 1000 and (len(devices) == 1 or milli == 1000)):
        return "task_requirements.gpu"
    if before is None:
        return None
    sign = 1 if t["status"] == "assigned" else -1
    for d in range(len(before)):
        expected = before[d] + sign * milli if d in devices else before[d]
        if after[d] != expected or not 0 <= expected <= 1000:
            return "vm_state_after.gpus.%d" % d
    return None


def block_problem(b):
    if not isinstance(b, dict) or set(b) != BLOCK:
        return "block members"
    for k in ("height", "transaction_count"):
        if not is_int(b[k]):
            return k
    for k in ("previous_hash", "merkle_root", "block_hash"):
        if not (is_str(b[k]) and HEX64.match(b[k])):
            return k
    if not timestamp_ok(b["timestamp"]):
        return "timestamp"
    if not isinstance(b["transactions"], list):
        return "transactions"
    for i, t in enumerate(b["transactions"]):
        p = transaction_problem(t)
        if p:
            return "transactions.%d.%s" % (i, p)
    return None


def transaction_id(task_id, phase):
    tag = b"bcs/transaction-id/v1\x00" + phase.encode() + b"\x00" + task_id.encode("utf-8")
    return hashlib.sha256(tag).hexdigest()[:32]


def header_hash(b):
    return sha256(canonical({k: b[k] for k in HEADER}))


# --- Chain verification (doc section 5) and digest (section 7) ---------------------------------------


def verify_chain(lines, head=None, digest=None):
    """Doc sections 5 and 6; `lines` are raw bytes lines. `digest`: a trusted digest (section 7)."""
    tree, seen, prev, count, txs, last = CompactTree(), set(), None, 0, 0, None
    assigned = {}  # decision transaction id -> vm_id of each assigned decision
    hash_at_head_height = None

    def report(problem=None, at=None, detail=None):
        out = {"valid": problem is None, "height": count - 1, "head_hash": last, "blocks_checked": count,
               "transactions_checked": txs, "first_bad_height": at, "problem": problem, "detail": detail}
        if problem is None:
            out["blocks_root"] = tree.root().hex()
        return out

    for number, raw in enumerate(lines, 1):
        raw = raw[:-1] if raw.endswith(b"\n") else raw
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        if raw == b"":  # only an empty line is skipped (section 6.1)
            continue
        try:
            b = loads(raw.decode("utf-8"))
            p = block_problem(b)
            if p is None:
                canonical(b)  # a lone surrogate has no UTF-8 form
        except (ValueError, UnicodeError) as e:
            return report("malformed", count, "line %d: %s" % (number, e))
        if p:
            return report("malformed", count, "line %d: %s" % (number, p))
        if b["height"] != count:
            return report("height-gap", count, "height %d at position %d" % (b["height"], count))
        if count == 0:
            if {k: b[k] for k in GENESIS} != GENESIS or b["block_hash"] != header_hash(b).hex():
                return report("bad-genesis", 0)
        elif b["previous_hash"] != prev:
            return report("broken-link", count)
        if b["transaction_count"] != len(b["transactions"]):
            return report("wrong-transaction-count", count)
        root = mth([leaf_hash(canonical(t)) for t in b["transactions"]])
        if root.hex() != b["merkle_root"]:
            return report("wrong-merkle-root", count)
        h = header_hash(b)
        if h.hex() != b["block_hash"]:
            return report("wrong-block-hash", count)
        for t in b["transactions"]:
            closing = t["status"] in ("completed", "failed", "expired")
            if transaction_id(t["task_id"], "close" if closing else "decision") != t["transaction_id"]:
                return report("malformed", count, "transaction_id not derived from task_id and status")
            bad = relation_problem(t)
            if bad:
                return report("malformed", count, "%s breaks the relations of section 2.2" % bad)
            if t["transaction_id"] in seen:
                return report("duplicate-transaction", count)
            if closing and assigned.get(transaction_id(t["task_id"], "decision")) != t["vm_id"]:
                return report("unmatched-closing", count)
            seen.add(t["transaction_id"])
            if t["status"] == "assigned":
                assigned[t["transaction_id"]] = t["vm_id"]
        tree.append(leaf_hash(h))
        prev = last = b["block_hash"]
        if head is not None and count == head[0]:
            hash_at_head_height = last
        count += 1
        txs += len(b["transactions"])
        if digest is not None and count == digest["height"] + 1:
            if last != digest["head_hash"]:
                return report("digest-mismatch", digest["height"])
            if tree.root().hex() != digest["blocks_root"] or txs != digest["transaction_count"]:
                return report("inconsistent-with-digest", digest["height"])
    if count == 0:
        return report("bad-genesis", 0, "empty chain")
    if digest is not None and digest["height"] >= count:
        return report("digest-mismatch", count)
    if head is not None and (head[0] != count - 1 or head[1] != last):
        # The first block that differs from the expected history.
        if hash_at_head_height is None:
            first_bad = count
        elif hash_at_head_height != head[1]:
            first_bad = head[0]
        else:
            first_bad = head[0] + 1
        return report("head-mismatch", first_bad)
    return report()


# --- Digests and signed digests (doc sections 7 and 10) ----------------------------------------------

DIGEST = {"height", "head_hash", "tree_size", "blocks_root", "transaction_count", "timestamp"}
SIGNED = DIGEST | {"format", "key_id", "signing_algorithm", "signature"}
BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
KEY_ID = re.compile(r"^[\x21-\x7e]{1,2048}$")


def digest_problem(d):
    if not isinstance(d, dict) or set(d) != DIGEST:
        return "digest members"
    for k in ("height", "tree_size", "transaction_count"):
        if not is_int(d[k]):
            return k
    for k in ("head_hash", "blocks_root"):
        if not (is_str(d[k]) and HEX64.match(d[k])):
            return k
    if not timestamp_ok(d["timestamp"]):
        return "timestamp"
    if d["tree_size"] != d["height"] + 1:
        return "tree_size"
    return None


# P-256 (SEC 2 section 2.4.2), for ECDSA verification with integers only (FIPS 186-4 section 6.4.2).
P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
A = P - 3
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def ec_mul(k, point):
    out = None
    while k:
        if k & 1:
            out = ec_add(out, point)
        point, k = ec_add(point, point), k >> 1
    return out


def der_signature(sig):
    """Strict DER Ecdsa-Sig-Value (RFC 3279): SEQUENCE of two minimal positive INTEGERs, nothing after."""
    if len(sig) < 8 or sig[0] != 0x30 or sig[1] != len(sig) - 2 or sig[1] > 0x7f:
        return None
    out, i = [], 2
    for _ in range(2):
        if i + 2 > len(sig) or sig[i] != 0x02:
            return None
        n = sig[i + 1]
        v = sig[i + 2:i + 2 + n]
        if n == 0 or len(v) != n or v[0] & 0x80 or (n > 1 and v[0] == 0 and not v[1] & 0x80):
            return None
        out.append(int.from_bytes(v, "big"))
        i += 2 + n
    return tuple(out) if i == len(sig) else None


def spki_point(pem):
    """The (x, y) of an uncompressed P-256 SPKI public key (a 91-byte DER with a fixed 26-byte prefix)."""
    body = "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    prefix = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
    if len(der) != 91 or not der.startswith(prefix) or der[26] != 4:
        raise ValueError("not an uncompressed P-256 SPKI public key")
    return der, (int.from_bytes(der[27:59], "big"), int.from_bytes(der[59:91], "big"))


def verify_signed_digest(d, pem):
    """Doc section 10.2, in its order: malformed-digest, key-id-mismatch, high-s-signature, bad-signature."""
    if not isinstance(d, dict) or set(d) != SIGNED:
        return "malformed-digest"
    if digest_problem({k: d[k] for k in DIGEST}):
        return "malformed-digest"
    fmt = d["format"]
    if fmt not in ("bcs-signed-digest/2", "bcs-signed-digest/1") or d["signing_algorithm"] != "ECDSA_SHA_256":
        return "malformed-digest"
    if not (is_str(d["key_id"]) and KEY_ID.match(d["key_id"])):
        return "malformed-digest"
    if fmt == "bcs-signed-digest/2" and not FINGERPRINT.match(d["key_id"]):
        return "malformed-digest"
    sig_text = d["signature"]
    if not (is_str(sig_text) and BASE64.match(sig_text) and 12 <= len(sig_text) <= 96):
        return "malformed-digest"
    der, (qx, qy) = spki_point(pem)
    if (fmt == "bcs-signed-digest/2" or FINGERPRINT.match(d["key_id"])) and \
            d["key_id"] != "sha256:" + hashlib.sha256(der).hexdigest():
        return "key-id-mismatch"
    rs = der_signature(base64.b64decode(sig_text))
    if rs is None:
        return "bad-signature"
    r, s_ = rs
    if not (0 < r < N and 0 < s_ < N):
        return "bad-signature"
    if fmt == "bcs-signed-digest/2" and s_ > N // 2:
        return "high-s-signature"
    statement = canonical({k: v for k, v in d.items() if k != "signature"})
    e = int.from_bytes(hashlib.sha256(statement).digest(), "big")
    w = pow(s_, -1, N)
    point = ec_add(ec_mul(e * w % N, G), ec_mul(r * w % N, (qx, qy)))
    if point is None or point[0] % N != r:
        return "bad-signature"
    return None


def verify_proof(p):
    """Doc section 8, steps 1-4 (step 5, trusting the digest, is the caller's)."""
    hdr, d = p["block_header"], p["digest"]
    if p["height"] != hdr["height"] or p["height"] >= d["tree_size"] or d["tree_size"] != d["height"] + 1:
        return False
    tx_leaf = leaf_hash(canonical(p["transaction"]))
    if not verify_inclusion(tx_leaf, p["index"], hdr["transaction_count"],
                            [bytes.fromhex(x) for x in p["tx_proof"]], bytes.fromhex(hdr["merkle_root"])):
        return False
    h = header_hash(hdr)
    if p["height"] == d["height"] and h.hex() != d["head_hash"]:
        return False
    return verify_inclusion(leaf_hash(h), p["height"], d["tree_size"],
                            [bytes.fromhex(x) for x in p["block_proof"]], bytes.fromhex(d["blocks_root"]))


def consistency_problem(old, new, served):
    """Doc section 7.2: a served proof {from, to, proof} or a bare list of hashes, from OLD to NEW."""
    if digest_problem(old) or digest_problem(new):
        return "malformed-digest"
    proof = served
    if isinstance(served, dict):
        if set(served) != {"from", "to", "proof"} or digest_problem(served["from"]) or digest_problem(served["to"]):
            return "malformed-proof"
        same = ("tree_size", "head_hash", "blocks_root", "transaction_count")
        if any(served["from"][k] != old[k] for k in same) or any(served["to"][k] != new[k] for k in same):
            return "inconsistent-with-digest"
        proof = served["proof"]
    if not isinstance(proof, list) or len(proof) > 128 or not all(is_str(x) and HEX64.match(x) for x in proof):
        return "malformed-proof"
    ok = (old["tree_size"] <= new["tree_size"] and old["transaction_count"] <= new["transaction_count"]
          and (old["tree_size"] != new["tree_size"] or old["head_hash"] == new["head_hash"])
          and verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["blocks_root"]),
                                 bytes.fromhex(new["blocks_root"]), [bytes.fromhex(x) for x in proof]))
    return None if ok else "inconsistent-with-digest"


def load_file(path):
    with open(path, "rb") as f:
        return loads(f.read().decode("utf-8"))


def main(argv):
    if argv == ["--version"]:
        print(json.dumps({"format_version": FORMAT_VERSION}))
        return 0
    if len(argv) >= 2 and argv[0] == "chain":
        head = digest = None
        rest = argv[2:]
        while len(rest) >= 2:
            if rest[0] == "--head":
                height, _, hash_hex = rest[1].partition(":")
                head = (int(height), hash_hex)
            elif rest[0] == "--digest":
                digest = load_file(rest[1])
                if digest_problem(digest):
                    print(json.dumps({"valid": False, "problem": "malformed-digest"}))
                    return 1
            else:
                break
            rest = rest[2:]
        if rest:
            sys.stderr.write(__doc__)
            return 2
        with open(argv[1], "rb") as f:
            result = verify_chain(f, head, digest)
        ok = result["valid"]
    elif len(argv) == 2 and argv[0] == "proof":
        with open(argv[1], encoding="utf-8") as f:
            ok = verify_proof(json.load(f))
        result = {"valid": ok}
    elif len(argv) == 4 and argv[0] == "consistency":
        try:
            old, new, proof = (load_file(a) for a in argv[1:])
        except (ValueError, UnicodeError) as e:
            result = {"valid": False, "problem": "malformed-proof", "detail": str(e)}
        else:
            problem = consistency_problem(old, new, proof)
            result = {"valid": problem is None, "problem": problem}
        ok = result["valid"]
    elif len(argv) == 3 and argv[0] == "signed-digest":
        with open(argv[2], encoding="utf-8") as f:
            pem = f.read()
        try:
            problem = verify_signed_digest(load_file(argv[1]), pem)
        except (ValueError, UnicodeError):
            problem = "malformed-digest"
        result = {"valid": problem is None, "problem": problem}
        ok = result["valid"]
    else:
        sys.stderr.write(__doc__)
        return 2
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
